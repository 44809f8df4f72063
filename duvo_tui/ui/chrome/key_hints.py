"""The bottom line: the keys that work where the focus is.

A single widget that renders the active bindings as one line of text. Textual's ``Footer`` recomposes a
widget per key on every focus change, which costs a noticeable fraction of a second on a full dashboard.
"""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen
from textual.widget import Widget

__all__ = ["KeyHints"]


class KeyHints(Widget):
    """``key Description`` pairs of the bindings marked ``show``; the palette key at the right."""

    DEFAULT_CSS = """
    KeyHints {
        height: 1;
        dock: bottom;
        background: $footer-background;
        color: $footer-foreground;
    }
    """

    COMPONENT_CLASSES = {"key-hints--key", "key-hints--disabled"}
    DEFAULT_CLASSES = ""

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def _bindings_changed(self, screen: Screen) -> None:
        self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-hints--key")
        muted = self.get_component_rich_style("key-hints--disabled")
        text = Text(no_wrap=True, overflow="crop", end="")
        seen: set[str] = set()
        palette = ""
        pairs: list[Text] = []
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.action == "app.command_palette" or binding.key == self.app.COMMAND_PALETTE_BINDING:
                palette = self.app.get_key_display(binding)
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            pair = Text(end="")
            pair.append(f" {self.app.get_key_display(binding)} ", key_style if enabled else muted)
            pair.append(binding.description + " ", "" if enabled else muted)
            pairs.append(pair)
        width = self.size.width
        tail = f" {palette} palette " if palette else ""
        for pair in pairs:
            # Whole hints only: one that does not fit is left out, never cut mid-word.
            if width and text.cell_len + pair.cell_len + len(tail) > width:
                break
            text.append_text(pair)
        if tail and width:
            text.append(" " * max(0, width - text.cell_len - len(tail)))
            text.append(tail, key_style)
        return text
