"""A run started from here (by the Assignment's id, as the command line and the dialog do) carries its
Assignment's name from the kept Assignments at once, not from the next sweep: the run list and the inbox
show the name and the run's title, at 80x24 and 120x40."""

from __future__ import annotations

import pytest

from duvo_tui.ui.hitl.inbox import InboxScreen
from tests.feed_service import wait_until
from tests.screen_reading import screen_lines, screen_text
from tests.test_ui_dashboard import dashboard, runs

NAME = "Quarterly Report Planning"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_a_run_started_by_id_shows_its_assignment_name_and_title(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size=size) as (app, pilot, service):
        run = await service.start_run(emulator.agents["questions"], message="Board pack for Q3")
        # Named as soon as it is tracked: before any sweep or detail could bring the listing's agent_name.
        assert service.store.get(run.id).agent_name == NAME
        await wait_until(pilot, lambda: runs(app).row(run.id) is not None)

        def row_shown() -> str | None:
            return next((line for line in screen_lines(app) if "Board pack" in line and "Waiting" in line), None)

        await wait_until(pilot, lambda: row_shown() is not None)  # waiting a moment later on a loaded machine
        row = row_shown() or ""
        shown = row.split("Board pack")[0]
        assert NAME[:8] in shown, screen_text(app)  # the column may cut the rest of the name
        assert emulator.agents["questions"][:8] not in shown
        await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
        await pilot.press("N")
        await wait_until(pilot, lambda: isinstance(app.screen, InboxScreen))
        await pilot.pause(0.2)
        inbox = " ".join(screen_text(app).split())
        assert NAME in inbox and "Board pack for Q3" in inbox, inbox


async def test_a_run_added_by_id_is_named_too(emulator, tmp_path):
    """``a`` (add a run by id) on a service that has swept nothing yet: the name comes from the Assignments."""
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.service.service import DuvoService
    from tests.test_ui_dashboard import FAST

    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        started = await client.start_run(emulator.agents["login"], message="sync")
        service = DuvoService(client, FAST, state_dir=tmp_path / "state")
        await service.track(started.id)
        assert service.store.get(started.id).agent_name == "CRM Contact Sync"
