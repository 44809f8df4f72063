"""On a dialog, notifications never cover its controls: the fields, the list and the buttons stay in view."""

from __future__ import annotations

import pytest
from textual.errors import NoWidget
from textual.widgets import Button, Input, OptionList, TextArea
from textual.widgets._toast import Toast

from duvo_tui.ui.dialogs import ConfirmScreen, StartRunScreen
from tests.feed_service import wait_until
from tests.screen_reading import screen_text
from tests.test_hitl_screen import dashboard


def shown_toasts(screen) -> list:
    regions = []
    for toast in screen.query(Toast):
        try:
            regions.append(screen.find_widget(toast).visible_region)
        except NoWidget:  # not drawn (an older one while the newest shows)
            continue
    return [region for region in regions if region]


def assert_controls_clear(screen) -> None:
    toasts = shown_toasts(screen)
    assert toasts, "no notification showed"
    controls = [w for w in screen.query("*") if isinstance(w, (Button, Input, OptionList, TextArea)) and w.region]
    assert any(isinstance(w, Button) for w in controls), "the dialog's buttons are not on screen"
    for region in toasts:
        for control in controls:
            assert not region.overlaps(control.region), f"{region} covers {control!r} at {control.region}"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_toasts_on_the_start_dialog_leave_its_fields_and_buttons_clear(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, _service):
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen) and app.screen.options)
        for n in (1, 2, 3):
            app.notify(f"message {n}", title=f"Notice {n}")
        await pilot.pause(0.3)
        assert_controls_clear(app.screen)
        assert "Notice 3" in screen_text(app)  # the newest shows


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_toasts_on_a_confirmation_leave_its_buttons_clear(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, _service):
        app.push_screen(ConfirmScreen("Stop this run?", yes="Stop"))
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        app.notify("a long message that would wrap over several lines in a toast", title="Notice")
        await pilot.pause(0.3)
        assert_controls_clear(app.screen)
