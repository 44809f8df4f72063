"""The answering form against the emulator: keyboard only, real client, real sockets."""

from __future__ import annotations

import json

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.api.models import HumanRequest, Question, QuestionOption
from duvo_tui.emulator.scenarios import FORMAT_QUESTION, NOTES_QUESTION, REGION_QUESTION
from duvo_tui.service.drafts import DraftStore
from duvo_tui.ui.hitl.hitl_choices import ChoiceList
from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
from tests.hitl_harness import FormHarness, wait_for_request, wait_until

SIZE = (100, 50)


@pytest.fixture
def emulator():
    """The emulator with scenarios at 200x speed (the agents ask within a few hundredths of a second)."""
    from duvo_tui.emulator.testing import running_emulator

    with running_emulator(speed=200) as handle:
        yield handle


def _record(emulator, run_id: str, request_id: str):
    return emulator.state.runs[run_id].requests[request_id]


def _texts(emulator, run_id: str) -> list[str]:
    return [m.get("text_content") or "" for m in emulator.state.runs[run_id].messages]


async def _start(client: DuvoClient, emulator, scenario: str) -> tuple[str, HumanRequest]:
    run = await client.start_run(emulator.agents[scenario], message="test")
    return run.id, await wait_for_request(client, run.id)


async def _open(pilot, app: FormHarness, request: HumanRequest) -> HumanRequestForm:
    app.form.show(request, agent="Invoice Approver")
    await pilot.pause()
    app.form.focus()
    await pilot.pause()
    return app.form


async def _run_finished(pilot, emulator, run_id: str) -> None:
    await wait_until(pilot, lambda: emulator.state.runs[run_id].status == "completed")


