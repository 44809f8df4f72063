"""``agents list``, ``whoami``, ``runs start NAME`` and a request only the web app can answer, on the emulator."""

from __future__ import annotations

import httpx
import pytest

from duvo_tui.emulator.testing import running_emulator
from tests.test_cli_emulator import Result, start, wait_for_status

OTHER = "dv_other_person_key_0123456789abcdef"


@pytest.fixture
def emulator():
    keys = ["dv_demo_4f7c2a9e1b8d6035c7e2a91f4b", OTHER]
    with running_emulator(speed=50, login_wait=100_000, api_keys=keys) as handle:
        yield handle


@pytest.fixture
def cli(emulator, monkeypatch, capsys):
    from duvo_tui.cli import main

    monkeypatch.setenv("DUVO_API_KEY", emulator.api_key)

    def run(*argv: str) -> Result:
        code = main(["--base-url", emulator.base_url, *argv])
        captured = capsys.readouterr()
        assert emulator.api_key not in captured.out + captured.err
        return Result(code, captured.out, captured.err)

    return run


def test_agents_list_prints_the_emulators_assignments(cli, emulator, tmp_path):
    listed = cli("agents", "list", "--json")
    assert listed.code == 0, listed.err
    body = listed.json()
    by_id = {a["id"]: a["name"] for a in body["agents"]}
    assert body["total"] == 7 and by_id[emulator.agents["quick"]] == "Daily Health Check"
    assert by_id[emulator.agents["login"]] == "CRM Contact Sync"
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.emu.agents]\nchecks = "{emulator.agents["quick"]}"\n')
    human = cli("--config", str(config), "agents", "list")
    lines = human.out.splitlines()
    assert lines[0].split() == ["NAME", "AGENT", "ID", "LAST", "RUN", "ALIAS"]
    row = next(line for line in lines if line.startswith("Daily Health Check"))
    assert emulator.agents["quick"] in row and row.rstrip().endswith("checks") and "never" in row


def test_whoami_names_the_person_and_the_team(cli, emulator):
    me = cli("whoami", "--json")
    assert me.code == 0, me.err
    profile = me.json()["profile"]
    assert profile["name"] == "Maya Chen" and profile["team_id"] == emulator.team_id
    assert profile["email"] == "maya.chen@northwind.example"
    human = cli("whoami").out
    assert "Name     Maya Chen" in human and f"Team     {emulator.team_id}" in human


def test_whoami_with_a_wrong_key_is_exit_1_naming_the_refusal(cli, monkeypatch):
    monkeypatch.setenv("DUVO_API_KEY", "dv_wrong_key_0123456789abcdefghijklm")
    result = cli("whoami")
    assert result.code == 1 and "401" in result.err and "dv_wrong_key" not in result.err


@pytest.mark.parametrize(
    ("typed", "agent"),
    [
        ("Daily Health Check", "quick"),
        ("daily health check", "quick"),
        ("health", "quick"),
        ("Supplier Invoice Approval", "approval"),  # exact, though "(legacy)" shares every word
        ("legacy", "approval_legacy"),
        ("crm sync", "login"),
    ],
)
def test_runs_start_takes_a_name(cli, emulator, typed, agent):
    run_id = start(cli, typed)
    assert emulator.state.runs[run_id].agent.id == emulator.agents[agent]


@pytest.mark.parametrize("typed", ["invoice", "supplier approval"])
def test_runs_start_refuses_an_ambiguous_name_with_the_candidates(cli, emulator, typed):
    before = len(emulator.state.runs)
    result = cli("runs", "start", typed)
    assert result.code == 2 and result.out == ""
    assert "fits 2 Assignments" in result.err
    assert "Supplier Invoice Approval (587f88b6" in result.err and "Supplier Invoice Approval (legacy)" in result.err
    assert len(emulator.state.runs) == before, "nothing was started"


def test_runs_start_of_an_unknown_name_is_exit_2_with_a_hint(cli, emulator):
    result = cli("runs", "start", "payroll")
    assert result.code == 2 and "no Assignment is called 'payroll'" in result.err and "agents list" in result.err
    assert emulator.state.runs == {}


def test_an_alias_still_wins_over_names(cli, emulator, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.emu.agents]\ninvoice = "{emulator.agents["fails"]}"\n')
    run_id = start(cli, "invoice", "--config", str(config))
    assert emulator.state.runs[run_id].agent.id == emulator.agents["fails"]


def test_a_login_request_is_shown_and_refused_by_the_command_line(cli, emulator):
    run_id = start(cli, emulator.agents["login"])
    detail = wait_for_status(cli, run_id, {"waiting"})
    assert detail["pending_human_request"]["type"] == "login"
    shown = cli("runs", "get", run_id)
    assert "Sign in to Salesforce [login request: answer this in the Duvo web app]" in shown.out
    assert "Answer this in the Duvo web app." in shown.out and "Answer with:" not in shown.out
    refused = cli("runs", "respond", run_id, "--approve")
    assert refused.code == 1 and "answer this in the Duvo web app" in refused.err
    assert emulator.state.runs[run_id].pending is not None and emulator.state.runs[run_id].status == "waiting"
    listed = cli("runs", "list", "--status", "waiting", "--json").json()
    assert [r["id"] for r in listed["runs"]] == [run_id]


def test_runs_list_never_shows_another_keys_runs(cli, emulator):
    mine = start(cli, emulator.agents["quick"])
    theirs = httpx.post(
        f"{emulator.base_url}/v1/runs",
        json={"agent_id": emulator.agents["quick"]},
        headers={"Authorization": f"Bearer {OTHER}"},
    ).json()["run"]["id"]
    ids = [r["id"] for r in cli("runs", "list", "--json").json()["runs"]]
    assert ids == [mine] and theirs not in cli("runs", "list").out
