"""Answering a three-question request as a person at 80x24 and 120x40 sees it: every question in view as it is
reached, the confirmation shown, the answer sent once, and nothing typed afterwards changing it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from tests.feed_service import wait_until
from tests.screen_reading import focus_is_visible, screen_text
from tests.test_ui_dashboard import FAST, demo_profile

SIZES = [(80, 24), (120, 40)]
TEXT = "nothing else"


@contextlib.asynccontextmanager
async def dashboard(emulator: Any, tmp_path: Any, size: tuple[int, int]) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The dashboard with notifications on (the confirmation is one), over a service whose answers are counted."""
    client = DuvoClient(emulator.base_url, emulator.api_key)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    sent: list[Any] = []
    respond = service.respond

    async def counting_respond(*args: Any, **kwargs: Any) -> Any:
        sent.append((args, kwargs))
        return await respond(*args, **kwargs)

    service.respond = counting_respond  # type: ignore[method-assign]
    app = make_app(service, demo_profile(emulator), on_close=client.aclose)
    app.sent = sent  # type: ignore[attr-defined]
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        yield app, pilot, service


def keys_for(text: str) -> list[str]:
    return ["space" if char == " " else char for char in text]


def focused_question(app: Any) -> Any:
    from duvo_tui.ui.hitl.hitl_choices import QuestionBlock

    node = app.screen.focused
    while node is not None and not isinstance(node, QuestionBlock):
        node = node.parent
    return node


@pytest.mark.parametrize("size", SIZES)
async def test_each_question_is_in_view_as_it_is_reached_and_the_answer_goes_once(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        run = await service.start_run(emulator.agents["questions"], message="report")
        await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
        keys = ["n", "3", "1", "2", "enter", *keys_for(TEXT), "enter"]
        for number, key in enumerate(keys):
            await pilot.press(key)
            await pilot.pause(0.15)
            visible, why = focus_is_visible(app)
            assert visible, f"after key {number} ({key!r}): {why}\n{screen_text(app)}"
            block = focused_question(app)
            if block is not None:
                # The whole question is in view: its text and every option (or its text box).
                view = app.screen_dashboard.query_one("#human-request-pane").scrollable_content_region
                assert view.contains_region(block.region), f"after {key!r}: question {block.number} is cut off"
                shown = screen_text(app)
                assert block.question.header in shown
        await wait_until(pilot, lambda: len(app.sent) == 1 and run.id not in app.screen_dashboard.requests)
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "✓ Answers sent" in shown, shown  # the confirmation, wherever the focus went
        form = app.screen_dashboard.query_one("#hitl-form")
        # The form keeps what was sent, on one line (the notification is short enough to be read whole).
        assert form.status_text.startswith("✓") and "\n" not in form.status_text
        assert "Region: APAC" in form.status_text
        assert app.screen.focused is app.screen_dashboard.query_one("#run-list")  # nothing else waits
        # Nothing typed afterwards reaches the sent form.
        for key in ["4", "1", "2", "3", "space", "enter", "ctrl+s", "4", "tab", "1"]:
            await pilot.press(key)
        await pilot.pause(0.3)
        assert len(app.sent) == 1
        args, kwargs = app.sent[0]
        submission = args[0] if args else kwargs["submission"]
        assert submission.answers == {
            "Which region should the report cover?": "APAC",
            "Which formats do you want?": "PDF, CSV",
            "Anything else the report should mention?": TEXT,
        }
        record = next(iter(emulator.state.runs[run.id].requests.values()))
        assert record.responded_at is not None
        assert "Already answered" not in form.status_text
        # Back on the sent form, the line saying it was sent is in view (not below the edge).
        await pilot.press("4")
        await pilot.pause(0.3)
        view = app.screen_dashboard.query_one("#human-request-pane").scrollable_content_region
        status = form.query_one("#hitl-status")
        assert status.region and view.contains_region(status.region), screen_text(app)


@pytest.mark.parametrize("size", SIZES)
async def test_key_4_lands_on_the_first_open_question(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        run = await service.start_run(emulator.agents["questions"], message="report")
        await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
        app.screen_dashboard.query_one("#run-list").select(run.id)
        await pilot.press("1", "4")
        await pilot.pause(0.3)
        block = focused_question(app)
        assert block is not None and block.number == 1
        await pilot.press("2")  # a digit picks an option (Americas) instead of switching panes
        await pilot.pause(0.2)
        assert app.screen_dashboard.active_pane == 3
        assert focused_question(app).number == 2
        await pilot.press("1", "4")  # away and back: the first question still open is the second
        await pilot.pause(0.3)
        assert focused_question(app).number == 2
        visible, why = focus_is_visible(app)
        assert visible, why


async def test_sending_with_a_question_open_says_so_next_to_it(emulator, tmp_path):
    async with dashboard(emulator, tmp_path, (80, 24)) as (app, pilot, service):
        run = await service.start_run(emulator.agents["questions"], message="report")
        await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
        await pilot.press("n", "3", "1", "enter")  # the notes are left empty
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)
        shown = screen_text(app)
        assert "answer this question first" in shown
        assert focused_question(app).number == 3
        visible, why = focus_is_visible(app)
        assert visible, why
        assert app.sent == []


async def test_key_4_pressed_before_the_request_arrives_hands_the_keys_to_the_form_when_it_does(tmp_path):
    from duvo_tui.emulator.testing import running_emulator

    # A slow emulator: the run asks its questions a second or more after it starts, well after 4 is pressed.
    with running_emulator(speed=0.5) as slow:
        async with dashboard(slow, tmp_path, (80, 24)) as (app, pilot, service):
            run = await service.start_run(slow.agents["questions"], message="report")
            screen = app.screen_dashboard
            await wait_until(pilot, lambda: screen.run_list.row(run.id) is not None)
            screen.run_list.select(run.id)
            await pilot.press("4")
            await pilot.pause(0.2)
            assert run.id not in screen.requests, "the request came before 4 was pressed: nothing was tested"
            assert app.screen.focused is screen.query_one("#human-request-pane")
            await wait_until(pilot, lambda: run.id in screen.requests)
            await wait_until(pilot, lambda: focused_question(app) is not None)
            assert focused_question(app).number == 1
            await pilot.press("2")  # a digit picks an option instead of switching panes
            await pilot.pause(0.2)
            assert screen.active_pane == 3 and focused_question(app).number == 2
