"""Notifications are small, stacked in a corner, and never over the header or the pane being used."""

from __future__ import annotations

import pytest
from textual.errors import NoWidget
from textual.widgets import Tab
from textual.widgets._toast import Toast

from tests.feed_service import wait_until
from tests.screen_reading import screen_lines, screen_text
from tests.test_hitl_screen import dashboard


def assert_clear(app, size) -> None:
    screen = app.screen_dashboard
    pane = screen.pane(screen.active_pane)
    header = screen.query_one("#header").region
    tabs = [tab.region for tab in screen.query(Tab) if tab.region]
    # What shows of each, after clipping: a toast beyond its rack's view (more than fit) is not drawn.
    toasts = []
    for toast in app.screen.query(Toast):
        try:
            toasts.append(app.screen.find_widget(toast).visible_region)
        except NoWidget:  # not drawn at all (an older one while the newest shows)
            continue
    toasts = [region for region in toasts if region]
    assert toasts
    for region in toasts:
        assert region.width <= size[0] // 2, region  # small
        assert region.right >= size[0] - 3 or region.x <= 2, region  # in a corner
        assert not region.overlaps(pane.region), f"{region} covers the focused pane at {pane.region}"
        assert not region.overlaps(header), f"{region} covers the header at {header}"
        for tab in tabs:
            assert not region.overlaps(tab), f"{region} covers a tab at {tab}"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_toasts_stay_clear_of_the_header_and_the_focused_pane(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        for scenario in ("questions", "approval"):
            await service.start_run(emulator.agents[scenario], message="x")
        await wait_until(pilot, lambda: len(app.screen_dashboard.requests) == 2)
        await wait_until(pilot, lambda: len(list(app.screen.query(Toast))) >= 1)
        await pilot.pause(0.3)
        assert_clear(app, size)
        # The header still reads whole: the person's name and the waiting count are not hidden.
        assert "◆ 2 waiting" in screen_lines(app)[0]
        # Every pane in turn, including the one in the corner where notifications go by default.
        for key in ("2", "3", "4", "1"):
            await pilot.press(key)
            app.notify(f"after {key}", title=f"Notice {key}")
            await pilot.pause(0.3)
            assert_clear(app, size)
            assert f"Notice {key}" in screen_text(app)  # the newest shows, whatever came before it


def drawn_toasts(app) -> list:
    drawn = []
    for toast in app.screen.query(Toast):
        try:
            if app.screen.find_widget(toast).visible_region:
                drawn.append(toast)
        except NoWidget:
            continue
    return drawn


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_two_requests_arriving_together_are_announced_once(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        for scenario in ("questions", "approval"):
            await service.start_run(emulator.agents[scenario], message="x")
        await wait_until(pilot, lambda: len(app.screen_dashboard.requests) == 2)
        await wait_until(pilot, lambda: "2 runs wait for you" in screen_text(app))
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert shown.count("2 runs wait for you") == 1 and "A run waits for you" not in shown, shown
        announcements = [t for t in drawn_toasts(app) if "wait" in t._notification.title]
        assert len(announcements) == 1, [t._notification for t in announcements]
        said = announcements[0]._notification.message
        assert "Quarterly Report Planning asks:" in said and "invoices asks:" in said, said
