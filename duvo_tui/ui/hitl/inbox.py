"""The inbox: every request waiting for a person across the tracked runs, oldest first.

``InboxScreen`` is a modal list; enter (or the row's digit) picks a request and the screen is dismissed with its
run id. :func:`inbox_entries` orders the requests and :func:`next_waiting` says which one ``n`` goes to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from duvo_tui.api.models import WEB_APP_ONLY, HumanRequest
from duvo_tui.text import clean_line
from duvo_tui.ui.hitl.human_request_view import request_kind

__all__ = ["InboxEntry", "InboxScreen", "format_age", "inbox_entries", "next_waiting"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class InboxEntry:
    """One waiting request with who asks."""

    request: HumanRequest
    agent: str = ""
    run_title: str = ""

    @property
    def run_id(self) -> str:
        return self.request.run_id


def inbox_entries(
    requests: Iterable[HumanRequest], label: Callable[[str], tuple[str, str]] | None = None
) -> list[InboxEntry]:
    """The requests oldest first (unknown times last), each with ``label(run_id) -> (agent, run title)``."""
    entries = []
    for request in requests:
        agent, title = label(request.run_id) if label is not None else ("", "")
        entries.append(InboxEntry(request, agent, title))
    return sorted(entries, key=lambda e: (e.request.created_at is None, e.request.created_at or _EPOCH, e.run_id))


def next_waiting(entries: Sequence[InboxEntry], current_run: str | None) -> InboxEntry | None:
    """The entry after ``current_run``'s (oldest first, wrapping); the oldest when the current run waits for none."""
    if not entries:
        return None
    ids = [e.run_id for e in entries]
    if current_run in ids:
        return entries[(ids.index(current_run) + 1) % len(entries)]
    return entries[0]


def format_age(created: datetime | None, now: datetime) -> str:
    """``12s``, ``5m``, ``3h``, ``2d``; ``?`` when the time is unknown."""
    if created is None:
        return "?"
    seconds = max(0, int((now - created).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def entry_text(entry: InboxEntry, now: datetime) -> Text:
    """One row of the inbox, built from cleaned server text."""
    request = entry.request
    kind = request_kind(request)
    kind = kind[0].lower() + kind[1:]
    text = Text()
    text.append(f"{format_age(request.created_at, now):>4} ", style="bold")
    text.append(clean_line(entry.agent or "?", 30), style="bold")
    text.append(f"  {kind}  ", style="dim")
    text.append(clean_line(request.title or "(untitled)", 120))
    if not request.is_answerable:
        text.append(f" ({WEB_APP_ONLY})", style="italic")
    if entry.run_title:
        text.append("\n      run: " + clean_line(entry.run_title, 100))
    return text


class InboxScreen(ModalScreen[str | None]):
    """Every waiting request; dismissed with the chosen request's run id (None: closed)."""

    DEFAULT_CSS = """
    InboxScreen { align: center middle; }
    InboxScreen > Vertical {
        width: 100; max-width: 95%; height: auto; max-height: 80%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    InboxScreen #inbox-title { text-style: bold; margin-bottom: 1; }
    InboxScreen OptionList { height: auto; max-height: 30; }
    InboxScreen #inbox-keys { color: $text-muted; margin-top: 1; }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="inbox.close", tooltip="Close the inbox"),
    ]

    def __init__(self, entries: Sequence[InboxEntry], now: datetime | None = None) -> None:
        super().__init__()
        self.entries = list(entries)
        self.now = now or datetime.now(UTC)

    def compose(self) -> ComposeResult:
        with Vertical():
            count = len(self.entries)
            yield Static(Text(f"Waiting for you: {count} request(s), oldest first"), id="inbox-title")
            if self.entries:
                options = [Option(entry_text(e, self.now), id=str(i)) for i, e in enumerate(self.entries)]
                yield OptionList(*options, id="inbox-list")
            else:
                yield Static(Text("No run is waiting for a person."), id="inbox-empty")
            yield Static(Text("↑↓ move · enter answer it · esc close"), id="inbox-keys")

    def on_mount(self) -> None:
        for option_list in self.query(OptionList):
            option_list.highlighted = 0
            option_list.focus()

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.entries[int(event.option.id or 0)].run_id)

    def action_close(self) -> None:
        self.dismiss(None)
