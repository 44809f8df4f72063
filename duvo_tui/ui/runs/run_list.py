"""The run list: a virtual list on the Line API, fast for thousands of runs.

Rows are kept in a dict by run id and updated in place; the visible order (filter + sort) is an index
list recomputed lazily, and only the lines on screen are rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from duvo_tui.ui.contrast import LegibleStyles
from duvo_tui.ui.runs.run_format import STATUS_RANK, RunRow, format_age, status_look

__all__ = ["SORT_ORDERS", "RunList"]

SORT_ORDERS = ("newest", "status", "agent", "oldest")
"""The orders `o` cycles through."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _created(row: RunRow) -> datetime:
    return row.run.created_at or _EPOCH


def _fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` cells."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    out, used = [], 0
    for char in text:
        w = cell_len(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…" + " " * (width - 1 - used)


class RunList(ScrollView, can_focus=True):
    """Every tracked run, one line each: status, agent, title, age, pending-request marker."""

    BINDINGS = [
        Binding("j,down", "cursor_down", "Down", show=False, id="runs.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="runs.up"),
        Binding("g,home", "cursor_first", "First", show=False, id="runs.first"),
        Binding("G,end", "cursor_last", "Last", show=False, id="runs.last"),
        Binding("pageup", "page_up", "Page up", show=False, id="runs.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="runs.page_down"),
        Binding("enter", "open", "Open", show=False, id="runs.open", tooltip="Show this run's messages"),
        Binding("o", "cycle_sort", "Sort", id="runs.sort", tooltip="Change the order of the runs"),
    ]

    COMPONENT_CLASSES = {
        "run-list--cursor",
        "run-list--active",
        "run-list--waiting",
        "run-list--done",
        "run-list--failed",
        "run-list--muted",
        "run-list--agent",
        "run-list--age",
        "run-list--marker",
        "run-list--empty",
    }

    DEFAULT_CSS = """
    RunList {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        & > .run-list--cursor { background: $block-cursor-blurred-background; }
        &:focus > .run-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground;
            text-style: bold; }
        & > .run-list--active { color: $text-accent; }
        & > .run-list--waiting { color: $text-warning; text-style: bold; }
        & > .run-list--done { color: $text-success; }
        & > .run-list--failed { color: $text-error; }
        & > .run-list--muted { color: $text-muted; }
        & > .run-list--agent { color: $text; text-style: bold; }
        & > .run-list--age { color: $text-muted; }
        & > .run-list--marker { color: $text-warning; text-style: bold; }
        & > .run-list--empty { color: $text-muted; text-style: italic; }
    }
    """

    order_by: reactive[str] = reactive("newest")
    """One of SORT_ORDERS."""
    filter_text: reactive[str] = reactive("")
    """Only runs whose agent, title, status or id contain this (case-insensitive) are shown."""

    @dataclass
    class Highlighted(Message):
        """The cursor moved to another run (or to none)."""

        run_id: str | None

    @dataclass
    class Opened(Message):
        """The user pressed enter (or double-clicked) on a run."""

        run_id: str

    def __init__(self, clock: Callable[[], datetime] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, RunRow] = {}
        self._order: list[str] = []
        self._dirty = True
        self._cursor_id: str | None = None
        self._cursor = 0
        # Component styles made legible (WCAG AA) on the list's background, worked out once per theme.
        self._legible = LegibleStyles(self)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._announced: str | None = None

    # --- data -----------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        """How many runs are shown (after the filter)."""
        self._ensure_order()
        return len(self._order)

    @property
    def total_count(self) -> int:
        """How many runs are known."""
        return len(self._rows)

    @property
    def visible_ids(self) -> list[str]:
        """The ids of the shown runs, in order."""
        self._ensure_order()
        return list(self._order)

    @property
    def selected_id(self) -> str | None:
        """The run under the cursor."""
        self._ensure_order()
        return self._order[self._cursor] if self._order else None

    def row(self, run_id: str) -> RunRow | None:
        """The row of ``run_id``, if known."""
        return self._rows.get(run_id)

    def upsert(self, row: RunRow) -> None:
        """Add or replace one run's row."""
        row.refresh_search_text()
        self._rows[row.id] = row
        self._mark_dirty()

    def upsert_many(self, rows: Iterable[RunRow]) -> None:
        """Add or replace several rows at once."""
        for row in rows:
            row.refresh_search_text()
            self._rows[row.id] = row
        self._mark_dirty()

    def remove_run(self, run_id: str) -> None:
        """Forget ``run_id``."""
        if self._rows.pop(run_id, None) is not None:
            self._mark_dirty()

    def select(self, run_id: str) -> bool:
        """Move the cursor to ``run_id``; False when it is not shown."""
        self._ensure_order()
        try:
            index = self._order.index(run_id)
        except ValueError:
            return False
        self._move_cursor(index)
        return True

    def _mark_dirty(self) -> None:
        self._dirty = True
        self.refresh()
        # Recompute after this burst of updates, before the next frame.
        self.call_later(self._settle)

    def _settle(self) -> None:
        self._ensure_order()
        self._announce()

    def _sort_key(self) -> Callable[[RunRow], Any]:
        order = self.order_by
        if order == "status":
            return lambda r: (STATUS_RANK.get(r.run.status, 6), -_created(r).timestamp())
        if order == "agent":
            return lambda r: (r.agent.lower(), -_created(r).timestamp())
        if order == "oldest":
            return lambda r: _created(r).timestamp()
        return lambda r: -_created(r).timestamp()

    def _ensure_order(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        needle = self.filter_text.strip().lower()
        rows: Iterable[RunRow] = self._rows.values()
        if needle:
            words = needle.split()
            rows = [r for r in rows if all(w in r.search_text for w in words)]
        self._order = [r.id for r in sorted(rows, key=self._sort_key())]
        # Keep the cursor on the same run when it is still shown.
        if self._cursor_id is not None and self._cursor_id in self._rows:
            try:
                self._cursor = self._order.index(self._cursor_id)
            except ValueError:
                self._cursor = min(self._cursor, max(0, len(self._order) - 1))
        else:
            self._cursor = min(self._cursor, max(0, len(self._order) - 1))
        self._cursor_id = self._order[self._cursor] if self._order else None
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._order))

    def _announce(self) -> None:
        current = self._cursor_id
        if current != self._announced:
            self._announced = current
            self.post_message(self.Highlighted(current))

    def watch_order_by(self) -> None:
        self._mark_dirty()

    def watch_filter_text(self) -> None:
        self._mark_dirty()

    # --- cursor ---------------------------------------------------------------------------------------

    def _move_cursor(self, index: int) -> None:
        self._ensure_order()
        if not self._order:
            return
        index = max(0, min(index, len(self._order) - 1))
        self._cursor = index
        self._cursor_id = self._order[index]
        self.scroll_to_region(Region(0, index, 1, 1), animate=False, immediate=True)
        self.refresh()
        self._announce()

    def action_cursor_down(self) -> None:
        self._move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        self._move_cursor(self._cursor - 1)

    def action_cursor_first(self) -> None:
        self._move_cursor(0)

    def action_cursor_last(self) -> None:
        self._move_cursor(len(self._order) - 1)

    def action_page_down(self) -> None:
        self._move_cursor(self._cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        self._move_cursor(self._cursor - max(1, self.scrollable_content_region.height - 1))

    def action_open(self) -> None:
        selected = self.selected_id
        if selected is not None:
            self.post_message(self.Opened(selected))

    def action_cycle_sort(self) -> None:
        index = SORT_ORDERS.index(self.order_by) if self.order_by in SORT_ORDERS else 0
        self.order_by = SORT_ORDERS[(index + 1) % len(SORT_ORDERS)]
        self.notify(f"Runs sorted by {self.order_by}", timeout=2)

    def on_click(self, event: events.Click) -> None:
        self._ensure_order()
        index = int(self.scroll_offset.y) + event.y
        if 0 <= index < len(self._order):
            self._move_cursor(index)
            if event.chain >= 2:
                self.action_open()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._order))

    # --- rendering ------------------------------------------------------------------------------------

    def _columns(self, width: int) -> tuple[int, int, int, int]:
        """Widths of (status, agent, age, marker); the title takes the rest."""
        # The status column fits the longest name (" ↯ Interrupted", " ! Needs input").
        if width >= 90:
            return 14, 18, 5, 2
        if width >= 60:
            return 14, 14, 4, 2
        # Narrow (the runs pane beside the others at 100-150 columns): the status keeps its name, since a
        # symbol alone reads ambiguously; the request marker goes (the status already says a person is needed).
        return 14, 9, 4, 0

    def render_line(self, y: int) -> Strip:
        self._ensure_order()
        width = self.scrollable_content_region.width
        index = int(self.scroll_offset.y) + y
        base = self.rich_style
        if not self._order:
            if y == 0:
                message = "No runs match the filter" if self._rows else "No runs yet: press s to start one"
                style = self.get_component_rich_style("run-list--empty")
                return Strip([Segment(_fit(" " + message, width), base + style)], width)
            return Strip.blank(width, base)
        if index >= len(self._order):
            return Strip.blank(width, base)
        row = self._rows[self._order[index]]
        return self._render_row(row, width, index == self._cursor)

    def _render_row(self, row: RunRow, width: int, is_cursor: bool) -> Strip:
        status_w, agent_w, age_w, marker_w = self._columns(width)
        symbol, word, kind = status_look(row.run.status)
        status_text = f" {symbol}" if status_w <= 2 else f" {symbol} {word}"
        title_w = max(0, width - status_w - agent_w - age_w - marker_w - 3)
        get = self._legible
        base = self.rich_style
        cursor = self.get_component_rich_style("run-list--cursor") if is_cursor else Style()
        marker = "◆" if row.pending_request else " "
        segments = [
            Segment(_fit(status_text, status_w), base + get(f"run-list--{kind}") + cursor),
            Segment(" ", base + cursor),
            Segment(_fit(marker, marker_w), base + get("run-list--marker") + cursor),
            Segment(_fit(row.agent, agent_w), base + get("run-list--agent") + cursor),
            Segment(" ", base + cursor),
            Segment(_fit(row.title, title_w), base + cursor),
            Segment(" ", base + cursor),
            Segment(
                _fit(format_age(row.run.created_at, self._clock()).rjust(age_w), age_w),
                base + get("run-list--age") + cursor,
            ),
        ]
        return Strip(segments, width).crop_extend(0, width, base + cursor)

    def notify_style_update(self) -> None:
        self._legible.clear()
        super().notify_style_update()
        self.refresh()
