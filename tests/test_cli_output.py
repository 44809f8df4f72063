"""What the command line prints, as a person or a script reads it: order, fields, zones, one-line mistakes."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from duvo_tui.cli import main
from duvo_tui.cli.output import format_message, format_time

SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "duvo-api" / "openapi-v1.json"


def call(emulator, method: str, *args, **kwargs):
    from duvo_tui.api.client import DuvoClient

    async def go():
        async with DuvoClient(emulator.base_url, emulator.api_key) as client:
            return await getattr(client, method)(*args, **kwargs)

    return asyncio.run(go())


def wait_for_waiting(emulator, run_id: str):
    deadline = time.monotonic() + 15
    while True:
        detail = call(emulator, "get_run", run_id)
        if detail.pending_human_request is not None:
            return detail
        assert time.monotonic() < deadline, f"run stayed {detail.run.status}"
        time.sleep(0.05)


def test_follow_prints_the_earlier_messages_before_saying_a_person_is_needed(cli, emulator):
    run = call(emulator, "start_run", emulator.agents["questions"])
    detail = wait_for_waiting(emulator, run.id)
    before = call(emulator, "list_messages", run.id, limit=50).messages
    assert before, "the questions scenario talks before it asks"
    request = detail.pending_human_request
    answers = {q.question: (q.options[0].label if q.options else "none") for q in request.questions}

    def answer_soon() -> None:
        time.sleep(1.0)
        call(emulator, "respond", run.id, request.id, answers=answers)

    answerer = threading.Thread(target=answer_soon)
    answerer.start()
    try:
        code, out, err = cli("runs", "messages", run.id, "--follow")
    finally:
        answerer.join()
    assert code == 0, err
    expected = "\n".join(format_message(message) for message in before)
    assert out.startswith(expected + "\n… waiting for a person: "), out


def test_json_messages_carry_only_the_apis_fields(cli, emulator):
    spec = json.loads(SPEC.read_text())
    schema = spec["paths"]["/v1/runs/{run_id}/messages"]["get"]["responses"]["200"]["content"]["application/json"]
    api_fields = set(schema["schema"]["properties"]["messages"]["items"]["properties"])
    run = call(emulator, "start_run", emulator.agents["quick"], message="hello")
    code, out, _ = cli("runs", "messages", run.id, "--json")
    assert code == 0
    messages = json.loads(out)["messages"]
    assert messages
    for message in messages:
        assert set(message) <= api_fields, set(message) - api_fields
        assert datetime.fromisoformat(message["timestamp"]).tzinfo is not None


def test_json_shows_an_unparsable_timestamp_as_the_server_sent_it():
    from duvo_tui.api.models import Message
    from duvo_tui.cli.output import to_jsonable

    message = Message.from_json({"id": "m1", "type": "text", "role": "user", "timestamp": "yesterday-ish"})
    assert to_jsonable(message)["timestamp"] == "yesterday-ish"
    assert "raw_timestamp" not in to_jsonable(message)


def test_respond_prints_each_answer_on_its_own_line(cli, emulator):
    run = call(emulator, "start_run", emulator.agents["questions"])
    detail = wait_for_waiting(emulator, run.id)
    answers = ["--answer", "Region=APAC", "--answer", "Formats=CSV,PDF", "--answer", "3=nothing else"]
    code, out, err = cli("runs", "respond", run.id, *answers)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Answered: {detail.pending_human_request.title} (run {run.id})"
    rows = [line.split() for line in lines[1:]]
    assert rows == [["Region", "APAC"], ["Formats", "CSV,", "PDF"], ["Notes", "nothing", "else"]]
    assert "{" not in out and "…" not in out  # no cut-off JSON dump


def test_respond_to_an_approval_says_which_way(cli, emulator):
    run = call(emulator, "start_run", emulator.agents["approval"])
    detail = wait_for_waiting(emulator, run.id)
    code, out, err = cli("runs", "respond", run.id, "--deny")
    assert code == 0, err
    assert out == f"Denied: {detail.pending_human_request.title} (run {run.id})\n"


def test_a_profile_without_any_config_file_names_no_file_as_if_it_existed(capsys, isolated_home, monkeypatch):
    monkeypatch.setenv("DUVO_API_KEY", "dv_test_0123456789abcdef")
    assert main(["--profile", "work", "runs", "list"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no profile 'work': there is no config file yet" in err and "[profiles.work]" in err
    assert " in /" not in err  # not "no profile 'work' in /path/that/does/not/exist"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["runz"], "duvo-tui: error: unknown command 'runz'; did you mean 'runs'?"),
        (["runs", "gett"], "duvo-tui runs: error: unknown command 'gett'; did you mean 'get'?"),
        (["sandbox", "uplod"], "duvo-tui sandbox: error: unknown command 'uplod'; did you mean 'upload'?"),
    ],
)
def test_a_mistyped_command_is_one_line_with_the_nearest_command(argv, expected, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == expected + "\n" and captured.out == ""


def test_a_command_like_no_other_lists_the_commands(capsys):
    assert main(["runs", "frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown command 'frobnicate' (commands: start, get, list" in err


def test_times_carry_their_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        moment = datetime(2026, 1, 15, 12, 0, 5, tzinfo=UTC)
        assert format_time(moment) == "2026-01-15 13:00:05 CET"
        assert format_time(moment, date=False) == "13:00:05 CET"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_message_lines_and_run_details_show_the_zone(cli, emulator):
    run = call(emulator, "start_run", emulator.agents["quick"], message="hello")
    code, out, _ = cli("runs", "messages", run.id)
    assert code == 0
    zone = format_time(datetime.now(UTC), date=False).split()[-1]
    assert out.splitlines()[0].split()[:3][1] == zone
    code, out, _ = cli("runs", "get", run.id)
    created = next(line for line in out.splitlines() if line.startswith("Created"))
    assert created.endswith(f" {zone}")


def test_messages_are_labelled_thinking_system_or_their_unknown_type(cli, emulator):
    from tests.test_every_message_shown import MESSAGES, own_run

    run_id = own_run(emulator, title="ledger", status="completed", messages=MESSAGES)
    code, out, err = cli("runs", "messages", run_id)
    assert code == 0, err
    lines = out.splitlines()

    def label_of(text: str) -> str:
        line = next(line for line in lines if text in line)
        return line.split()[2]  # after the time and its zone

    assert label_of("Connected to the ledger sandbox") == "system"
    assert label_of("First I compare the totals") == "thinking"
    assert label_of("See policy 4.2") == "citation"
    assert label_of("A numeric type") == "42"
    assert label_of("A message without a type") == "assistant"
    assert label_of("Reconcile the ledger") == "user"
    assert any("very_long_type_name" in line for line in lines)
