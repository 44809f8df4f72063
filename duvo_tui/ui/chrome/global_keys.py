"""The dashboard's keys that work whatever has focus (the app's bindings), and which of them wait for the panes.

Quit and help are the app's own actions; the others are the dashboard screen's (``screen.``), which asks the pane
that does the work. Every other screen is a modal one, which holds back the app's keys while it shows.
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

__all__ = ["GLOBAL_BINDINGS", "NEEDS_READY"]

GLOBAL_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave the dashboard"),
    Binding("question_mark", "help", "Help", id="app.help", tooltip="List every key"),
    Binding("s", "screen.start_run", "Start", id="app.start_run", tooltip="Start a run of an agent"),
    Binding("x", "screen.stop_run", "Stop", id="app.stop_run", tooltip="Stop the selected run"),
    Binding("r", "screen.refresh_run", "Refresh", show=False, id="app.refresh", tooltip="Look at the selected run now"),
    Binding("a", "screen.add_run", "Add run", show=False, id="app.add_run", tooltip="Track a run by its id"),
    Binding(
        "n",
        "screen.next_waiting",
        "Next waiting",
        id="app.next_waiting",
        tooltip="Jump to the next run waiting for a person",
    ),
    Binding("N", "screen.inbox", "Inbox", id="app.inbox", tooltip="Every request waiting for a person, oldest first"),
    Binding(
        "F",
        "screen.filter_messages",
        "Only matching",
        show=False,
        id="app.filter_messages",
        tooltip="With a search on: show only the messages that match (again: all)",
    ),
    Binding("Y", "screen.copy_page", "Copy page", show=False, id="app.copy_page", tooltip="Copy the visible messages"),
    Binding("I", "screen.copy_run_id", "Copy run id", show=False, id="app.copy_run_id", tooltip="Copy the run's id"),
    Binding(
        "C", "screen.copy_curl", "Copy curl", show=False, id="app.copy_curl", tooltip="Copy a curl command for the run"
    ),
]

NEEDS_READY = frozenset(
    {
        "start_run",
        "stop_run",
        "refresh_run",
        "add_run",
        "next_waiting",
        "inbox",
        "filter_messages",
        "copy_page",
        "copy_run_id",
    }
)
"""Actions that wait for the panes' widgets and the service (shown, but doing nothing, until then)."""
