"""SIGTERM and SIGHUP end the dashboard cleanly: session and drafts saved, service stopped, terminal restored.

The real ``duvo-tui`` runs in a pseudo-terminal against the emulator; the signal comes from outside, as from
``kill``, ``timeout`` or a service manager (SIGTERM) or a closed terminal window (SIGHUP).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import termios
import time
from pathlib import Path

from duvo_tui.bench.ptyrun import PtyProcess

LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
MOUSE_OFF = b"\x1b[?1000l"


def dashboard(emulator, home: Path, tmp_path: Path, rows: int = 24) -> PtyProcess:
    config = tmp_path / "config.toml"
    config.write_text(f'[profiles.emu]\nbase_url = "{emulator.base_url}"\nteam_id = "{emulator.team_id}"\n')
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DUVO_TUI_HOME": str(home),
        "DUVO_API_KEY": emulator.api_key,
        "DUVO_TUI_BELL": "0",
        "DUVO_TUI_DESKTOP_NOTIFY": "off",
    }
    return PtyProcess([sys.executable, "-m", "duvo_tui", "--config", str(config)], columns=80, rows=rows, env=env)


def start_questions_run(emulator) -> str:
    import asyncio

    from duvo_tui.api.client import DuvoClient

    async def go() -> str:
        async with DuvoClient(emulator.base_url, emulator.api_key) as client:
            run = await client.start_run(emulator.agents["questions"])
            for _ in range(300):
                if (await client.get_run(run.id)).pending_human_request is not None:
                    return run.id
                await asyncio.sleep(0.05)
        raise AssertionError("the questions run never asked")

    return asyncio.run(go())


def wait_for_exit(terminal: PtyProcess, limit: float = 20.0) -> int:
    deadline = time.monotonic() + limit
    while terminal.process.poll() is None:
        assert time.monotonic() < deadline, "the dashboard did not exit after the signal"
        terminal.read(0.05)
    while terminal.read(0.05):  # what it wrote last: the terminal being restored
        pass
    return terminal.process.returncode


def assert_terminal_restored(terminal: PtyProcess, since: int) -> None:
    tail = bytes(terminal.output[since:])
    assert LEAVE_ALTERNATE_SCREEN in tail, "still in the alternate screen"
    assert MOUSE_OFF in tail, "mouse reporting left on"
    lflag = termios.tcgetattr(terminal.master)[3]
    assert lflag & termios.ICANON and lflag & termios.ECHO, "the terminal is left in raw mode"


def test_sigterm_saves_the_session_and_the_draft_restores_the_terminal_and_exits_0(emulator, tmp_path):
    run_id = start_questions_run(emulator)
    home = tmp_path / "home"
    terminal = dashboard(emulator, home, tmp_path, rows=40)  # tall enough for the second question
    try:
        assert terminal.wait_for("◆ 1 waiting".encode(), timeout=30) is not None, terminal.output[-2000:]
        terminal.send(b"n")
        # The first question has the keyboard once its first option shows the pointer.
        assert terminal.wait_for("▸ 1 ○ ".encode(), timeout=15) is not None
        mark = len(terminal.output)
        terminal.send(b"3")  # APAC; the form moves on to the formats question
        deadline = time.monotonic() + 15
        while "▸ 1 ☐ ".encode() not in terminal.output[mark:]:
            assert time.monotonic() < deadline, "the pick never showed"
            terminal.read(0.05)
        since = len(terminal.output)
        os.kill(terminal.process.pid, signal.SIGTERM)
        assert wait_for_exit(terminal) == 0
        assert_terminal_restored(terminal, since)
    finally:
        terminal.close(quit_keys=b"")
    drafts = [json.loads(path.read_text()) for path in (home / "state" / "drafts").glob("*.json")]
    assert [draft["run_id"] for draft in drafts] == [run_id]
    assert "APAC" in json.dumps(drafts[0])
    session = json.loads((home / "state" / "session.json").read_text())
    assert session["profiles"]["emu"]["run_id"] == run_id
    assert session["profiles"]["emu"]["pane"] == 3


def test_sighup_ends_it_cleanly_too(emulator, tmp_path):
    home = tmp_path / "home"
    terminal = dashboard(emulator, home, tmp_path)
    try:
        assert terminal.wait_for(b"Maya Chen", timeout=30) is not None, terminal.output[-2000:]
        since = len(terminal.output)
        os.kill(terminal.process.pid, signal.SIGHUP)
        assert wait_for_exit(terminal) == 128 + signal.SIGHUP
        assert_terminal_restored(terminal, since)
    finally:
        terminal.close(quit_keys=b"")
    assert (home / "state" / "session.json").is_file()


def test_sigterm_at_the_first_frame_still_ends_it_cleanly(emulator, tmp_path):
    terminal = dashboard(emulator, tmp_path / "home", tmp_path)
    try:
        assert terminal.wait_for(b"Runs", timeout=30) is not None  # the first frame
        since = len(terminal.output)
        os.kill(terminal.process.pid, signal.SIGTERM)
        assert wait_for_exit(terminal) == 0
        assert_terminal_restored(terminal, since)
    finally:
        terminal.close(quit_keys=b"")
