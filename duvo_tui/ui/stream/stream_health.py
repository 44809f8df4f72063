"""How fresh the selected run's stream is, shown under the messages pane's border:
``live``, ``reconnecting (attempt n)``, ``rate-limited (resumes in s)`` or ``stale since HH:MM:SS``.

:class:`StreamHealth` is a small state machine fed with the service's events; the messages pane owns it and
shows it. A stream is stale when its run is active and nothing about it arrived for :data:`STALE_AFTER`
seconds; the pane's one slow timer checks that, and the subtitle is only set when its text changes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from duvo_tui.api.status import RunStatus
from duvo_tui.service import events as ev

__all__ = ["STALE_AFTER", "StreamHealth"]

STALE_AFTER = 30.0
"""Seconds without news of an active run before its stream counts as stale."""

@dataclass
class StreamHealth:
    """The stream's state for the run in view. ``clock`` is monotonic seconds, ``wall`` gives local time."""

    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], datetime] = datetime.now
    run_id: str | None = None
    run_status: str = ""
    attempt: int = 0
    paused_until: float = 0.0
    last_news: float = field(default=0.0)
    last_news_wall: datetime | None = None

    def select(self, run_id: str | None, status: str = "") -> None:
        """A run came into view: its stream counts as fresh from now."""
        self.run_id, self.run_status = run_id, status
        self._news()

    def _news(self) -> None:
        self.last_news = self.clock()
        self.last_news_wall = self.wall()

    def observe(self, event: ev.Event) -> None:
        """Take in one service event."""
        if isinstance(event, ev.ConnectionLost):
            self.attempt = max(1, event.attempt)
        elif isinstance(event, ev.ConnectionRestored):
            self.attempt = 0
            self._news()
        elif isinstance(event, ev.BudgetChanged):
            self.paused_until = self.clock() + event.paused_for if event.paused_for > 0 else 0.0
        elif isinstance(event, ev.MessagesAppended) and event.run_id == self.run_id:
            self._news()
        elif isinstance(event, ev.RunChanged) and event.run.id == self.run_id:
            self.run_status = event.run.status
            self._news()

    def describe(self) -> str:
        """One short phrase for the state now ("" when no run is in view)."""
        if self.run_id is None:
            return ""
        now = self.clock()
        if self.attempt:
            return f"reconnecting (attempt {self.attempt})"
        if self.paused_until > now:
            return f"rate-limited (resumes in {max(1, round(self.paused_until - now))}s)"
        status = RunStatus(self.run_status or RunStatus.UNKNOWN)
        # A run that changes on its own (or whose status means nothing to us) should be heard from.
        expects_news = status.is_active or not status.is_known
        if expects_news and now - self.last_news >= STALE_AFTER and self.last_news_wall:
            return f"stale since {self.last_news_wall:%H:%M:%S}"
        return "ended" if status.is_finished else "live"
