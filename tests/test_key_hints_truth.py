"""Hints that tell the truth: the footer offers only keys that work now, whole; help lists every pane's keys with
their binding ids."""

from __future__ import annotations

import pytest

from duvo_tui.ui.chrome.help_screen import HelpScreen
from tests.feed_service import wait_until
from tests.screen_reading import screen_lines, screen_text
from tests.test_hitl_screen import dashboard


def footer(app) -> str:
    return screen_lines(app)[-1]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_footer_offers_only_what_works_now(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        await pilot.pause(0.2)
        assert "Next waiting" not in footer(app) and "Inbox" not in footer(app)  # nothing waits
        run = await service.start_run(emulator.agents["approval"], message="pay")
        await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
        await pilot.pause(0.2)
        assert "Next waiting" in footer(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: "Approve" in footer(app))
        assert "Deny" in footer(app) and "Send answers" not in footer(app)
        await pilot.press("a")
        await pilot.press("y")
        await wait_until(pilot, lambda: len(app.sent) == 1 and run.id not in app.screen_dashboard.requests)
        await pilot.pause(0.3)
        line = footer(app)
        assert "Approve" not in line and "Deny" not in line and "Next waiting" not in line, line
        # The request pane no longer points at a next request that does not exist.
        await pilot.press("4")
        await pilot.pause(0.2)
        assert "n: next waiting request" not in screen_text(app)


@pytest.mark.parametrize("width", [80, 90, 120])
async def test_no_hint_is_cut_mid_word(emulator, tmp_path, width):
    async with dashboard(emulator, tmp_path, (width, 24)) as (app, pilot, service):
        run = await service.start_run(emulator.agents["questions"], message="report")
        await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
        await pilot.press("n")  # the form: the most keys to offer
        await wait_until(pilot, lambda: "Send answers" in footer(app))
        descriptions = {
            binding.description
            for _node, binding, _enabled, _tooltip in app.screen.active_bindings.values()
            if binding.show and binding.description
        }
        line = footer(app).replace("^p palette", "").strip()
        # Each hint is "key Description"; the words after each key must be a whole description.
        shown = [part.strip() for part in line.split("  ") if part.strip()]
        for part in shown:
            words = part.split(" ", 1)
            assert len(words) == 2 and words[1] in descriptions, f"{part!r} is not a whole hint in {line!r}"


async def test_help_has_a_section_per_pane_with_binding_ids(emulator, tmp_path):
    async with dashboard(emulator, tmp_path, (120, 40)) as (app, pilot, _service):
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = " ".join(str(widget.render()) for widget in app.screen.query("Static"))
        for section in ("Everywhere", "Runs pane", "Messages pane", "Sandbox pane", "Request pane"):
            assert section in text
        for binding_id in ("app.quit", "runs.filter", "messages.search", "hitl.approve", "hitl.deny", "hitl.submit"):
            assert binding_id in text
        for what in ("Confirm an approval", "Pick an option", "Leave the questions"):
            assert what in text
