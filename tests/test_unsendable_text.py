"""Text that is not valid UTF-8 (lone surrogates) is refused by the client before anything is sent.

``b"caf\\xff"`` typed on a command line reaches Python as ``"caf\\udcff"`` (surrogateescape); a pasted string
can hold a lone surrogate such as ``"\\ud83d"``. Neither can be encoded for the wire.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest

from duvo_tui.api import errors
from duvo_tui.api.budget import RateBudget
from duvo_tui.api.client import DuvoClient
from duvo_tui.api.sendable import check_body, unencodable_at
from duvo_tui.service.drafts import Draft, DraftStore, QuestionDraft
from duvo_tui.service.responder import Submission, answer, idempotency_key_for
from tests.cli_support import new_sandbox

BAD_BYTES = b"caf\xff".decode("utf-8", "surrogateescape")  # "caf\udcff"
LONE = "hi \ud83d there"  # half of an emoji's surrogate pair
BYTE_NOTE = "contains bytes that are not valid UTF-8 (the byte 0xFF at character 4)"


class CountingBudget(RateBudget):
    """A budget that counts the requests it let through."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquired = 0

    async def acquire(self, urgent: bool = False) -> None:
        self.acquired += 1
        await super().acquire(urgent=urgent)


# (name, call(client, ids) -> awaitable, the error's expected text)
CALLS = [
    ("start_run message", lambda c, i: c.start_run(i["agent"], message=BAD_BYTES), f"message: {BYTE_NOTE}"),
    (
        "start_run lone surrogate",
        lambda c, i: c.start_run(i["agent"], message=LONE),
        "message: contains bytes that are not valid UTF-8 (a lone surrogate U+D83D at character 4)",
    ),
    (
        "start_run sandbox",
        lambda c, i: c.start_run(i["agent"], message="ok", sandbox_id=BAD_BYTES),
        f"sandbox_id: {BYTE_NOTE}",
    ),
    (
        "start_run webhook",
        lambda c, i: c.start_run(i["agent"], webhook_url="https://example.com/" + LONE),
        "webhook_url: contains bytes that are not valid UTF-8 (a lone surrogate U+D83D at character 24)",
    ),
    ("post_message text", lambda c, i: c.post_message(i["run"], BAD_BYTES), f"message: {BYTE_NOTE}"),
    ("post_message run id", lambda c, i: c.post_message(BAD_BYTES, "hello"), f"run_id: {BYTE_NOTE}"),
    (
        "respond answer",
        lambda c, i: c.respond(i["run"], "req-1", answers={"Which vendor?": BAD_BYTES}),
        f"answers (answer 1): {BYTE_NOTE}",
    ),
    (
        "respond question",
        lambda c, i: c.respond(i["run"], "req-1", answers={"Amount?": "12", BAD_BYTES: "yes"}),
        f"answers (question 2): {BYTE_NOTE}",
    ),
    ("respond request id", lambda c, i: c.respond(i["run"], BAD_BYTES, approved=True), f"request_id: {BYTE_NOTE}"),
    (
        "post_message idempotency key",
        lambda c, i: c.post_message(i["run"], "hello", idempotency_key="key-\u00e9"),
        "Idempotency-Key: holds characters that cannot go in an HTTP header",
    ),
    (
        "create_upload_url path",
        lambda c, i: c.create_upload_url(i["sandbox"], "/workspace/" + BAD_BYTES),
        "path: contains bytes that are not valid UTF-8 (the byte 0xFF at character 15)",
    ),
    (
        "upload_file path",
        lambda c, i: c.upload_file(i["sandbox"], "/workspace/in/" + BAD_BYTES, b"vendor,amount\n"),
        "path: contains bytes that are not valid UTF-8 (the byte 0xFF at character 18)",
    ),
    (
        "list_files path",
        lambda c, i: c.list_files(i["sandbox"], "/workspace/" + BAD_BYTES),
        "path: contains bytes that are not valid UTF-8 (the byte 0xFF at character 15)",
    ),
    ("get_run run id", lambda c, i: c.get_run(BAD_BYTES), f"run_id: {BYTE_NOTE}"),
    ("stop_run run id", lambda c, i: c.stop_run(BAD_BYTES), f"run_id: {BYTE_NOTE}"),
]


