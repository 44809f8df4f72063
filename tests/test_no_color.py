"""NO_COLOR=1: every screen draws and reads without colour (state by word and symbol, focus by border shape).

Many people set NO_COLOR globally. Textual then passes every line through a monochrome filter, which fails on a
segment drawn without a style: a widget that draws one crashes the dashboard at start.
"""

from __future__ import annotations

import pytest

from duvo_tui.ui.chrome.help_screen import HelpScreen
from duvo_tui.ui.dialogs import ConfirmScreen, StartRunScreen
from duvo_tui.ui.runs.run_format import status_look
from tests.feed_service import wait_until
from tests.screen_reading import screen_text
from tests.test_ui_dashboard import dashboard, runs, start_run


@pytest.fixture
def no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_every_screen_draws_without_colour(no_color, emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size=size) as (app, pilot, service):
        assert app.no_color
        waiting = await start_run(service, emulator, "questions", "report")
        done = await start_run(service, emulator, "quick", "ping")
        failed = await start_run(service, emulator, "fails", "import")
        await wait_until(pilot, lambda: service.run(waiting).status == "waiting")
        await wait_until(pilot, lambda: service.run(done).status == "completed")
        await wait_until(pilot, lambda: service.run(failed).status == "failed")
        await wait_until(pilot, lambda: all(runs(app).row(r) is not None for r in (waiting, done, failed)))
        await pilot.pause(0.2)
        text = screen_text(app)
        # State by word and symbol: nothing depends on the colour of a dot.
        for status in ("waiting", "completed", "failed"):
            symbol, name, _ = status_look(status)
            assert f"{symbol} {name}" in text, text
        # Focus by the border's shape: the focused pane is drawn heavy, the others (side by side) round.
        assert "┏" in text and ("╭" in text or app.screen_dashboard.is_narrow)
        for pane in ("2", "3", "1"):
            await pilot.press(pane)
            await pilot.pause(0.1)
            screen_text(app)
        await pilot.press("n")  # the request form
        await wait_until(pilot, lambda: "Region" in screen_text(app))
        for key, screen_type in (("question_mark", HelpScreen), ("s", StartRunScreen), ("x", ConfirmScreen)):
            await pilot.press("escape")
            await pilot.press("1")
            await pilot.press(key)
            await wait_until(pilot, lambda screen_type=screen_type: isinstance(app.screen, screen_type))
            await pilot.pause(0.1)
            assert screen_text(app).strip()
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is app.screen_dashboard)
        await pilot.press("N")  # the inbox
        await pilot.pause(0.2)
        assert "report" in screen_text(app) or "questions" in screen_text(app).lower()
        await pilot.press("escape")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        assert screen_text(app).strip()
        await pilot.press("escape")
