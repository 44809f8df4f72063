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


def _send_half(base_url: str, head: str, body: bytes) -> None:
    """Send ``head`` and part of a longer ``body`` than it declares, then go away (a client killed mid-upload)."""
    host, port = re.match(r"http://([\d.]+):(\d+)", base_url).groups()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode() + body)
        sock.shutdown(socket.SHUT_WR)


def test_a_client_gone_mid_upload_is_one_quiet_line_not_a_traceback(served):
    import httpx

    proc, text = served
    base_url = re.search(r"on (http://127\.0\.0\.1:\d+)", text).group(1)
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=base_url, headers=headers) as http:
        sandbox = http.post("/v1/sandboxes").json()["sandbox_id"]
        url = http.post(f"/v1/sandboxes/{sandbox}/upload-urls", json={"path": "/workspace/big.bin"}).json()
        # A presigned PUT and a direct multipart upload, each declaring a megabyte and sending 1 kB of it.
        put_path = url["upload_url"].removeprefix(base_url)
        _send_half(base_url, f"PUT {put_path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n", b"x" * 1024)
        boundary = "b0undary"
        part = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n/workspace/a.bin\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
        ).encode() + b"y" * 1024
        _send_half(
            base_url,
            f"POST /v1/sandboxes/{sandbox}/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 1048576\r\n\r\n",
            part,
        )
        # The emulator keeps serving, and neither half-sent file shows up.
        listing = http.get(f"/v1/sandboxes/{sandbox}/files").json()
        assert "big.bin" not in json.dumps(listing) and "a.bin" not in json.dumps(listing)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(10) == 0
    errors = proc.stderr.read()
    assert "Traceback" not in errors and "ClientDisconnect" not in errors, errors
    gone = [line for line in errors.splitlines() if "went away" in line]
    assert len(gone) == 2, errors
    assert "/upload/…" in errors and put_path not in errors  # the upload token is not written out
