"""The `?` screen: every key binding of the dashboard, grouped by where it works."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen", "help_text"]


def _bindings(items: Iterable[BindingType]) -> list[Binding]:
    out = []
    for item in items:
        if isinstance(item, Binding):
            out.append(item)
        elif isinstance(item, tuple) and len(item) >= 2:
            out.append(Binding(item[0], item[1], item[2] if len(item) > 2 else ""))
    return out


def help_text(sections: Sequence[tuple[str, Iterable[BindingType]]], key_display=None) -> Text:
    """The bindings of each (title, bindings) section as aligned lines."""
    text = Text()
    for title, items in sections:
        text.append(f"{title}\n", style="bold underline")
        for binding in _bindings(items):
            keys = ", ".join((key_display(k) if key_display else k) for k in binding.key.split(","))
            text.append(f"  {keys:<22}", style="bold")
            text.append(binding.description or binding.action)
            if binding.id:
                # The id is what the config's [keys] table remaps.
                text.append(f"  {binding.id}", style="dim")
            text.append("\n")
        text.append("\n")
    return text


class HelpScreen(ModalScreen[None]):
    """Lists every binding; escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close")]

    def __init__(self, sections: Sequence[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static(Text("Keys (esc closes; ctrl+p lists every command)\n", style="bold"))
            yield Static(help_text(self.sections, self._display))

    def _display(self, key: str) -> str:
        return self.app.get_key_display(Binding(key, ""))

    def action_close(self) -> None:
        self.dismiss(None)
