"""Every command against the real emulator: exit codes and output shape, for people and with --json."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

import httpx
import pytest

from duvo_tui.cli import main

UNKNOWN_RUN = "00000000-0000-4000-8000-000000000000"


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(emulator, monkeypatch, capsys, tmp_path):
    """``cli(*argv)`` runs ``duvo-tui --base-url EMULATOR *argv`` in-process with the emulator's key in the env."""
    monkeypatch.setenv("DUVO_API_KEY", emulator.api_key)

    def run(*argv: str) -> Result:
        code = main(["--base-url", emulator.base_url, *argv])
        captured = capsys.readouterr()
        # The key is never printed whole, whatever happened.
        assert emulator.api_key not in captured.out and emulator.api_key not in captured.err
        return Result(code, captured.out, captured.err)

    return run


def wait_for_status(cli, run_id: str, statuses: set[str], timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        detail = cli("runs", "get", run_id, "--json").json()
        if detail["run"]["status"] in statuses:
            return detail
        assert time.monotonic() < deadline, f"run stayed {detail['run']['status']}, wanted {statuses}"
        time.sleep(0.05)


def start(cli, agent: str, *extra: str) -> str:
    result = cli("runs", "start", agent, "--json", *extra)
    assert result.code == 0, result.err
    return result.json()["id"]


# --- runs start / get ----------------------------------------------------------------------------------------------


def test_start_prints_the_run_for_people(cli, emulator):
    result = cli("runs", "start", emulator.agents["quick"], "--message", "hello")
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert first.startswith("Started run ") and "runs messages" in result.out


def test_start_json_is_the_run(cli, emulator):
    result = cli("runs", "start", emulator.agents["quick"], "--json")
    assert result.code == 0
    run = result.json()
    assert run["agent_id"] == emulator.agents["quick"]
    assert {"id", "status", "created_at", "sandbox_id"} <= set(run)
    assert run["created_at"] is None or "T" in run["created_at"]  # ISO 8601


def test_start_by_alias_from_the_config(cli, emulator, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.emu]\n[profiles.emu.agents]\ncheck = "{emulator.agents["quick"]}"\n')
    result = cli("--config", str(config), "runs", "start", "check", "--json")
    assert result.code == 0, result.err
    assert result.json()["agent_id"] == emulator.agents["quick"]


def test_start_unknown_agent_is_refused_by_the_server(cli):
    result = cli("runs", "start", UNKNOWN_RUN)
    assert result.code == 1
    assert result.err.startswith("duvo-tui: error: 404") and result.err.count("\n") == 1


def test_get_human_and_json(cli, emulator):
    run_id = start(cli, emulator.agents["quick"])
    human = cli("runs", "get", run_id)
    assert human.code == 0
    assert f"Run        {run_id}" in human.out and "Status" in human.out and "Created" in human.out
    detail = cli("runs", "get", run_id, "--json").json()
    assert detail["run"]["id"] == run_id and "pending_human_request" in detail


def test_get_unknown_run_is_exit_1_with_the_servers_message(cli):
    for argv in (("runs", "get", UNKNOWN_RUN), ("runs", "get", UNKNOWN_RUN, "--json")):
        result = cli(*argv)
        assert result.code == 1 and result.out == ""
        assert result.err.startswith("duvo-tui: error: 404") and result.err.count("\n") == 1


def test_wrong_key_is_exit_1(cli, monkeypatch):
    monkeypatch.setenv("DUVO_API_KEY", "dv_wrongwrongwrongwrongwrong00")
    result = cli("runs", "get", UNKNOWN_RUN)
    assert result.code == 1 and "401" in result.err
    assert "dv_wrongwrongwrongwrongwrong00" not in result.err


# --- messages ----------------------------------------------------------------------------------------------------


def test_messages_follow_prints_until_the_run_finishes(cli, emulator):
    run_id = start(cli, emulator.agents["quick"])
    result = cli("runs", "messages", run_id, "--follow")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[-1] == "… run completed"
    assert any("→ " in line for line in lines), "the quick agent's tool call is shown"


def test_messages_follow_json_is_one_message_per_line(cli, emulator):
    run_id = start(cli, emulator.agents["quick"])
    followed = cli("runs", "messages", run_id, "--follow", "--json")
    assert followed.code == 0
    rows = [json.loads(line) for line in followed.out.splitlines()]
    assert rows and all({"id", "type", "role", "timestamp"} <= set(row) for row in rows)
    # After the run is over, the plain listing has exactly the same messages.
    listed = cli("runs", "messages", run_id, "--json").json()
    assert listed["run_id"] == run_id and listed["total"] == len(rows)
    assert [m["id"] for m in listed["messages"]] == [row["id"] for row in rows]


def test_messages_follow_says_when_a_person_is_needed_and_goes_on_after_the_answer(cli, emulator):
    run_id = start(cli, emulator.agents["approval"])
    detail = wait_for_status(cli, run_id, {"waiting"})
    request_id = detail["pending_human_request"]["id"]

    def approve_soon() -> None:
        time.sleep(1.0)  # while the follower is waiting
        headers = {"Authorization": f"Bearer {emulator.api_key}", "Idempotency-Key": "follow-approve"}
        url = f"{emulator.base_url}/v1/runs/{run_id}/human-requests/{request_id}/respond"
        httpx.post(url, json={"approved": True}, headers=headers, timeout=10).raise_for_status()

    answerer = threading.Thread(target=approve_soon)
    answerer.start()
    try:
        result = cli("runs", "messages", run_id, "--follow")
    finally:
        answerer.join()
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    waiting = [i for i, line in enumerate(lines) if line.startswith("… waiting for a person")]
    assert len(waiting) == 1
    assert lines[waiting[0] + 1] == f"  answer with: duvo-tui runs respond {run_id} --approve | --deny"
    assert lines[-1].startswith("… run ") and waiting[0] < len(lines) - 2
    listed = cli("runs", "messages", run_id, "--json").json()
    assert len([line for line in lines if not line.startswith(("…", "  answer with"))]) >= listed["total"]


def test_messages_of_a_long_run_are_all_paged_in(cli, emulator):
    emulator.state.options.chatty_messages = 120
    run_id = start(cli, emulator.agents["chatty"])
    wait_for_status(cli, run_id, {"completed"})
    listed = cli("runs", "messages", run_id, "--json").json()
    assert listed["total"] == len(listed["messages"]) > 100
    assert len({m["id"] for m in listed["messages"]}) == len(listed["messages"])
    human = cli("runs", "messages", run_id)
    assert human.code == 0 and human.out.count("\n") >= len(listed["messages"])


def test_messages_of_an_unknown_run_is_exit_1(cli):
    assert cli("runs", "messages", UNKNOWN_RUN).code == 1
    assert cli("runs", "messages", UNKNOWN_RUN, "--follow").code == 1


# --- human requests ------------------------------------------------------------------------------------------------


def test_approve_a_waiting_run(cli, emulator):
    run_id = start(cli, emulator.agents["approval"])
    detail = wait_for_status(cli, run_id, {"waiting"})
    assert detail["pending_human_request"]["type"] == "approval"
    shown = cli("runs", "get", run_id)
    assert "Waiting for a person" in shown.out and "--approve | --deny" in shown.out
    result = cli("runs", "respond", run_id, "--approve", "--json")
    assert result.code == 0, result.err
    assert result.json()["id"] == detail["pending_human_request"]["id"]
    # Nothing is pending any more: answering again is the server state refusing, exit 1.
    again = cli("runs", "respond", run_id, "--deny")
    assert again.code == 1 and "not waiting for a person" in again.err


def test_approval_request_refuses_answers(cli, emulator):
    run_id = start(cli, emulator.agents["approval"])
    wait_for_status(cli, run_id, {"waiting"})
    result = cli("runs", "respond", run_id, "--answer", "x=y")
    assert result.code == 2 and "--approve or --deny" in result.err
    assert cli("runs", "get", run_id, "--json").json()["run"]["status"] == "waiting"


def test_answer_questions_checked_against_the_request(cli, emulator):
    from duvo_tui.emulator.scenarios import FORMAT_QUESTION, NOTES_QUESTION, REGION_QUESTION

    run_id = start(cli, emulator.agents["questions"])
    wait_for_status(cli, run_id, {"waiting"})
    shown = cli("runs", "get", run_id)
    assert REGION_QUESTION in shown.out and "- EMEA" in shown.out

    unknown = cli("runs", "respond", run_id, "--answer", "Which colour?=blue")
    assert unknown.code == 2 and "no question 'Which colour?'" in unknown.err
    two = cli("runs", "respond", run_id, "--answer", "Region=EMEA,APAC", "--answer", "2=PDF", "--answer", "3=x")
    assert two.code == 2 and "takes one option, not 2" in two.err
    assert cli("runs", "respond", run_id, "--approve").code == 2
    assert cli("runs", "get", run_id, "--json").json()["run"]["status"] == "waiting"

    result = cli(
        "runs", "respond", run_id,
        "--answer", "Region=emea", "--answer", "Formats=pdf,Slides", "--answer", f"{NOTES_QUESTION}=Q3 only",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.out.startswith("Answered: ") and "  Formats  PDF, Slides\n" in result.out
    wait_for_status(cli, run_id, {"completed"})
    text = "\n".join(m["text_content"] or "" for m in cli("runs", "messages", run_id, "--json").json()["messages"])
    assert "EMEA" in text and "Q3 only" in text
    assert FORMAT_QUESTION  # the request's questions were matched by header above


def test_respond_to_a_run_that_is_not_waiting_is_exit_1(cli, emulator):
    run_id = start(cli, emulator.agents["quick"])
    wait_for_status(cli, run_id, {"completed"})
    result = cli("runs", "respond", run_id, "--approve")
    assert result.code == 1 and "not waiting for a person (status: completed)" in result.err


# --- say / stop / list ---------------------------------------------------------------------------------------------


def test_say_posts_a_message(cli, emulator):
    run_id = start(cli, emulator.agents["quick"])
    wait_for_status(cli, run_id, {"completed"})
    result = cli("runs", "say", run_id, "one more thing")
    assert result.code == 0 and result.out.startswith("Posted message ")
    message = cli("runs", "say", run_id, "and another", "--json").json()
    assert message["role"] == "user" and message["text_content"] == "and another"


def test_say_to_an_unknown_run_is_exit_1(cli):
    assert cli("runs", "say", UNKNOWN_RUN, "hello").code == 1


def test_stop_a_running_run(cli, emulator):
    run_id = start(cli, emulator.agents["approval"])
    result = cli("runs", "stop", run_id, "--json")
    assert result.code == 0 and isinstance(result.json()["success"], bool)
    human = cli("runs", "stop", run_id)
    assert human.code == 0 and human.out.strip()


def test_stop_an_unknown_run_is_exit_1(cli):
    assert cli("runs", "stop", UNKNOWN_RUN).code == 1


def test_list_with_a_team_id_lists_the_team(cli, emulator, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.emu]\nteam_id = "{emulator.team_id}"\n')
    first = start(cli, emulator.agents["quick"])
    second = start(cli, emulator.agents["approval"])
    listing = cli("--config", str(config), "runs", "list", "--json")
    assert listing.code == 0, listing.err
    body = listing.json()
    assert body["source"] == "team" and {first, second} <= {r["id"] for r in body["runs"]}
    human = cli("--config", str(config), "runs", "list")
    assert human.out.splitlines()[0].split() == ["RUN", "STATUS", "ASSIGNMENT", "TITLE", "CREATED"]
    assert first in human.out and "Daily Health Check" in human.out
    wait_for_status(cli, first, {"completed"})
    done = cli("--config", str(config), "runs", "list", "--status", "completed", "--json").json()
    assert [r["id"] for r in done["runs"]] == [first]


def test_list_with_a_team_id_of_another_team_is_exit_1(cli, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text('[profiles.emu]\nteam_id = "00000000-0000-4000-8000-0000000000ff"\n')
    result = cli("--config", str(config), "runs", "list")
    assert result.code == 1 and result.err.startswith("duvo-tui: error: 40")


# --- sandboxes -----------------------------------------------------------------------------------------------------


def test_sandbox_create_upload_and_ls(cli, tmp_path):
    created = cli("sandbox", "create", "--json")
    assert created.code == 0
    sandbox_id = created.json()["sandbox_id"]
    assert sandbox_id
    human = cli("sandbox", "create")
    assert human.out.startswith("Created sandbox ")

    a, b = tmp_path / "a.csv", tmp_path / "b.txt"
    a.write_text("x,y\n1,2\n")
    b.write_bytes(b"hello")
    uploaded = cli("sandbox", "upload", sandbox_id, str(a), str(b), "--dest", "/workspace/in", "--json")
    assert uploaded.code == 0, uploaded.err
    paths = {u["path"]: u["size_bytes"] for u in uploaded.json()["uploaded"]}
    assert paths == {"/workspace/in/a.csv": 8, "/workspace/in/b.txt": 5}

    listing = cli("sandbox", "ls", sandbox_id, "/workspace/in", "--json").json()
    assert sorted(f["name"] for f in listing["files"]) == ["a.csv", "b.txt"]
    top = cli("sandbox", "ls", sandbox_id)
    assert top.code == 0 and top.out.splitlines()[0].split() == ["TYPE", "SIZE", "PATH"]
    assert "dir" in top.out and "/workspace/in" in top.out


def test_sandbox_ls_of_an_unknown_sandbox_is_exit_1(cli):
    result = cli("sandbox", "ls", "sb_does_not_exist")
    assert result.code == 1 and result.err.startswith("duvo-tui: error: 404")


# --- debug output and warnings -------------------------------------------------------------------------------------


def test_debug_logs_the_requests_with_the_key_masked(cli):
    result = cli("runs", "get", UNKNOWN_RUN, "--debug")
    assert result.code == 1
    assert "HTTP Request: GET" in result.err and f"/v1/runs/{UNKNOWN_RUN}" in result.err
    # The cli fixture asserts the key is absent from stdout and stderr.


def test_config_readable_by_others_is_warned_about_on_stderr(cli, emulator, tmp_path, monkeypatch):
    monkeypatch.delenv("DUVO_API_KEY")
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.emu]\napi_key = "{emulator.api_key}"\n')
    config.chmod(0o644)
    result = cli("--config", str(config), "runs", "start", emulator.agents["quick"], "--json")
    assert result.code == 0
    assert "warning:" in result.err and "chmod 600" in result.err
    assert result.json()["agent_id"] == emulator.agents["quick"]


def test_follow_shows_a_pending_request_and_goes_on_after_the_answer(emulator, monkeypatch, capsys, tmp_path):
    import asyncio
    import threading

    from duvo_tui.api.client import DuvoClient

    monkeypatch.setenv("DUVO_API_KEY", emulator.api_key)
    config = tmp_path / "c.toml"
    config.write_text("[profiles.emu.poll]\ninterval = 0.05\nmin_interval = 0.05\n")

    async def call(method: str, *args, **kwargs):
        async with DuvoClient(emulator.base_url, emulator.api_key) as client:
            return await getattr(client, method)(*args, **kwargs)

    run = asyncio.run(call("start_run", emulator.agents["approval"]))
    codes: list[int] = []
    argv = ["--base-url", emulator.base_url, "--config", str(config), "runs", "messages", run.id, "--follow"]
    follower = threading.Thread(target=lambda: codes.append(main(argv)), daemon=True)
    follower.start()

    # Answer only once the follower has told its reader that the run waits for a person.
    out, deadline = "", time.monotonic() + 15
    while "waiting for a person" not in out:
        assert time.monotonic() < deadline, out
        time.sleep(0.02)
        out += capsys.readouterr().out
    detail = asyncio.run(call("get_run", run.id))
    asyncio.run(call("respond", run.id, detail.pending_human_request.id, approved=True))
    follower.join(20)
    out += capsys.readouterr().out
    assert codes == [0]
    assert "--approve | --deny" in out
    assert out.rstrip().endswith("… run completed")


def test_sandbox_upload_of_a_large_file_goes_through_a_presigned_url(cli, tmp_path):
    sandbox_id = cli("sandbox", "create", "--json").json()["sandbox_id"]
    big = tmp_path / "big.bin"
    size = 10 * 1024 * 1024 + 1
    with big.open("wb") as handle:
        handle.truncate(size)
    result = cli("sandbox", "upload", sandbox_id, str(big))
    assert result.code == 0, result.err
    assert result.out.startswith(f"Uploaded {big} -> /workspace/big.bin (10.0 MiB)")
    listing = cli("sandbox", "ls", sandbox_id, "--json").json()
    assert {f["name"]: f["size_bytes"] for f in listing["files"]}["big.bin"] == size


def test_list_without_a_team_id_shows_the_keys_runs_wherever_they_were_started(cli, emulator):
    empty = cli("runs", "list")
    assert empty.code == 0 and empty.out == "No runs for this key.\n"
    quick = start(cli, emulator.agents["quick"])
    waiting = start(cli, emulator.agents["approval"])
    # Started by another program (plain httpx, not duvo-tui), on the same key: listed too.
    elsewhere = httpx.post(
        f"{emulator.base_url}/v1/runs",
        json={"agent_id": emulator.agents["quick"], "message": "started from a script"},
        headers={"Authorization": f"Bearer {emulator.api_key}"},
    ).json()["run"]["id"]
    wait_for_status(cli, quick, {"completed"})
    wait_for_status(cli, waiting, {"waiting"})
    listing = cli("runs", "list", "--json").json()
    assert listing["source"] == "runs" and listing["total"] == 3
    statuses = {r["id"]: r["status"] for r in listing["runs"]}
    assert statuses[quick] == "completed" and statuses[waiting] == "waiting" and elsewhere in statuses
    assert {r["agent_name"] for r in listing["runs"]} == {"Daily Health Check", "Supplier Invoice Approval"}
    only = cli("runs", "list", "--status", "waiting", "--json").json()
    assert [r["id"] for r in only["runs"]] == [waiting]
    human = cli("runs", "list")
    assert human.code == 0 and quick in human.out and waiting in human.out
    row = next(line for line in human.out.splitlines() if line.startswith(elsewhere))
    assert "Daily Health Check" in row and "started from a script" in row


def test_runs_started_here_are_in_the_services_state(cli, emulator):
    import asyncio

    from duvo_tui import locations
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.service.service import DuvoService

    run_id = start(cli, emulator.agents["quick"])

    async def tracked() -> list[str]:
        async with DuvoClient(emulator.base_url, emulator.api_key) as client:
            service = DuvoService(client, state_dir=locations.state_dir())
            service.store.load()
            return [t.id for t in service.runs()]

    assert asyncio.run(tracked()) == [run_id]


def test_get_names_the_agent_by_its_alias(cli, emulator, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.emu.agents]\ncheck = "{emulator.agents["quick"]}"\n')
    run_id = start(cli, emulator.agents["quick"])
    shown = cli("--config", str(config), "runs", "get", run_id)
    assert f"Agent      {emulator.agents['quick']} (check)" in shown.out


def test_server_text_is_printed_without_terminal_escapes(cli, emulator):
    run_id = start(cli, emulator.agents["quick"])
    wait_for_status(cli, run_id, {"completed"})
    assert cli("runs", "say", run_id, "\x1b]52;c;aGk=\x07clip \x1b[2Jclear \x9b31mred").code == 0
    human = cli("runs", "messages", run_id)
    assert "clip clear red" in human.out
    assert "\x1b" not in human.out and "\x9b" not in human.out and "\x07" not in human.out
    # JSON keeps the text as the server sent it: it is data for a program, escaped by the JSON encoder.
    listed = cli("runs", "messages", run_id, "--json")
    assert "\x1b" not in listed.out
    assert any("\x1b]52" in (m["text_content"] or "") for m in listed.json()["messages"])


def test_start_reports_the_run_even_when_the_local_state_cannot_be_written(cli, emulator, isolated_home):
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "state").write_text("a file where the state folder should be")
    result = cli("runs", "start", emulator.agents["quick"], "--json")
    assert result.code == 0
    assert result.json()["agent_id"] == emulator.agents["quick"]
