"""A stand-in for DuvoService whose events a UI test sends by hand, for screens that need no server."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from duvo_tui.bench.watch_only import WatchOnly
from duvo_tui.service.store import TrackedRun


class FeedService(WatchOnly):
    """Holds ``runs`` and hands every ``emit(event)`` to the app's subscription; takes no commands."""

    def __init__(self, runs: Iterable[Any] = ()) -> None:
        self._runs = list(runs)
        self.subscribers: list[Any] = []

    def subscribe(self, callback):
        self.subscribers.append(callback)
        return lambda: None

    def emit(self, event) -> None:
        for callback in self.subscribers:
            callback(event)

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def runs(self) -> list[TrackedRun]:
        return [TrackedRun(run) for run in self._runs]

    def run(self, run_id) -> TrackedRun | None:
        return next((TrackedRun(r) for r in self._runs if r.id == run_id), None)

    def pending_requests(self):
        return []

    def messages(self, run_id):
        return []

    def focus(self, run_id) -> None:
        pass


async def wait_until(pilot, condition, within: float = 15.0, explain=None) -> None:
    """Let the app run until ``condition()`` holds; fail after ``within`` seconds, saying ``explain()`` if given."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time" + (f": {explain()}" if explain else ""))
        await pilot.pause(0.02)
