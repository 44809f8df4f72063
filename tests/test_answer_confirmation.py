"""What a person reads once an answer is sent: the form's line says it once, and the notification is read whole,
at 80x24 and 120x40."""

from __future__ import annotations

import re

import pytest

from tests.feed_service import wait_until
from tests.screen_reading import screen_lines, screen_text
from tests.test_hitl_screen import SIZES, dashboard


def _form(app):
    return app.screen_dashboard.query_one("#hitl-form")


async def _answer_the_approval(app, pilot, service, emulator, verdict: str) -> str:
    run = await service.start_run(emulator.agents["approval"], message="Pay the invoices")
    await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
    await pilot.press("n")
    await wait_until(pilot, lambda: _form(app).is_open and _form(app).request.run_id == run.id)
    await pilot.press(verdict, "y")
    await wait_until(pilot, lambda: _form(app).status_text.startswith("✓"))
    return run.id


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
@pytest.mark.parametrize(("key", "said"), [("a", "✓ Approved."), ("d", "✓ Denied.")])
async def test_the_sent_form_says_the_verdict_once(emulator, tmp_path, size, key, said):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        await _answer_the_approval(app, pilot, service, emulator, key)
        await pilot.press("4")  # back to the request pane: the answered form and its line
        # The line ends there: the pane's border follows it (the text wrapped in the pane would fail too).
        ends = re.compile(re.escape(said) + r" *[┃│]")
        await wait_until(pilot, lambda: any(ends.search(line) for line in screen_lines(app)))
        shown = screen_text(app)
        assert "(approved)" not in shown and "(denied)" not in shown, shown
        assert _form(app).status_text == said
