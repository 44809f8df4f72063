"""Answering human requests in the real dashboard (real service, real client, emulator), keys only.

The approval from the dashboard (n a y) is covered end to end in a real terminal by test_e2e_tmux.py."""

from __future__ import annotations

import json

from duvo_tui.emulator.scenarios import FORMAT_QUESTION, NOTES_QUESTION, REGION_QUESTION
from duvo_tui.ui.hitl.hitl_choices import QuestionBlock
from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
from duvo_tui.ui.hitl.inbox import InboxScreen
from tests.hitl_harness import dashboard, start_run, type_text, wait_until


def _form(app) -> HumanRequestForm:
    return app.screen_dashboard.query_one(HumanRequestForm)


def _record(emulator, run_id: str):
    requests = list(emulator.state.runs[run_id].requests.values())
    assert len(requests) == 1
    return requests[0]


def _waiting(service, run_id: str) -> bool:
    return any(r.run_id == run_id for r in service.pending_requests())


async def test_three_questions_from_the_dashboard(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        run_id = await start_run(service, emulator, "questions", "Quarterly report")
        await wait_until(pilot, lambda: _waiting(service, run_id))
        await pilot.pause(0.1)
        # The person is told: a toast (server text shown literally) and the bell.
        assert "\a" in app.screen_dashboard.request_pane.notifier.sent
        assert any("asks: A few questions about the report" in str(n.message) for n in app._notifications)
        # Keys from "the request appeared" to "the answers are sent": n 1 1 3 enter <text> enter.
        await pilot.press("n")
        await pilot.pause(0.2)
        body = _form(app).query_one("#hitl-body")
        blocks = list(body.query(QuestionBlock))
        assert len(blocks) == 3 and all(b.outer_size.height >= 3 for b in blocks)
        assert body.size.height >= sum(b.outer_size.height for b in blocks)  # nothing clipped
        await pilot.press("1", "1", "3", "enter")
        await type_text(pilot, "Q3 only")
        await pilot.press("enter")
        await wait_until(pilot, lambda: _record(emulator, run_id).response is not None)
        await wait_until(pilot, lambda: _form(app).status_text.startswith("✓ Answers sent."))
    assert json.loads(_record(emulator, run_id).response) == {
        REGION_QUESTION: "EMEA",
        FORMAT_QUESTION: "PDF, Slides",
        NOTES_QUESTION: "Q3 only",
    }


async def test_inbox_lists_every_waiting_request_oldest_first_and_drafts_survive_switching(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        # Both runs start before either asks (a run started while another waits can go unpolled for a
        # long time: a service scheduling issue this test is not about).
        first = await start_run(service, emulator, "questions", "Report")
        second = await start_run(service, emulator, "approval", "Pay")
        await wait_until(pilot, lambda: _waiting(service, first) and _waiting(service, second), within=20)
        await pilot.press("N")
        await wait_until(pilot, lambda: isinstance(app.screen, InboxScreen))
        entries = app.screen.entries
        assert {e.run_id for e in entries} == {first, second}
        times = [e.request.created_at for e in entries]
        assert None not in times and times == sorted(times)  # oldest first
        if entries[0].run_id != first:
            await pilot.press("down")  # the questions are the second row
        await pilot.press("enter")
        await wait_until(pilot, lambda: _form(app).request is not None and _form(app).request.run_id == first)
        await pilot.press("2", "tab")
        await type_text(pilot, "kept")
        await pilot.press("escape", "1")  # leave the questions, go to pane 1: the draft must stay
        await pilot.press("n")  # the next waiting run: the approval
        await wait_until(pilot, lambda: _form(app).request.run_id == second)
        await pilot.press("n")  # and back
        await wait_until(pilot, lambda: _form(app).request.run_id == first)
        await pilot.pause(0.1)
        form = _form(app)
        assert form.query_one(".answer-text").value == "kept"
        assert form.draft is not None and form.draft.answers[REGION_QUESTION].chosen == ["Americas"]
        # Focus is on the first open question (the formats); after answering, the next request takes the keyboard.
        await pilot.press("1", "ctrl+s")
        await wait_until(pilot, lambda: _record(emulator, first).response is not None)
        await wait_until(pilot, lambda: _form(app).request.run_id == second)
        assert app.screen_dashboard.active_pane == 3
