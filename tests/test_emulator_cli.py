"""``duvo-tui emulator``: the agent listing, option checks, and a served emulator in its own process."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.cli import main
from duvo_tui.emulator.state import DEFAULT_API_KEY
from tests.test_emulator_api import wait_for


def test_print_agents_json_lists_every_scenario_agent(capsys):
    assert main(["emulator", "--print-agents", "--json"]) == 0
    agents = json.loads(capsys.readouterr().out)
    assert [a["key"] for a in agents] == [
        "approval",
        "questions",
        "fails",
        "chatty",
        "quick",
        "login",
        "approval_legacy",
    ]
    assert all(set(a) == {"id", "name", "scenario", "key"} and len(a["id"]) == 36 for a in agents)
    # Unrelated ids, as a real team's are: no two share their first eight characters.
    assert len({a["id"][:8] for a in agents}) == len(agents)
    assert main(["--json", "emulator", "--print-agents"]) == 0
    assert json.loads(capsys.readouterr().out) == agents


def test_print_agents_as_text_names_them(capsys):
    assert main(["emulator", "--print-agents"]) == 0
    out = capsys.readouterr().out
    assert "Supplier Invoice Approval" in out and f"{DAILY_CHECK}  Daily Health Check" in out
    assert len(out.strip().splitlines()) == 7


@pytest.mark.parametrize(
    "option",
    [["--speed", "0"], ["--fault-rate", "1.5"], ["--rate-limit", "0"], ["--latency-ms", "-1"], ["--port", "x"]],
)
def test_bad_options_are_usage_errors(option, capsys):
    assert main(["emulator", *option]) == 2
    assert "error" in capsys.readouterr().err


def test_a_busy_port_is_reported(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["emulator", "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


KEY = "dv_my_own_key_0123456789abcdefghijk"
DAILY_CHECK = "2fab30c5-aece-4d91-aaa4-2148f7c6f597"


@pytest.fixture
def served():
    """``duvo-tui emulator`` in its own process; yields it and the first lines it printed."""
    command = [sys.executable, "-m", "duvo_tui", "emulator", "--port", "0", "--speed", "50", "--api-key", KEY]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or (lines[-1] and "Ctrl-C" not in lines[-1]):
            lines.append(proc.stdout.readline())
        yield proc, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


async def test_the_served_emulator_prints_where_it_is_and_runs_scenarios(served):
    _proc, text = served
    base_url = re.search(r"on (http://127\.0\.0\.1:\d+)", text).group(1)
    assert KEY not in text and "dv_my…jk" in text, "a key given on the command line is shown masked"
    assert DEFAULT_API_KEY not in text
    assert DAILY_CHECK in text and "Daily Health Check" in text
    async with DuvoClient(base_url, KEY) as client:
        run = await client.start_run(DAILY_CHECK)
        await wait_for(client, run.id, "completed")


def test_ctrl_c_stops_the_served_emulator_cleanly(served):
    proc, text = served
    assert "Press Ctrl-C to stop." in text
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0
    assert "Traceback" not in proc.stderr.read()
