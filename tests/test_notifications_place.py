"""Notifications are small, stacked in a corner, and never over the pane being used at 80x24."""

from __future__ import annotations

import pytest
from textual.widgets._toast import Toast

from tests.feed_service import wait_until
from tests.test_hitl_screen import dashboard


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_toasts_stay_clear_of_the_focused_pane(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        for scenario in ("questions", "approval"):
            await service.start_run(emulator.agents[scenario], message="x")
        await wait_until(pilot, lambda: len(app.screen_dashboard.requests) == 2)
        await wait_until(pilot, lambda: len(list(app.screen.query(Toast))) >= 2)
        await pilot.pause(0.3)
        screen = app.screen_dashboard
        pane = screen.pane(screen.active_pane)
        toasts = [toast.region for toast in app.screen.query(Toast)]
        for region in toasts:
            assert region.width <= size[0] // 2, region  # small
            assert region.right >= size[0] - 3, region  # in the right-hand corner
            assert not region.overlaps(pane.region), f"{region} covers the focused pane at {pane.region}"