@pytest.mark.parametrize(("name", "call", "expected"), CALLS, ids=[c[0] for c in CALLS])
async def test_unencodable_text_is_refused_before_any_request(emulator, name, call, expected):
    budget = CountingBudget()
    async with DuvoClient(emulator.base_url, emulator.api_key, budget=budget, max_retries=0) as client:
        sandbox = await client.create_sandbox()
        run = await client.start_run(emulator.agents["quick"], message="hello")
        ids = {"agent": emulator.agents["quick"], "run": run.id, "sandbox": sandbox.sandbox_id}
        before_budget = budget.acquired
        before_idempotency = len(emulator.state.idempotency)
        emulator.state.fail_next(1, status=502)  # the next request that reaches the server gets this 502

        with pytest.raises(errors.InvalidInputError) as caught:
            await call(client, ids)

        assert str(caught.value) == expected
        assert caught.value.field == expected.split(":", 1)[0]
        assert isinstance(caught.value, errors.DuvoError) and not caught.value.transient
        assert budget.acquired == before_budget, "the budget was drawn on"
        assert len(emulator.state.idempotency) == before_idempotency
        # The 502 is still waiting: no request reached the server.
        with pytest.raises(errors.ServerError):
            await client.get_run(run.id)
        assert budget.acquired == before_budget + 1
        # And the client still works for valid text afterwards.
        posted = await client.post_message(run.id, "caf\u00e9 \U0001f600")
        assert posted.text_content == "caf\u00e9 \U0001f600"


async def test_valid_unicode_goes_through(emulator):
    """Non-ASCII that is valid (accents, emoji as a proper pair, CJK) is not refused."""
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=0) as client:
        run = await client.start_run(emulator.agents["quick"], message="Gr\u00fc\u00dfe \u4f60\u597d \U0001f44b")
        message = await client.post_message(run.id, "na\u00efve \U0001f600")
        assert message.text_content == "na\u00efve \U0001f600"


def test_unencodable_at_finds_the_first_bad_character():
    assert unencodable_at("fine \u00e9\U0001f600") is None
    assert unencodable_at(BAD_BYTES) == 3
    assert unencodable_at("a\ud800b\udfff") == 1


def test_nested_body_values_are_named():
    with pytest.raises(errors.InvalidInputError) as caught:
        check_body({"answers": {"ok": "fine", "q": ["x", "\udc80"]}})
    assert caught.value.field == "answers (value 2) (item 2)"
    assert "the byte 0x80 at character 1" in str(caught.value)


def test_cli_runs_say_with_invalid_bytes_is_a_usage_error(cli, emulator):
    code, out, _ = cli("runs", "start", emulator.agents["quick"], "--json")
    assert code == 0
    run_id = json.loads(out)["id"]
    emulator.state.fail_next(1, status=502)
    # What Python makes of `duvo-tui runs say RUN $'caf\xff'`: sys.argv holds the surrogateescape'd text.
    code, out, err = cli("runs", "say", run_id, BAD_BYTES)
    assert code == 2
    assert out == ""
    assert err == f"duvo-tui: error: message: {BYTE_NOTE}\n"
    # The forced 502 is still waiting: the command sent nothing.
    assert emulator.state.take_forced_failure() == 502


def test_cli_runs_start_with_invalid_message_is_a_usage_error(cli, emulator):
    emulator.state.fail_next(1, status=502)
    code, out, err = cli("runs", "start", emulator.agents["quick"], "--message", "hi \ud83d")
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "duvo-tui: error: message: contains bytes that are not valid UTF-8 (a lone surrogate U+D83D at character 4)"
    ]
    assert emulator.state.take_forced_failure() == 502
    assert emulator.state.runs == {}


def test_a_draft_with_a_lone_surrogate_is_saved_and_read_back(tmp_path):
    store = DraftStore(tmp_path)
    draft = Draft(run_id="r1", request_id="q1", answers={"Which?": QuestionDraft(chosen=["A"], text=BAD_BYTES)})
    store.save(draft)
    assert "\\udcff" in store.path_for("q1").read_text(encoding="utf-8")
    loaded = store.load("q1")
    assert loaded is not None and loaded.answers["Which?"].text == BAD_BYTES
    # Valid non-ASCII text stays readable in the file.
    store.save(Draft(run_id="r1", request_id="q2", answers={"Which?": QuestionDraft(text="caf\u00e9")}))
    assert "caf\u00e9" in store.path_for("q2").read_text(encoding="utf-8")


def test_idempotency_key_of_an_unencodable_answer_is_stable_and_distinct():
    salt = "8c4a6f7e-0b5d-4a8e-9c3f-2d1e0f9a8b7c"
    key = idempotency_key_for(salt, None, {"Which?": BAD_BYTES})
    assert key == idempotency_key_for(salt, None, {"Which?": BAD_BYTES})
    assert key != idempotency_key_for(salt, None, {"Which?": "caf\udcfe"})
    assert key != idempotency_key_for(salt, None, {"Which?": "caf"})


