"""First contact, end to end, as a new user meets it: a fresh home and only ``DUVO_API_KEY`` and ``DUVO_BASE_URL``
set. A run started by another program (plain httpx) shows in the dashboard (the real program, in a terminal)
within 10 seconds and in ``duvo-tui runs list --json``; ``agents list --json`` and ``whoami --json`` print the
server's Assignments and profile.

Skipped (with the reason printed) when tmux is not installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from duvo_tui.emulator.testing import running_emulator
from tests.test_e2e_tmux import TMUX, Terminal

pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed: the terminal end-to-end test needs it")


def fresh_env(tmp_path: Path, base_url: str, key: str) -> dict[str, str]:
    """Nothing but the key and the server, a home nobody used, and what a terminal needs."""
    return {
        "HOME": str(tmp_path / "user"),
        "DUVO_TUI_HOME": str(tmp_path / "duvo-home"),
        "DUVO_API_KEY": key,
        "DUVO_BASE_URL": base_url,
        "PATH": os.environ.get("PATH", ""),
        "TERM": "xterm-256color",
        "DUVO_TUI_BELL": "0",
    }


def duvo(env: dict[str, str], *argv: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "duvo_tui", *argv], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert env["DUVO_API_KEY"] not in done.stdout + done.stderr
    return json.loads(done.stdout)


def test_a_fresh_home_with_only_a_key_and_a_url_sees_runs_started_elsewhere(tmp_path: Path) -> None:
    with running_emulator(speed=50) as emu:
        env = fresh_env(tmp_path, emu.base_url, emu.api_key)
        terminal = Terminal([sys.executable, "-m", "duvo_tui"], env, width=120, height=40)
        try:
            terminal.wait_for("Maya Chen", limit=30)  # connected: the header names the key's owner
            response = httpx.post(
                f"{emu.base_url}/v1/runs",
                json={"agent_id": emu.agents["approval"], "message": "Pay the November invoices"},
                headers={"Authorization": f"Bearer {emu.api_key}"},
            )
            assert response.status_code == 201, response.text
            run_id = response.json()["run"]["id"]
            started = time.monotonic()
            screen = terminal.wait_for("Pay the November", limit=10)
            print(f"\nshown in the dashboard {time.monotonic() - started:.1f}s after it started")
            assert "Supplier Invo" in screen, screen  # the Assignment's name, from the run listing
            terminal.press("q")
            terminal.wait_closed()
        finally:
            terminal.close()

        listed = duvo(env, "runs", "list", "--json")
        assert [r["id"] for r in listed["runs"]] == [run_id]
        agents = duvo(env, "agents", "list", "--json")
        assert {a["id"]: a["name"] for a in agents["agents"]} == {
            agent.id: agent.name for agent in emu.state.agents.values()
        }
        me = duvo(env, "whoami", "--json")["profile"]
        assert me["name"] == "Maya Chen" and me["team_id"] == emu.team_id
