"""The run list names every status by word and symbol at every terminal width from 80 columns."""

from __future__ import annotations

import pytest

from duvo_tui.api.models import Run
from duvo_tui.api.status import RunStatus
from duvo_tui.config import Profile
from duvo_tui.ui.app import make_app
from duvo_tui.ui.runs.run_format import status_look
from tests.feed_service import FeedService, wait_until
from tests.screen_reading import screen_lines

STATUSES = [
    RunStatus.WAITING, RunStatus.NEEDS_ATTENTION, RunStatus.RUNNING, RunStatus.PENDING, RunStatus.COMPLETED,
    RunStatus.FAILED, RunStatus.INTERRUPTED, RunStatus.STOPPED,
]  # fmt: skip


def runs() -> list[Run]:
    return [
        Run(id=f"00000000-0000-4000-8000-00000000000{n}", agent_id="a", status=status, title=f"job {n}")
        for n, status in enumerate(STATUSES)
    ]


@pytest.mark.parametrize("size", [(80, 24), (99, 30), (100, 30), (120, 40), (150, 45), (200, 50)])
async def test_every_status_shows_its_symbol_and_its_name(size):
    app = make_app(FeedService(runs()), Profile(name="t"))
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        await pilot.pause(0.1)
        lines = screen_lines(app)
        for status in STATUSES:
            symbol, name, _ = status_look(status)
            number = STATUSES.index(status)
            row = next((line for line in lines if f"job {number}" in line and "Messages" not in line), None)
            assert row is not None, "\n".join(lines)
            shown = f"{symbol} {name}"
            # A name longer than the column ends in an ellipsis, but it is never dropped.
            assert shown in row or f"{symbol} {name[:8]}" in row, f"{status}: {row!r}"


def test_waiting_does_not_read_as_unknown():
    assert status_look(RunStatus.WAITING)[0] != "?"