async def test_submitting_an_unencodable_answer_fails_and_keeps_the_draft(emulator, tmp_path):
    store = DraftStore(tmp_path)
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=0) as client:
        run = await client.start_run(emulator.agents["questions"], message="go")
        for _ in range(300):
            detail = await client.get_run(run.id)
            if detail.pending_human_request is not None:
                break
            await asyncio.sleep(0.03)
        request = detail.pending_human_request
        assert request is not None and request.questions, "the questions run never asked"
        question = request.questions[0].question
        store.save(Draft(run_id=run.id, request_id=request.id, answers={question: QuestionDraft(text=BAD_BYTES)}))
        emulator.state.fail_next(1, status=502)
        submission = Submission(run.id, request.id, answers={question: BAD_BYTES}, idempotency_key=str(uuid.uuid4()))

        outcome = await answer(client.respond, submission, store)

        assert outcome.kind == "failed" and not outcome.final
        assert outcome.message == f"Not sent: answers (answer 1): {BYTE_NOTE}"
        assert store.load(request.id) is not None  # what was typed is kept
        assert emulator.state.take_forced_failure() == 502  # nothing reached the server
        detail = await client.get_run(run.id)
        assert detail.pending_human_request is not None and detail.pending_human_request.id == request.id


def test_cli_upload_of_a_file_whose_name_is_not_utf8_fails_that_file_only(cli, emulator, tmp_path):
    sandbox_id = new_sandbox(cli)
    bad = os.path.join(os.fsencode(tmp_path), b"caf\xff.txt")
    with open(bad, "wb") as handle:
        handle.write(b"hello")
    good = tmp_path / "good.txt"
    good.write_text("ok")

    code, out, err = cli("sandbox", "upload", sandbox_id, os.fsdecode(bad), str(good))

    assert code == 1
    assert "Uploaded" in out and "/workspace/good.txt" in out
    assert "path: contains bytes that are not valid UTF-8 (the byte 0xFF at character 15)" in err
    assert "Unexpected" not in err and "UnicodeEncodeError" not in err
    root = emulator.state.sandboxes[sandbox_id].root
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["good.txt"]


def test_cli_respond_with_an_answer_that_is_not_utf8_is_a_usage_error(cli, emulator):
    from tests.test_cli_answers import start_questions, wait_for_waiting

    run_id = start_questions(cli, emulator)
    request_id = wait_for_waiting(cli, run_id)["pending_human_request"]["id"]
    code, out, err = cli(
        "runs", "respond", run_id, "--answer", "1=EMEA", "--answer", "2=PDF", "--answer", "3=" + BAD_BYTES
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert err.endswith(f"duvo-tui: error: answers (answer 3): {BYTE_NOTE}\n")
    record = emulator.state.runs[run_id].requests[request_id]
    assert record.response is None and emulator.state.runs[run_id].pending is record  # nothing was sent


def test_the_console_script_given_raw_bytes_exits_2_with_one_line(emulator):
    """The real argv path: the bytes reach Python as surrogateescape'd text, as from a shell's $'caf\\xff'."""
    env = dict(os.environ, DUVO_API_KEY=emulator.api_key)
    run_id = "7d0c3b2a-1e4f-4a6b-8c9d-0e1f2a3b4c5d"
    argv = [sys.executable, "-m", "duvo_tui", "--base-url", emulator.base_url, "runs", "say", run_id, b"caf\xff"]
    emulator.state.fail_next(1, status=502)
    done = subprocess.run(argv, env=env, capture_output=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stdout == b""
    assert done.stderr == f"duvo-tui: error: message: {BYTE_NOTE}\n".encode()
    assert emulator.state.take_forced_failure() == 502  # nothing reached the server


def test_watch_once_reports_a_file_whose_name_is_not_utf8_as_failed(cli, emulator, tmp_path):
    """Before, the ledger could not record such a name and the file vanished from the summary."""
    sandbox_id = new_sandbox(cli)
    folder = tmp_path / "watched"
    folder.mkdir()
    with open(os.path.join(os.fsencode(folder), b"caf\xff.txt"), "wb") as handle:
        handle.write(b"hello")
    (folder / "good.txt").write_text("ok")

    for _ in range(2):  # the second run reads back the ledger the first one wrote
        code, out, err = cli("watch", str(folder), "--sandbox", sandbox_id, "--once")
        assert code == 1
        assert "1 failed" in out
        assert "path: contains bytes that are not valid UTF-8 (the byte 0xFF at character 15)" in err
    root = emulator.state.sandboxes[sandbox_id].root
    assert sorted(p.name for p in root.rglob("*") if p.is_file()) == ["good.txt"]
