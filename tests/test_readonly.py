"""Read-only profiles on the command line and at the client guard: every mutating action is refused
(exit status 2, one line) before a request reaches the server, and reads still work."""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.cli import main
from duvo_tui.config import Profile
from duvo_tui.readonly import (
    MUTATING_ACTIONS,
    MUTATING_CLIENT_CALLS,
    ReadOnlyError,
    check,
    refusal,
)
from duvo_tui.readonly_client import ReadOnlyClient, guard_client


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(emulator, monkeypatch, capsys, tmp_path):
    """``cli(*argv)`` runs ``duvo-tui --base-url EMULATOR *argv`` with the emulator's key in the env."""
    monkeypatch.setenv("DUVO_API_KEY", emulator.api_key)

    def run(*argv: str) -> Result:
        code = main(["--base-url", emulator.base_url, *argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def waiting_run(emulator) -> str:
    """A run of the approval agent that waits for a person (started with a writable client)."""
    import asyncio

    async def go() -> str:
        async with DuvoClient(emulator.base_url, emulator.api_key) as client:
            run = await client.start_run(emulator.agents["approval"], message="deploy")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                detail = await client.get_run(run.id)
                if detail.run and detail.run.status == "waiting":
                    return run.id
                await asyncio.sleep(0.05)
        raise AssertionError("the approval run never waited")

    return asyncio.run(go())


def assert_refused(result: Result, what: str) -> None:
    assert result.code == 2, (result.code, result.err)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "read-only" in lines[0] and what in lines[0]
    assert result.out == ""


# --- the CLI, one test per mutating action -------------------------------------------------------------------


def test_start_is_refused_and_nothing_starts(cli, emulator):
    before = len(emulator.state.runs)
    result = cli("--read-only", "runs", "start", emulator.agents["quick"], "--message", "hi")
    assert_refused(result, MUTATING_ACTIONS["start"])
    assert len(emulator.state.runs) == before


def test_stop_is_refused_and_the_run_keeps_waiting(cli, emulator, waiting_run):
    assert_refused(cli("runs", "stop", waiting_run, "--read-only"), MUTATING_ACTIONS["stop"])
    assert emulator.state.runs[waiting_run].status == "waiting"


def test_say_is_refused_and_no_message_is_added(cli, emulator, waiting_run):
    before = len(emulator.state.runs[waiting_run].messages)
    assert_refused(cli("--read-only", "runs", "say", waiting_run, "hello"), MUTATING_ACTIONS["post"])
    assert len(emulator.state.runs[waiting_run].messages) == before


def test_respond_is_refused_and_the_request_stays_open(cli, emulator, waiting_run):
    pending = emulator.state.runs[waiting_run].pending
    assert pending is not None
    assert_refused(cli("--read-only", "runs", "respond", waiting_run, "--approve"), MUTATING_ACTIONS["respond"])
    assert emulator.state.runs[waiting_run].pending is pending
    assert emulator.state.runs[waiting_run].status == "waiting"


def test_sandbox_create_and_upload_are_refused(cli, emulator, tmp_path):
    before = len(emulator.state.sandboxes)
    result = cli("--read-only", "sandbox", "create")
    assert result.code == 2 and "read-only" in result.err
    file = tmp_path / "a.txt"
    file.write_text("x")
    result = cli("--read-only", "sandbox", "upload", "sbx-1", str(file))
    assert_refused(result, "upload files")
    assert len(emulator.state.sandboxes) == before


def test_watch_is_refused(cli, tmp_path):
    if importlib.util.find_spec("duvo_tui.cli.watch") is None:
        pytest.skip("the watch command is not part of this build")
    result = cli("--read-only", "watch", str(tmp_path), "--sandbox", "sbx-1", "--once")
    assert result.code == 2 and "read-only" in result.err


def test_read_only_in_the_profile_refuses_without_the_flag(cli, emulator, tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[profiles.prod]\nread_only = true\nlabel = "PRODUCTION"\ncolor = "red"\n')
    result = cli("--config", str(config), "--profile", "prod", "runs", "start", emulator.agents["quick"])
    assert_refused(result, "start runs")
    assert "'prod'" in result.err


def test_reads_still_work_when_read_only(cli, waiting_run):
    result = cli("--read-only", "runs", "get", waiting_run)
    assert result.code == 0, result.err
    assert waiting_run in result.out


# --- the guard itself ----------------------------------------------------------------------------------------


def test_check_refuses_every_action_only_when_read_only():
    for action in MUTATING_ACTIONS:
        check(Profile(name="dev"), action)
        with pytest.raises(ReadOnlyError) as caught:
            check(Profile(name="prod", read_only=True), action)
        assert str(caught.value) == refusal("prod", action)
    with pytest.raises(ValueError):
        check(Profile(), "delete everything")


def test_guard_client_is_the_client_itself_for_a_writable_profile():
    client = DuvoClient("http://127.0.0.1:9", "dv_test_key")
    assert guard_client(client, Profile()) is client
    guarded = guard_client(client, Profile(read_only=True))
    assert isinstance(guarded, ReadOnlyClient) and guarded.wrapped is client
    assert guarded.budget is client.budget  # one session, one budget: not a second client


async def test_guarded_client_sends_no_mutating_request(emulator):
    client = guard_client(DuvoClient(emulator.base_url, emulator.api_key), Profile(name="prod", read_only=True))
    async with client as guarded:
        assert guarded is client
        used_before = client.budget.snapshot().used
        calls = {
            "start_run": (emulator.agents["quick"],),
            "stop_run": ("00000000-0000-4000-8000-000000000000",),
            "post_message": ("00000000-0000-4000-8000-000000000000", "hi"),
            "respond": ("00000000-0000-4000-8000-000000000000", "r"),
            "create_sandbox": (),
            "create_upload_url": ("sbx", "/workspace/a"),
            "upload_file": ("sbx", "/workspace/a", b"x"),
            "put_presigned": ("http://127.0.0.1:1/x", "a"),
        }
        assert set(calls) == set(MUTATING_CLIENT_CALLS)
        for name, args in calls.items():
            with pytest.raises(ReadOnlyError) as caught:
                await getattr(client, name)(*args)
            assert caught.value.action == MUTATING_CLIENT_CALLS[name]
        # Not one request went out for them; a read does.
        assert client.budget.snapshot().used == used_before
        assert len(emulator.state.runs) == 0 and len(emulator.state.sandboxes) == 0
        assert client.base_url == emulator.base_url  # attributes pass through
        page = await client.list_team_runs(emulator.team_id)
        assert list(page.runs) == []
        assert client.budget.snapshot().used == used_before + 1
