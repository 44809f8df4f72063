"""The request pane's spacing as a person reads it: at most one blank line under the request's description, before
the first question, the keys or a status line, at 80x24 and 120x40."""

from __future__ import annotations

import re

import pytest

from tests.feed_service import wait_until
from tests.screen_reading import screen_lines
from tests.test_hitl_screen import SIZES, dashboard


def _form(app):
    return app.screen_dashboard.query_one("#hitl-form")


def _pane_lines(app) -> list[str]:
    """The request pane's inside, line by line, as drawn: the text between its left and right border (the pane
    beside it, at 120x40, cut off)."""
    pane = app.screen_dashboard.query_one("#human-request-pane").content_region
    inside = []
    for line in screen_lines(app)[pane.y : pane.bottom]:
        parts = re.split(r"[┃│]", line)
        inside.append(parts[1].strip() if len(parts) > 2 else "")
    return inside


def _blanks_after(lines: list[str], text: str) -> int:
    """How many blank lines follow the line holding ``text`` before the next line with something on it."""
    index = next(i for i, line in enumerate(lines) if text in line)
    blanks = 0
    for line in lines[index + 1 :]:
        if line.strip():
            return blanks
        blanks += 1
    raise AssertionError(f"nothing follows {text!r}:\n" + "\n".join(lines))


async def _show(app, pilot, service, emulator, scenario: str) -> None:
    run = await service.start_run(emulator.agents[scenario], message="x")
    await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
    await pilot.press("n")
    await wait_until(pilot, lambda: _form(app).is_open and _form(app).request.run_id == run.id)
    await pilot.pause(0.3)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_one_blank_line_under_an_approvals_description(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        await _show(app, pilot, service, emulator, "approval")
        await wait_until(pilot, lambda: any("a approve · d deny" in line for line in _pane_lines(app)))
        lines = _pane_lines(app)
        assert _blanks_after(lines, "Source:") == 1, "\n".join(lines)  # then the keys
        await pilot.press("a")
        await wait_until(pilot, lambda: any("Press y to APPROVE" in line for line in _pane_lines(app)))
        lines = _pane_lines(app)
        assert _blanks_after(lines, "Source:") == 1, "\n".join(lines)  # then the question to confirm
        assert _blanks_after(lines, "Press y to APPROVE") == 0, "\n".join(lines)  # and the keys under it
        await pilot.press("n")  # any other key cancels: the line says so, still one blank above it
        await wait_until(pilot, lambda: "Cancelled" in _form(app).status_text)
        await pilot.pause(0.2)
        assert _blanks_after(_pane_lines(app), "Source:") == 1


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_one_blank_line_between_the_description_and_the_first_question(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        await _show(app, pilot, service, emulator, "questions")
        await wait_until(pilot, lambda: any("1/3 Region" in line for line in _pane_lines(app)))
        lines = _pane_lines(app)
        assert _blanks_after(lines, "I need these to shape it.") == 1, "\n".join(lines)
