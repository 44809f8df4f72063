"""x on a finished run says it has finished instead of offering to stop it."""

from __future__ import annotations

import pytest

from duvo_tui.ui.dialogs import ConfirmScreen
from tests.feed_service import wait_until
from tests.screen_reading import screen_text
from tests.test_hitl_screen import dashboard
from tests.test_ui_dashboard import runs


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_x_on_a_finished_run_says_it_has_finished(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        run = await service.start_run(emulator.agents["quick"], message="check")
        await wait_until(pilot, lambda: runs(app).row(run.id) is not None)
        await wait_until(pilot, lambda: runs(app).row(run.id).run.status == "completed")
        runs(app).select(run.id)
        await wait_until(pilot, lambda: app.screen_dashboard.selected == run.id)
        runs(app).focus()
        await pilot.press("x")
        await wait_until(pilot, lambda: "Nothing to stop" in screen_text(app))
        assert not isinstance(app.screen, ConfirmScreen)
        shown = screen_text(app)
        assert "Stop run" not in shown and "Stopping run" not in shown, shown
        said = [(n.title, str(n.message)) for n in app._notifications]
        assert any(t == "Nothing to stop" and "has finished (completed)." in m for t, m in said), said
