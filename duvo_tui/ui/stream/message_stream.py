"""A run's messages as a virtual view on the Line API: only the lines on screen are rendered.

The stream keeps per-message heights and their prefix sums; a screen line maps to its message by bisection.
A cursor selects one message (to expand, copy or search from). Follow mode keeps the newest message in view
until the user moves up.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate

from rich.text import Text
from textual import events
from textual.actions import SkipAction
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message as TextualMessage
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from duvo_tui.api.models import Message
from duvo_tui.ui.contrast import LegibleStyles
from duvo_tui.ui.stream.message_layout import (
    Layout,
    LineStyles,
    is_collapsible,
    message_lines,
    message_plain_text,
    wrapped_height,
)

__all__ = ["MessageStream"]


class MessageStream(ScrollView, can_focus=True):
    """The messages of one run, role-styled, with collapsible tool calls, results and thinking."""

    BINDINGS = [
        Binding("j,down", "cursor_down", "Next", show=False, id="messages.down"),
        Binding("k,up", "cursor_up", "Previous", show=False, id="messages.up"),
        Binding("g,home", "cursor_first", "First", show=False, id="messages.first"),
        Binding("G,end", "cursor_last", "Last + follow", show=False, id="messages.last"),
        Binding("pageup", "page_up", "Page up", show=False, id="messages.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="messages.page_down"),
        Binding(
            "enter,space",
            "toggle_expand",
            "Expand",
            id="messages.expand",
            tooltip="Expand or fold a tool call or the agent's thinking",
        ),
        Binding("f", "toggle_follow", "Follow", id="messages.follow", tooltip="Keep the newest message in view"),
        Binding("t", "toggle_timestamps", "Times", id="messages.timestamps", tooltip="Show or hide timestamps"),
        Binding("w", "toggle_wrap", "Wrap", id="messages.wrap", tooltip="Wrap long lines or scroll sideways"),
        Binding("y", "copy", "Copy", id="messages.copy", tooltip="Copy the selected message to the clipboard"),
        Binding("]", "search_next", "Next match", show=False, id="messages.search_next"),
        Binding("[", "search_previous", "Previous match", show=False, id="messages.search_previous"),
        # While a search is on, n/N move between matches; otherwise they fall through to the app's n and N.
        Binding("n", "match(True)", "Next match", show=False, id="messages.match_next"),
        Binding("N", "match(False)", "Previous match", show=False, id="messages.match_previous"),
    ]

    COMPONENT_CLASSES = {
        "message-stream--user",
        "message-stream--assistant",
        "message-stream--system",
        "message-stream--system-text",
        "message-stream--thinking",
        "message-stream--other",
        "message-stream--tool",
        "message-stream--result",
        "message-stream--error",
        "message-stream--time",
        "message-stream--muted",
        "message-stream--cursor",
        "message-stream--match",
        "message-stream--empty",
    }

    DEFAULT_CSS = """
    MessageStream {
        height: 1fr;
        overflow-y: auto;
        overflow-x: auto;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        & > .message-stream--user { color: $text-success; text-style: bold; }
        & > .message-stream--assistant { color: $text-accent; text-style: bold; }
        & > .message-stream--system { color: $text-primary; text-style: bold; }
        & > .message-stream--system-text { color: $text-primary; text-style: italic; }
        & > .message-stream--thinking { color: $text-muted; text-style: italic; }
        & > .message-stream--other { color: $text-warning; text-style: bold; }
        & > .message-stream--tool { color: $text-secondary; }
        & > .message-stream--result { color: $text-muted; }
        & > .message-stream--error { color: $text-error; }
        & > .message-stream--time { color: $text-muted; }
        & > .message-stream--muted { color: $text-muted; }
        & > .message-stream--cursor { background: $boost; }
        &:focus > .message-stream--cursor { background: $block-cursor-blurred-background; }
        & > .message-stream--match { background: $warning 40%; text-style: bold underline; }
        & > .message-stream--empty { color: $text-muted; text-style: italic; }
    }
    """

    follow: reactive[bool] = reactive(True)
    """Keep the newest message in view as messages arrive."""
    timestamps: reactive[bool] = reactive(False)
    """Show each message's time."""
    wrap: reactive[bool] = reactive(True)
    """Wrap long lines (else scroll sideways)."""

    @dataclass
    class StateChanged(TextualMessage):
        """Follow, wrap, timestamps, count or search changed (for the pane's status line)."""

        stream: MessageStream

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._messages: list[Message] = []
        self._heights: list[int] = []
        self._starts: list[int] = [0]
        self._expanded: set[int] = set()
        self._cursor = 0
        self._cache: LRUCache[int, list[Text]] = LRUCache(512)
        self._legible = LegibleStyles(self)  # the roles' styles, made legible on this theme's background
        self._layout = Layout(width=80)
        self._max_width = 0
        self._query: re.Pattern[str] | None = None
        self._query_text = ""
        self.run_id: str | None = None
        self.placeholder = "Select a run to see its messages"

    # --- data -----------------------------------------------------------------------------------------

    @property
    def message_count(self) -> int:
        return len(self._messages)

    @property
    def line_count(self) -> int:
        return self._starts[-1]

    @property
    def cursor(self) -> int:
        """Index of the selected message."""
        return self._cursor

    @property
    def search_query(self) -> str:
        return self._query_text

    def selected_message(self) -> Message | None:
        if 0 <= self._cursor < len(self._messages):
            return self._messages[self._cursor]
        return None

    def set_messages(self, run_id: str | None, messages: Sequence[Message]) -> None:
        """Show ``messages`` of ``run_id`` (replacing what was shown); follow mode is switched on."""
        self.run_id = run_id
        self._messages = list(messages)
        self._expanded.clear()
        self._cursor = max(0, len(self._messages) - 1)
        self.follow = True
        self._relayout()
        self._scroll_to_end()

    def append(self, messages: Sequence[Message], start: int | None = None) -> None:
        """Add messages at the end. ``start`` (their index in the run's stream) drops any already held."""
        if start is not None and start < len(self._messages):
            messages = messages[len(self._messages) - start :]
        if not messages:
            return
        layout = self._layout
        expanded = self._expanded
        first = len(self._messages)
        heights = [wrapped_height(m, first + i in expanded, layout) for i, m in enumerate(messages)]
        self._messages.extend(messages)
        self._heights.extend(heights)
        total = self._starts[-1]
        starts = self._starts
        for h in heights:
            total += h
            starts.append(total)
        self._update_virtual_size()
        if self.follow:
            self._cursor = len(self._messages) - 1
            self._scroll_to_end()
        self.refresh()
        self.post_message(self.StateChanged(self))

    def transcript(self) -> str:
        """Every message as plain text, expanded, one blank line apart."""
        return "\n\n".join(message_plain_text(m) for m in self._messages) + ("\n" if self._messages else "")

    def _relayout(self) -> None:
        layout = self._layout
        expanded = self._expanded
        self._heights = [wrapped_height(m, i in expanded, layout) for i, m in enumerate(self._messages)]
        self._starts = [0, *accumulate(self._heights)]
        self._cache.clear()
        self._max_width = 0
        self._update_virtual_size()
        self.refresh()
        self.post_message(self.StateChanged(self))

    def _update_height(self, index: int) -> None:
        height = wrapped_height(self._messages[index], index in self._expanded, self._layout)
        delta = height - self._heights[index]
        self._heights[index] = height
        if delta:
            starts = self._starts
            for i in range(index + 1, len(starts)):
                starts[i] += delta
        self._cache.discard(index)
        self._update_virtual_size()
        self.refresh()

    def _update_virtual_size(self) -> None:
        width = self.scrollable_content_region.width if self._layout.wrap else max(self._max_width, 1)
        size = Size(width, self.line_count)
        old = self.virtual_size
        if size == old:
            return
        height = self.scrollable_content_region.height
        if size.width == old.width and old.height > height and size.height > height and self.show_vertical_scrollbar:
            # Only more (or fewer) lines below the fold: the scrollbar stays, so no layout pass of the whole
            # screen is needed (streaming used to trigger one per batch of messages).
            self.set_reactive(MessageStream.virtual_size, size)
            self._scroll_update(size)
            self.refresh()
            return
        self.virtual_size = size

    def _make_layout(self) -> Layout:
        return Layout(width=max(20, self.scrollable_content_region.width), timestamps=self.timestamps, wrap=self.wrap)

    def on_resize(self) -> None:
        layout = self._make_layout()
        if layout != self._layout:
            self._layout = layout
            self._relayout()
            if self.follow:
                self._scroll_to_end()
            else:
                self._show_cursor()

    def watch_timestamps(self) -> None:
        self._layout = self._make_layout()
        self._relayout()
        self._show_cursor()

    def watch_wrap(self) -> None:
        self._layout = self._make_layout()
        self._relayout()
        self._show_cursor()

    def watch_follow(self, follow: bool) -> None:
        if follow and self._messages:
            self._cursor = len(self._messages) - 1
            self._scroll_to_end()
            self.refresh()
        self.post_message(self.StateChanged(self))

    # --- cursor and scrolling -------------------------------------------------------------------------

    def _scroll_to_end(self) -> None:
        self.call_after_refresh(self.scroll_end, animate=False, immediate=True, x_axis=False)
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def _show_cursor(self) -> None:
        if not self._messages:
            return
        index = self._cursor
        top, height = self._starts[index], self._heights[index]
        view = self.scrollable_content_region.height
        self.scroll_to_region(Region(0, top, 1, min(height, max(1, view))), animate=False, immediate=True)

    def move_cursor(self, index: int) -> None:
        """Select message ``index`` (clamped) and bring it into view."""
        if not self._messages:
            return
        index = max(0, min(index, len(self._messages) - 1))
        self._cursor = index
        if index < len(self._messages) - 1:
            self.follow = False
        self._show_cursor()
        self.refresh()
        self.post_message(self.StateChanged(self))

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_first(self) -> None:
        self.move_cursor(0)

    def action_cursor_last(self) -> None:
        self.follow = True
        self.move_cursor(len(self._messages) - 1)
        self._scroll_to_end()

    def _message_at_line(self, line: int) -> int:
        return max(0, min(bisect_right(self._starts, line) - 1, len(self._messages) - 1))

    def action_page_down(self) -> None:
        target = int(self.scroll_offset.y) + 2 * max(1, self.scrollable_content_region.height) - 1
        self.scroll_page_down(animate=False)
        self.move_cursor(self._message_at_line(min(target, self.line_count - 1)))

    def action_page_up(self) -> None:
        self.scroll_page_up(animate=False)
        self.move_cursor(
            self._message_at_line(max(0, int(self.scroll_offset.y) - self.scrollable_content_region.height))
        )

    def action_toggle_expand(self) -> None:
        message = self.selected_message()
        if message is None or not is_collapsible(message):
            return
        index = self._cursor
        self._expanded.symmetric_difference_update({index})
        self._update_height(index)
        self._show_cursor()

    def action_toggle_follow(self) -> None:
        self.follow = not self.follow
        self.notify("Follow on" if self.follow else "Follow off", timeout=1.5)

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_copy(self) -> None:
        message = self.selected_message()
        if message is None:
            self.notify("No message selected", severity="warning", timeout=2)
            return
        from duvo_tui.ui.chrome.clipboard import copy_text

        copy_text(self.app, message_plain_text(message), "the message")

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        if self.follow and self.line_count > self.scrollable_content_region.height:
            self.follow = False

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        if not self.follow:
            self.call_after_refresh(self._resume_follow_at_end)

    def _resume_follow_at_end(self) -> None:
        if self.is_vertical_scroll_end and self._messages:
            self.follow = True

    def on_click(self, event: events.Click) -> None:
        line = int(self.scroll_offset.y) + event.y
        if 0 <= line < self.line_count:
            index = self._message_at_line(line)
            self.move_cursor(index)
            if event.chain >= 2:
                self.action_toggle_expand()

    # --- search ---------------------------------------------------------------------------------------

    def set_search(self, text: str) -> None:
        """Highlight ``text`` (case-insensitive, literal) and jump to its next occurrence."""
        self._query_text = text
        self._query = re.compile(re.escape(text), re.IGNORECASE) if text else None
        self._cache.clear()
        self.refresh()
        if text:
            self.search(forward=True, include_current=True)
        self.post_message(self.StateChanged(self))

    def search(self, *, forward: bool = True, include_current: bool = False) -> bool:
        """Move the cursor to the next (or previous) message that matches; False when none does."""
        if self._query is None or not self._messages:
            return False
        count = len(self._messages)
        step = 1 if forward else -1
        first = self._cursor if include_current else self._cursor + step
        pattern = self._query
        for offset in range(count):
            index = (first + step * offset) % count
            if pattern.search(message_plain_text(self._messages[index])):
                self.move_cursor(index)
                return True
        self.notify(
            f"None contains {self._query_text!r}",
            title="No message matches",
            severity="warning",
            timeout=2,
            markup=False,
        )
        return False

    def action_search_next(self) -> None:
        self.search(forward=True)

    def action_search_previous(self) -> None:
        self.search(forward=False)

    def action_match(self, forward: bool) -> None:
        if not self._query_text:
            raise SkipAction()  # no search: the key means what it means elsewhere
        self.search(forward=forward)

    # --- rendering ------------------------------------------------------------------------------------

    def _styles(self) -> LineStyles:
        """The roles' styles, each made legible (WCAG AA) on this theme's background."""
        get = self._legible
        return LineStyles(
            user=get("message-stream--user"),
            assistant=get("message-stream--assistant"),
            system=get("message-stream--system"),
            tool=get("message-stream--tool"),
            result=get("message-stream--result"),
            error=get("message-stream--error"),
            time=get("message-stream--time"),
            muted=get("message-stream--muted"),
            thinking=get("message-stream--thinking"),
            system_text=get("message-stream--system-text"),
            other=get("message-stream--other"),
        )

    def _lines_of(self, index: int) -> list[Text]:
        lines = self._cache.get(index)
        if lines is None:
            lines = message_lines(self._messages[index], index in self._expanded, self._layout, self._styles())
            if self._query is not None:
                match = self.get_component_rich_style("message-stream--match")
                for line in lines:
                    line.highlight_regex(self._query, match)
            self._cache[index] = lines
        return lines

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        line_no = int(scroll_y) + y
        if not self._messages:
            if y == 0:
                text = Text(" " + self.placeholder, style=self.get_component_rich_style("message-stream--empty"))
                # apply_style: every segment needs a style (NO_COLOR's monochrome filter reads each one's colour).
                return Strip(text.render(self.app.console)).apply_style(base).crop_extend(0, width, base)
            return Strip.blank(width, base)
        if line_no >= self.line_count:
            return Strip.blank(width, base)
        index = self._message_at_line(line_no)
        lines = self._lines_of(index)
        offset = line_no - self._starts[index]
        text = lines[offset] if offset < len(lines) else Text("")
        style = base
        if index == self._cursor:
            style = base + self.get_component_rich_style("message-stream--cursor")
        strip = Strip(text.render(self.app.console), text.cell_len)
        if not self.wrap and strip.cell_length > self._max_width:
            self._max_width = strip.cell_length
            self.call_later(self._update_virtual_size)
        strip = strip.apply_style(style) if style is not base else strip.apply_style(base)
        return strip.crop_extend(int(scroll_x), int(scroll_x) + width, style)

    def notify_style_update(self) -> None:
        self._legible.clear()
        super().notify_style_update()
        self._cache.clear()
