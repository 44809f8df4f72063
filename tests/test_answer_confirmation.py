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
        # The notification names who asked (the run list's name for it) when that fits, as here.
        await wait_until(pilot, lambda: any(said[:-1] + " · invoices" in line for line in screen_lines(app)))
        _confirmation_read_whole(app, said[:-1] + " · invoices")
        await pilot.press("4")  # back to the request pane: the answered form and its line
        # The line ends there: the pane's border follows it (the text wrapped in the pane would fail too).
        ends = re.compile(re.escape(said) + r" *[┃│]")
        await wait_until(pilot, lambda: any(ends.search(line) for line in screen_lines(app)))
        shown = screen_text(app)
        assert "(approved)" not in shown and "(denied)" not in shown, shown
        assert _form(app).status_text == said


def _confirmation_read_whole(app, start: str) -> str:
    """The confirmation notification's text (it starts with ``start``), checked to be drawn whole on one line."""
    from textual.errors import NoWidget
    from textual.widgets._toast import Toast

    lines = screen_lines(app)
    for toast in app.screen.query(Toast):
        message = str(toast._notification.message)
        if not message.startswith(start):
            continue
        try:
            drawn = bool(app.screen.find_widget(toast).visible_region)
        except NoWidget:
            drawn = False
        assert drawn, f"{message!r} is not drawn:\n" + "\n".join(lines)
        assert "\n" not in message and any(message in line for line in lines), (
            f"{message!r} is cut off:\n" + "\n".join(lines)
        )
        return message
    raise AssertionError(f"no notification starts with {start!r}:\n" + "\n".join(lines))


async def open_request(app, pilot, service, agent: str, message: str) -> None:
    """Start a run of ``agent`` and, once it asks, go to its request with n."""
    run = await service.start_run(agent, message=message)
    await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
    await pilot.press("n")
    await wait_until(pilot, lambda: _form(app).is_open and _form(app).request.run_id == run.id)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_the_confirmation_of_three_answers_is_read_whole(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        await open_request(app, pilot, service, emulator.agents["questions"], "report")
        await pilot.press("3", "1", "3", "enter", *"the board wants margins by country", "enter")
        await wait_until(pilot, lambda: _form(app).status_text.startswith("✓ Answers sent."))
        # The form keeps the whole summary; the notification is one short line, shown whole at either size.
        assert "Region: APAC" in _form(app).status_text
        await wait_until(pilot, lambda: any("✓ Answers sent" in line for line in screen_lines(app)))
        _confirmation_read_whole(app, "✓ Answers sent")


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_an_assignment_with_a_long_name_still_fits_the_confirmation(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        await open_request(app, pilot, service, emulator.agents["approval_legacy"], "Pay the invoices")
        await pilot.press("a", "y")
        await wait_until(pilot, lambda: any("✓ Approved" in line for line in screen_lines(app)))
        _confirmation_read_whole(app, "✓ Approved")
