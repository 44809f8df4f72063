"""The start dialog takes an Assignment's name: one Enter starts the run; an ambiguous name is refused with the
candidates; the hint is whole at 80x24 and 120x40."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from duvo_tui.ui.dialogs import StartRunScreen
from tests.test_ui_dashboard import dashboard, runs, type_text, wait_until


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_one_enter_starts_a_run_of_the_named_assignment(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size=size) as (app, pilot, service):
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))
        field = app.screen.query_one("#agent", Input)
        assert field.content_region.width >= len(field.placeholder), "the hint is not cut"
        await type_text(pilot, "health")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, StartRunScreen) and service.runs())
        (tracked,) = service.runs()
        assert tracked.run.agent_id == emulator.agents["quick"]
        await wait_until(pilot, lambda: runs(app).row(tracked.id) is not None)


async def test_an_ambiguous_name_is_refused_with_the_candidates(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))
        await type_text(pilot, "invoice")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen) and app.screen.error)
        assert "fits 2 Assignments" in app.screen.error and "(legacy)" in app.screen.error
        assert service.runs() == [] and app.screen.query_one("#agent", Input).value == "invoice"
