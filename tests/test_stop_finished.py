"""x on a finished run says it has finished instead of offering to stop it."""

from __future__ import annotations

from duvo_tui.ui.dialogs import ConfirmScreen
from tests.test_ui_dashboard import dashboard, runs, start_run, wait_until


async def test_x_on_a_finished_run_says_it_has_finished(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        run_id = await start_run(service, emulator, "quick", "check")
        await wait_until(pilot, lambda: service.run(run_id).status == "completed" and runs(app).row(run_id))
        await wait_until(pilot, lambda: runs(app).row(run_id).run.status == "completed")
        runs(app).select(run_id)
        await wait_until(pilot, lambda: app.selected_run_id == run_id)
        app.action_stop_run()
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)
        said = [str(n.message) for n in app._notifications]
        assert any("has finished (completed): there is nothing to stop" in m for m in said), said
