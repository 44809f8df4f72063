"""Typing is typing: while a text input has focus no single-key binding fires, every input is reachable by
keyboard, tab follows the screen and esc leaves the input."""

from __future__ import annotations

import pytest

from duvo_tui.ui.chrome.keymap import all_bindings
from tests.feed_service import wait_until
from tests.test_hitl_screen import dashboard

NAMED = {"question_mark": "?", "slash": "/", "plus": "+", "minus": "-", "full_stop": ".", "space": " "}


def single_keys() -> list[str]:
    """Every key some binding takes that is one printable character (by its key name)."""
    keys = {key for binding in all_bindings() for key in binding.keys if len(key) == 1 or key in NAMED}
    return sorted(keys)


def typed(keys: list[str]) -> str:
    return "".join(NAMED.get(key, key) for key in keys)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_path_typed_into_the_upload_line_sets_off_nothing(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        run = await service.start_run(emulator.agents["quick"], message="ping")
        await wait_until(pilot, lambda: app.screen_dashboard.query_one("#run-list").row(run.id) is not None)
        screen = app.screen_dashboard
        await pilot.press("3", "u")
        await pilot.pause(0.1)
        box = screen.query_one("#upload-path")
        assert box.has_focus
        path = "/tmp/nx-q/s?a+N.txt"
        await pilot.press(
            *[{"?": "question_mark", "/": "slash", "+": "plus", ".": "full_stop", "-": "minus"}.get(c, c) for c in path]
        )
        await pilot.pause(0.2)
        assert box.value == path and box.has_focus
        assert app.screen is screen and app.is_running  # no dialog (s, a, x, N, ?), no quit (q)
        assert screen.active_pane == 2
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert screen.query_one("#sandbox-tree").has_focus and box.value == path
        # Reachable with tab too: from the tree to the upload line, then on to the next pane.
        await pilot.press("tab")
        await pilot.pause(0.1)
        assert box.has_focus
        await pilot.press("tab")
        await pilot.pause(0.1)
        assert not box.has_focus and screen.active_pane != 2


async def test_no_single_key_binding_fires_in_any_text_input(emulator, tmp_path):
    keys = single_keys()
    assert {"q", "s", "x", "n", "a", "1", "4"} <= set(keys)
    async with dashboard(emulator, tmp_path, (120, 40)) as (app, pilot, service):
        run = await service.start_run(emulator.agents["questions"], message="report")
        await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
        await pilot.press("n")
        await pilot.pause(0.3)
        screen = app.screen_dashboard
        # The post line (the run filter and message search lines are inputs of the same kind) and the form's text.
        await pilot.press("escape", "2", "i")
        await pilot.pause(0.1)
        box = screen.query_one("#post-input")
        assert box.has_focus
        await pilot.press(*keys)
        await pilot.pause(0.2)
        assert box.has_focus and box.value == typed(keys), box.value
        assert app.screen is screen and app.is_running
        box.value = ""
        await pilot.press("escape")
        await pilot.press("4")
        form = screen.query_one("#hitl-form")
        notes = form.query("Input.answer-text").first()
        notes.focus()
        await pilot.pause(0.1)
        await pilot.press(*keys)
        await pilot.pause(0.2)
        assert notes.has_focus and notes.value == typed(keys)
        assert app.screen is screen and app.sent == []
