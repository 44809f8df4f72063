"""What the four panes of the dashboard have in common: a numbered border title, and widgets loaded late.

Each pane is a controller: it owns its widgets and its state, handles the Textual messages its widgets post,
and acts through the service it reaches by its :class:`~duvo_tui.ui.host.Host`. The panes themselves live with
what they show: ``runs/runs_pane.py``, ``stream/messages_pane.py``, ``sandbox/sandbox_pane.py``,
``hitl/request_pane.py``; the screen (``dashboard_screen.py``) composes them and routes the service's events.

The first frame shows the panes empty (their frames and titles): their widgets, and the modules that define
them, are loaded right after it by :meth:`Pane.populate`, so the dashboard appears before the bulk of its code
has been imported. Nothing can reach a pane's widgets before then: the app starts the service only once every
pane is populated.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from duvo_tui.ui.host import Host

__all__ = ["PANE_IDS", "Pane"]

PANE_IDS = ("runs-pane", "messages-pane", "sandbox-pane", "human-request-pane")
"""Panes in the order of the keys 1-4."""


class Pane(Widget):
    """A pane whose widgets are composed by :meth:`compose_content` once :meth:`populate` is called."""

    populated = False

    def __init__(self, host: Host, **kwargs) -> None:
        super().__init__(**kwargs)
        self.host = host

    def compose(self) -> ComposeResult:
        if self.populated:
            yield from self.compose_content()

    def compose_content(self) -> ComposeResult:
        """The pane's widgets (import their modules here, not at the top of this module)."""
        yield from ()

    async def populate(self) -> None:
        """Mount the pane's widgets (once)."""
        if not self.populated:
            self.populated = True
            await self.recompose()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers catch what they expect; anything else is a bug, shown rather than crashing the app.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.host.say(repr(event.worker.error), title="Something failed", severity="error", timeout=10)