async def test_approve_with_a_then_y_and_the_run_pays(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        run_id, request = await _start(client, emulator, "approval")
        app = FormHarness(client.respond)
        async with app.run_test(size=SIZE) as pilot:
            form = await _open(pilot, app, request)
            await pilot.press("a")
            assert "Press y to APPROVE" in form.status_text
            assert _record(emulator, run_id, request.id).responded_at is None
            await pilot.press("y")
            await wait_until(pilot, lambda: app.outcomes)
            assert app.outcomes[0].ok, app.outcomes[0]
            assert form.status_text.startswith("✓ Approved.")
            assert _record(emulator, run_id, request.id).response == "approved"
            await _run_finished(pilot, emulator, run_id)
    texts = _texts(emulator, run_id)
    assert any("Sending the payment now" in t for t in texts)
    assert not any("fallback path" in t for t in texts)


async def test_deny_needs_y_any_other_key_cancels_and_the_run_takes_the_fallback(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        run_id, request = await _start(client, emulator, "approval")
        app = FormHarness(client.respond)
        async with app.run_test(size=SIZE) as pilot:
            form = await _open(pilot, app, request)
            await pilot.press("a", "n")  # a stray key after "a" cancels
            assert "Cancelled" in form.status_text
            await pilot.press("d", "escape")
            assert "Cancelled" in form.status_text
            await pilot.pause(0.1)
            assert app.submitted == []
            assert _record(emulator, run_id, request.id).responded_at is None
            await pilot.press("d")
            assert "Press y to DENY" in form.status_text
            await pilot.press("y")
            await wait_until(pilot, lambda: app.outcomes)
            assert app.outcomes[0].ok
            assert form.status_text.startswith("✓ Denied.")
            assert _record(emulator, run_id, request.id).response == "denied"
            await _run_finished(pilot, emulator, run_id)
    texts = _texts(emulator, run_id)
    assert any("Taking the fallback path" in t for t in texts)
    assert not any("Sending the payment now" in t for t in texts)
    assert len(app.submitted) == 1 and app.submitted[0].approved is False


async def test_three_questions_single_multi_and_free_text_arrive_exactly(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        run_id, request = await _start(client, emulator, "questions")
        app = FormHarness(client.respond)
        async with app.run_test(size=SIZE) as pilot:
            form = await _open(pilot, app, request)
            # Region: arrows then space picks Americas; "1" would pick EMEA and move on, but first try arrows.
            await pilot.press("down", "space")
            # A single choice moves on by itself: now the formats, a multi-select.
            await pilot.press("1", "3", "3", "3")  # PDF, Slides on, off, on
            await pilot.press("tab")
            await pilot.press(*"[b]Q3[/]")
            await pilot.press("enter")  # enter on the last question sends
            await wait_until(pilot, lambda: app.outcomes)
            assert app.outcomes[0].ok, app.outcomes[0]
            assert form.status_text.startswith("✓ Answers sent.")
            await _run_finished(pilot, emulator, run_id)
    sent = json.loads(_record(emulator, run_id, request.id).response)
    assert sent == {
        REGION_QUESTION: "Americas",
        FORMAT_QUESTION: "PDF, Slides",
        NOTES_QUESTION: "[b]Q3[/]",
    }
    assert any("Region: Americas. Formats: PDF, Slides." in t for t in _texts(emulator, run_id))


async def test_an_other_answer_and_missing_answers_are_pointed_out(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        run_id, request = await _start(client, emulator, "questions")
        app = FormHarness(client.respond)
        async with app.run_test(size=SIZE) as pilot:
            form = await _open(pilot, app, request)
            await pilot.press("4")  # "Other" for the region: the free-text box takes focus
            await pilot.press(*"LATAM", "enter")
            await pilot.press("ctrl+s")  # formats and notes are still open
            assert "Answer “Formats” first" in form.status_text
            assert app.submitted == []
            await pilot.press("2", "enter", *"none", "enter")
            await wait_until(pilot, lambda: app.outcomes)
            assert app.outcomes[0].ok, app.outcomes[0]
    sent = json.loads(_record(emulator, run_id, request.id).response)
    assert sent == {REGION_QUESTION: "LATAM", FORMAT_QUESTION: "CSV", NOTES_QUESTION: "none"}


async def test_submit_through_502s_and_a_429_is_delivered_once(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key, backoff_base=0.05) as client:
        run_id, request = await _start(client, emulator, "approval")
        app = FormHarness(client.respond)
        async with app.run_test(size=SIZE) as pilot:
            form = await _open(pilot, app, request)
            emulator.state.inject_rate_limit(retry_after=0.5)
            emulator.state.fail_next(2, status=502)
            await pilot.press("a", "y")
            await wait_until(pilot, lambda: app.outcomes, within=20)
            assert app.outcomes[0].ok, app.outcomes[0]
            assert form.status_text.startswith("✓ Approved.")
            await _run_finished(pilot, emulator, run_id)
    assert _record(emulator, run_id, request.id).response == "approved"
    texts = _texts(emulator, run_id)
    assert sum("Sending the payment now" in t for t in texts) == 1
    assert len(app.submitted) == 1


async def test_failure_keeps_the_answer_and_says_what_failed(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=1, backoff_base=0.05) as client:
        run_id, request = await _start(client, emulator, "questions")
        app = FormHarness(client.respond)
        async with app.run_test(size=SIZE) as pilot:
            form = await _open(pilot, app, request)
            emulator.state.fail_next(10, status=502)
            await pilot.press("1", "2", "tab", *"keep", "ctrl+s")
            await wait_until(pilot, lambda: app.outcomes, within=20)
            assert not app.outcomes[0].ok
            assert "Not sent: 502" in form.status_text and "press ctrl+s" in form.status_text
            draft = DraftStore().load(request.id)
            assert draft is not None and draft.answers[NOTES_QUESTION].text == "keep"
            emulator.state.clear_faults()
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: len(app.outcomes) == 2, within=20)
            assert app.outcomes[1].ok
            assert DraftStore().load(request.id) is None  # cleared only now that the server confirmed
    sent = json.loads(_record(emulator, run_id, request.id).response)
    assert sent[NOTES_QUESTION] == "keep"
    # The retry after a changed draft or a restart reuses the key for the same answer.
    assert len(app.keys) == 2 and app.keys[0] == app.keys[1]


async def test_a_request_answered_elsewhere_says_so_and_keeps_the_draft(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        run_id, request = await _start(client, emulator, "questions")
        app = FormHarness(client.respond)
        async with app.run_test(size=SIZE) as pilot:
            form = await _open(pilot, app, request)
            await pilot.press("3", "1", "tab", *"mine")
            await client.respond(run_id, request.id, answers={REGION_QUESTION: "EMEA"})
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.outcomes)
            assert app.outcomes[0].kind == "answered_elsewhere"
            assert "already answered elsewhere" in form.status_text
            assert "Your draft is kept below" in form.status_text
            assert form.query_one(".answer-text").value == "mine"
            assert DraftStore().load(request.id) is not None
    assert json.loads(_record(emulator, run_id, request.id).response) == {REGION_QUESTION: "EMEA"}


async def test_a_request_that_went_away_while_open_is_said_plainly(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        run_id, request = await _start(client, emulator, "approval")
        app = FormHarness(client.respond)
        async with app.run_test(size=SIZE) as pilot:
            form = await _open(pilot, app, request)
            await client.stop_run(run_id)
            # The service reports that the run no longer waits: the form keeps the request on screen.
            form.show(None, run_id=run_id)
            await pilot.pause()
            assert "the run stopped waiting" in form.status_text
            assert form.request is not None and form.display
            await pilot.press("a", "y")
            await pilot.pause(0.1)
            assert app.submitted == []


async def test_a_draft_survives_a_restart(emulator, isolated_home):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        run_id, request = await _start(client, emulator, "questions")
        first = FormHarness(client.respond)
        async with first.run_test(size=SIZE) as pilot:
            await _open(pilot, first, request)
            await pilot.press("3", "1", "3", "tab", *"half")
            await pilot.pause(0.4)  # the debounced save
        path = DraftStore().path_for(request.id)
        assert path.exists() and (path.stat().st_mode & 0o777) == 0o600

        second = FormHarness(client.respond, DraftStore())  # a new app, same DUVO_TUI_HOME
        async with second.run_test(size=SIZE) as pilot:
            form = await _open(pilot, second, request)
            assert "Draft restored" in form.status_text
            assert form.query_one(".answer-text").value == "half"
            assert [c.chosen for c in form.query(ChoiceList)] == [["APAC"], ["PDF", "Slides"]]
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: second.outcomes)
            assert second.outcomes[0].ok
    sent = json.loads(_record(emulator, run_id, request.id).response)
    assert sent == {REGION_QUESTION: "APAC", FORMAT_QUESTION: "PDF, Slides", NOTES_QUESTION: "half"}
    assert not path.exists()


# --- no server needed --------------------------------------------------------------------------------------

HOSTILE = HumanRequest(
    id="req-1",
    run_id="run-1",
    title="[@click=app.quit]Pay[/] \x1b]52;c;aGk=\x07now",
    description=(
        "# Details\n\nClick [ @click=app.quit]here[/] or [@click=app.screenshot('x','/tmp')]there[/].\n\n"
        "A [link](https://example.com) and [another](app.quit) and a stray [/] tag.\n"
    ),
    type="approval",
)


async def test_server_text_is_inert_markup_and_links_open_nothing(monkeypatch):
    opened: list[str] = []
    app = FormHarness(respond=None)
    monkeypatch.setattr(app, "open_url", lambda url, **kw: opened.append(url))
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, app, HOSTILE)
        await pilot.pause(0.2)
        head = str(app.form.query_one("#hitl-head").visual)
        assert "[@click=app.quit]Pay[/]" in head and "\x1b" not in head
        from textual.widgets._markdown import MarkdownBlock

        actions = []
        shown = ""
        for block in app.form.query(MarkdownBlock):
            content = block._content
            shown += content.plain
            for span in content.spans:
                meta = getattr(span.style, "meta", None) or {}
                if "@click" in meta:
                    actions.append((block, meta["@click"]))
        assert "[ @click=app.quit]here[/]" in shown
        assert "[@click=app.screenshot('x','/tmp')]there[/]" in shown
        assert actions and all(action.startswith("link(") for _, action in actions)
        for block, action in actions:
            await app.run_action(action, block)
        await pilot.pause()
        assert opened == []
        assert app.is_running


async def test_keys_without_a_request_do_nothing():
    app = FormHarness(respond=None)
    async with app.run_test(size=SIZE) as pilot:
        app.form.focus()
        await pilot.press("a", "y", "d", "y", "ctrl+s")
        assert app.submitted == []
        assert not app.form.display


def test_markdown_question_labels_are_kept_literal():
    from duvo_tui.service.drafts import QuestionDraft
    from duvo_tui.ui.hitl.hitl_choices import answer_for

    question = Question("Pick", options=(QuestionOption("[b]A[/b]"), QuestionOption("B")), multi_select=True)
    assert answer_for(question, QuestionDraft(chosen=["B", "[b]A[/b]"], text="C")) == "[b]A[/b], B, C"
    single = Question("One", options=(QuestionOption("A"),))
    assert answer_for(single, QuestionDraft(chosen=[], text=" typed ")) == "typed"
    assert answer_for(single, QuestionDraft(chosen=["A"])) == "A"
    assert answer_for(Question("Free"), QuestionDraft(text="  x ")) == "x"


async def test_a_request_resolved_elsewhere_while_shown_is_said_plainly():
    from duvo_tui.service.events import HumanRequestResolved

    request = HumanRequest(id="req-9", run_id="run-9", title="Approve?", type="approval")
    app = FormHarness(respond=None)
    async with app.run_test(size=SIZE) as pilot:
        form = await _open(pilot, app, request)
        form.handle_service_event(HumanRequestResolved("run-9", "other-request"))
        assert form.status_text == ""
        form.handle_service_event(HumanRequestResolved("run-9", "req-9"))
        assert "answered elsewhere or the run stopped waiting" in form.status_text
        await pilot.press("a", "y")
        assert app.submitted == []
        # Another run's request replaces it; the old notice goes.
        form.show(HumanRequest(id="req-10", run_id="run-10", title="Next?", type="approval"))
        await pilot.pause()
        assert form.status_text == "" and form.is_open
