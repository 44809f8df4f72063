"""End to end in a real terminal: ``duvo-tui demo`` in tmux, an approval reached and answered with keys only.

Run by itself with ``python -m pytest tests/test_e2e_tmux.py -s`` to see the key count. Skipped (with the reason
printed) when tmux is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed: the terminal end-to-end test needs it")


class Terminal:
    """One tmux session on its own server socket, so nothing of the user's tmux is touched."""

    def __init__(self, command: list[str], env: dict[str, str], width: int = 140, height: int = 45) -> None:
        self.socket = f"duvo-e2e-{uuid.uuid4().hex[:8]}"
        self.keys_sent: list[str] = []
        self._tmux(
            "new-session", "-d", "-s", "e2e", "-x", str(width), "-y", str(height),
            "env", *[f"{k}={v}" for k, v in env.items()], *command,
        )  # fmt: skip

    def _tmux(self, *args: str) -> str:
        result = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        return result.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "e2e")

    def press(self, *keys: str) -> None:
        for key in keys:
            self.keys_sent.append(key)
            self._tmux("send-keys", "-t", "e2e", key)
            time.sleep(0.15)

    def wait_for(self, text: str, limit: float = 20.0) -> str:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen()}")

    def wait_until(self, test, limit: float) -> str:
        """The screen once ``test(screen)`` holds, or after ``limit`` seconds whatever it shows."""
        deadline = time.monotonic() + limit
        screen = self.screen()
        while not test(screen) and time.monotonic() < deadline:
            time.sleep(0.2)
            screen = self.screen()
        return screen

    def wait_closed(self, limit: float = 5.0) -> bool:
        """Wait for the program to exit (its session ends with it); False if it still runs after ``limit``."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            probe = [TMUX, "-L", self.socket, "has-session", "-t", "e2e"]
            if subprocess.run(probe, capture_output=True, timeout=10).returncode != 0:
                return True
            time.sleep(0.1)
        return False

    def close(self) -> None:
        self._tmux("kill-server")


def request_shown(screen: str) -> str:
    """The first line of the human request on screen (``◆ Approval ...``, ``◆ 3 question(s) ...``), or ""."""
    found = re.search(r"◆ (Approval|\d+ question\(s\))[^│┃]*", screen)
    return found.group(0).strip() if found else ""


def test_demo_approval_answered_with_keys_only(tmp_path: Path) -> None:
    env = {
        "DUVO_TUI_HOME": str(tmp_path / "home"),
        "TERM": "xterm-256color",
        "DUVO_TUI_BELL": "0",
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
    }
    terminal = Terminal([sys.executable, "-m", "duvo_tui", "demo", "--speed", "8"], env)
    try:
        terminal.wait_for("Runs", limit=20)
        # The demo's approval run asks within a few seconds; the header counts waiting runs.
        terminal.wait_for("invoices", limit=30)
        # Both of the demo's asking runs (the approval and the questions) wait: n then goes to one of them, and a
        # second n to the other. Each step waits for what the screen shows, never for a length of time.
        terminal.wait_for("◆ 2 waiting", limit=60)
        terminal.press("n")
        screen = terminal.wait_until(lambda text: request_shown(text) != "", limit=20)
        if "◆ Approval" not in request_shown(screen):
            first = request_shown(screen)
            assert first, f"n showed no request; the screen:\n{screen}"
            terminal.press("n")
            screen = terminal.wait_until(lambda text: request_shown(text) not in ("", first), limit=20)
        assert "◆ Approval" in request_shown(screen), f"no approval reached with n; the screen:\n{screen}"
        # The form has the keyboard once the footer offers its keys (the footer shows only what works now).
        terminal.wait_for("a Approve")
        presses_to_reach = len(terminal.keys_sent)
        terminal.press("a")
        terminal.wait_for("Press y to APPROVE")
        terminal.press("y")
        terminal.wait_for("✓ Approved")
        total = len(terminal.keys_sent)
        print(f"\nkeys: {terminal.keys_sent} ({presses_to_reach} to reach the approval, {total} in all)")
        terminal.press("q")
        terminal.wait_closed()
    finally:
        terminal.close()
