"""``runs respond --answer``: an answer of one's own beside the offered options, as "Other" in the dashboard.

The API takes any string as the answer to a question (``answers`` maps question text to a string) and the
dashboard's form offers "Other" for every question with options, so the command line sends text that is no
label as typed, says so on stderr, and still refuses what cannot be right (several options for a
single-choice question, an empty answer).
"""

from __future__ import annotations

import json
import time

import pytest

from duvo_tui.api.models import HumanRequest, Question, QuestionOption
from duvo_tui.cli.answers import build_answers
from duvo_tui.cli.context import UsageError
from duvo_tui.emulator.scenarios import FORMAT_QUESTION, NOTES_QUESTION, REGION_QUESTION


def request() -> HumanRequest:
    return HumanRequest(
        id="r1",
        run_id="00000000-0000-4000-8000-000000000001",
        title="Choose",
        type="question",
        questions=(
            Question("Which environment?", header="Env", options=(QuestionOption("staging"), QuestionOption("prod"))),
            Question(
                "Which regions?",
                header="Regions",
                options=(QuestionOption("EU"), QuestionOption("US"), QuestionOption("APAC")),
                multi_select=True,
            ),
        ),
    )


def test_a_single_choice_takes_an_answer_of_ones_own_with_a_note():
    notes: list[str] = []
    answers = build_answers(request(), ["1=  qa, after the freeze ", "2=eu"], notes)
    assert answers == {"Which environment?": "qa, after the freeze", "Which regions?": "EU"}
    assert len(notes) == 1
    assert "'qa, after the freeze' is not an option of 'Which environment?'" in notes[0]
    assert "options: staging, prod" in notes[0] and "sent as your own answer" in notes[0]


def test_a_multi_select_mixes_labels_and_an_answer_of_ones_own():
    notes: list[str] = []
    answers = build_answers(request(), ["1=staging", "2=Mars, eu,apac,EU , Moon"], notes)
    # Labels first in their own spelling (once each), then the person's own text, as the dashboard sends it.
    assert answers["Which regions?"] == "EU, APAC, Mars, Moon"
    assert answers["Which environment?"] == "staging"
    assert len(notes) == 1 and "'Mars, Moon' is not an option of 'Which regions?'" in notes[0]


def test_labels_alone_make_no_note_and_notes_are_optional():
    notes: list[str] = []
    assert build_answers(request(), ["Env=PROD", "Regions=us,eu"], notes) == {
        "Which environment?": "prod",
        "Which regions?": "US, EU",
    }
    assert notes == []
    assert build_answers(request(), ["1=other", "2=else"]) == {"Which environment?": "other", "Which regions?": "else"}


@pytest.mark.parametrize(
    ("answers", "fragment"),
    [
        (["1=staging,prod", "2=EU"], "'Which environment?' takes one option, not 2 (staging, prod)"),
        (["1=Staging, PROD,", "2=EU"], "takes one option, not 2"),
        (["1=staging", "2=,"], "the answer to 'Which regions?' is empty"),
        (["1=  ", "2=EU"], "the answer to 'Which environment?' is empty"),
    ],
)
def test_what_cannot_be_an_answer_is_still_refused(answers, fragment):
    notes: list[str] = []
    with pytest.raises(UsageError) as caught:
        build_answers(request(), answers, notes)
    assert fragment in str(caught.value)


# --- against the emulator, through the command line ------------------------------------------------------------


def wait_for_waiting(cli, run_id: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        code, out, err = cli("runs", "get", run_id, "--json")
        assert code == 0, err
        detail = json.loads(out)
        if detail["run"]["status"] == "waiting":
            return detail
        assert time.monotonic() < deadline, f"run stayed {detail['run']['status']}"
        time.sleep(0.05)


def start_questions(cli, emulator) -> str:
    code, out, err = cli("runs", "start", emulator.agents["questions"], "--json")
    assert code == 0, err
    run_id = json.loads(out)["id"]
    wait_for_waiting(cli, run_id)
    return run_id


def test_respond_sends_an_answer_of_ones_own_to_the_server(cli, emulator):
    run_id = start_questions(cli, emulator)
    code, out, err = cli(
        "runs", "respond", run_id, "--json",
        "--answer", "Region=Antarctica", "--answer", "Formats=csv,a poster", "--answer", "3=nothing",
    )  # fmt: skip
    assert code == 0, err
    assert err.count("duvo-tui: note: ") == 2
    assert "'Antarctica' is not an option of" in err and "'a poster' is not an option of" in err
    sent = json.loads(json.loads(out)["response"])
    assert sent == {REGION_QUESTION: "Antarctica", FORMAT_QUESTION: "CSV, a poster", NOTES_QUESTION: "nothing"}


def test_respond_refuses_two_options_for_a_single_choice_and_sends_nothing(cli, emulator):
    run_id = start_questions(cli, emulator)
    request_id = wait_for_waiting(cli, run_id)["pending_human_request"]["id"]
    code, _, err = cli("runs", "respond", run_id, "--answer", "1=emea,apac", "--answer", "2=PDF", "--answer", "3=x")
    assert code == 2
    assert f"{REGION_QUESTION!r} takes one option, not 2 (EMEA, APAC)" in err
    # Nothing went out: the run still waits for the same request.
    assert wait_for_waiting(cli, run_id)["pending_human_request"]["id"] == request_id
