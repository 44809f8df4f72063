"""A dashboard whose terminal goes away ends: nothing keeps polling the API on a dropped SSH connection.

The real ``duvo-tui demo`` runs in a pseudo-terminal; the terminal then goes away as it does when a connection
drops or a tmux session is killed: the pty's master side is closed (with no SIGHUP: the pty is not the child's
controlling terminal), or tmux kills the session holding it (master closed and SIGHUP). The process must exit
within a bound, with the hang-up status, by its orderly way out (the demo removes its home), and leave no child
process behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from duvo_tui.bench.ptyrun import PtyProcess

EXIT_BOUND = 15.0
"""Seconds the process may take to end after losing its terminal (it takes well under one; a loaded machine)."""


def demo_env(home: Path, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {
        "TMPDIR": str(tmp_path / "tmp"),
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DUVO_TUI_HOME": str(home),
        "DUVO_TUI_BELL": "0",
        "DUVO_TUI_DESKTOP_NOTIFY": "off",
    }


def wait_gone(process: psutil.Process, limit: float = EXIT_BOUND) -> tuple[bool, int | None]:
    """Whether ``process`` ended within ``limit`` seconds, and its exit status when it was our child."""
    try:
        return True, process.wait(timeout=limit)
    except psutil.TimeoutExpired:
        return False, None
    except psutil.NoSuchProcess:
        return True, None


def assert_no_children_left(children: list[psutil.Process]) -> None:
    alive = [child for child in children if child.is_running() and child.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"child processes left running: {[child.cmdline() for child in alive]}"


def assert_orderly_exit(tmp_path: Path) -> None:
    """The demo's own home (its emulator's data, its session) is removed only by the app's orderly way out."""
    left = list((tmp_path / "tmp").glob("duvo-tui-demo-*"))
    assert not left, f"the demo ended without closing down: {left}"


def test_closing_the_terminal_ends_the_dashboard_in_order(tmp_path):
    home = tmp_path / "home"
    terminal = PtyProcess([sys.executable, "-m", "duvo_tui", "demo"], columns=80, rows=24, env=demo_env(home, tmp_path))
    process = psutil.Process(terminal.process.pid)
    try:
        assert terminal.wait_for(b"Runs", timeout=30) is not None, terminal.output[-2000:]
        terminal.wait_for(b"\x00never", timeout=1.0)  # let it draw and poll a while, as a dashboard left open does
        children = process.children(recursive=True)
        os.close(terminal.master)  # the connection drops: no reader, no SIGHUP
        started = time.monotonic()
        exited, status = wait_gone(process)
        assert exited, f"still running {time.monotonic() - started:.1f}s after its terminal went away"
        assert status == 128 + 1  # a hang-up, as a shell reports it
        assert_no_children_left(children)
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
            terminal.process.wait()
    assert_orderly_exit(tmp_path)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_killing_the_tmux_session_ends_the_dashboard(tmp_path):
    home = tmp_path / "home"
    socket = f"duvo-hangup-{uuid.uuid4().hex[:8]}"  # a private tmux server: no other session is touched
    env = {**os.environ, **demo_env(home, tmp_path)}
    env.pop("TMUX", None)
    command = f"{sys.executable} -m duvo_tui demo"

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", socket, *args], env=env, capture_output=True, text=True, timeout=10).stdout

    tmux("new-session", "-d", "-s", "dash", "-x", "80", "-y", "24", command)
    try:
        deadline = time.monotonic() + 30
        while "Runs" not in tmux("capture-pane", "-p", "-t", "dash"):
            assert time.monotonic() < deadline, "the dashboard never drew in tmux"
            time.sleep(0.2)
        process = psutil.Process(int(tmux("display-message", "-p", "-t", "dash", "#{pane_pid}").strip()))
        children = process.children(recursive=True)
        tmux("kill-session", "-t", "dash")
        started = time.monotonic()
        exited, _status = wait_gone(process)
        if not exited:
            process.kill()
        assert exited, f"still running {time.monotonic() - started:.1f}s after its tmux session was killed"
        assert_no_children_left(children)
    finally:
        tmux("kill-server")
    assert_orderly_exit(tmp_path)
