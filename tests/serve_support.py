"""Helpers for the ``duvo-tui serve`` tests: the real command in a subprocess, its printed addresses, logins."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

STAND_IN_DASHBOARD = (
    "import sys\n"
    "print('__GANGLION__', flush=True)\n"
    "seen = b''\n"
    "while b'quit' not in seen:\n"
    "    chunk = sys.stdin.buffer.read1(4096)\n"
    "    if not chunk:\n"
    "        break\n"
    "    seen = seen[-8:] + chunk\n"
)
"""A program that greets textual-serve like a Textual app and runs until told to quit: for the server tests that
count processes, where a whole dashboard would only cost time."""


@dataclass
class Served:
    """A running ``duvo-tui serve`` process and what it printed."""

    process: subprocess.Popen
    url: str
    """The printed address, with its token."""
    base: str
    """The address without the token (``http://127.0.0.1:PORT/``)."""
    token: str
    demo_api: str | None
    stderr_lines: list[str] = field(default_factory=list)
    stdout_lines: list[str] = field(default_factory=list)
    """What it printed after its address (textual-serve prints there what a dashboard wrote to its stderr)."""

    @property
    def origin(self) -> str:
        return self.base.rstrip("/")

    def log(self) -> str:
        return "".join(self.stderr_lines)

    def story(self) -> str:
        """For a failure's message: the server's processes (each dashboard is a child) and what they printed."""
        import psutil

        lines = []
        try:
            for process in [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children(True)]:
                with process.oneshot():
                    command, cpu = " ".join(process.cmdline()[1:5]), sum(process.cpu_times()[:2])
                    lines.append(f"pid {process.pid} {process.status()} cpu {cpu:.1f}s {command}")
        except psutil.Error as error:
            lines.append(f"(processes: {error})")
        printed = "".join(self.stdout_lines)[-2000:] + "".join(self.stderr_lines)[-2000:]
        return "\n".join(lines) + "\nprinted:\n" + printed
    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_serve(args: list[str], home: Path, *, env: dict[str, str] | None = None, limit: float = 60.0) -> Served:
    """Start ``python -m duvo_tui serve ARGS`` (port 0) with ``home`` as DUVO_TUI_HOME; return once it printed
    its address."""
    environment = {**os.environ, "DUVO_TUI_HOME": str(home), "PYTHONPATH": str(ROOT), **(env or {})}
    if "DUVO_API_KEY" not in (env or {}):
        environment.pop("DUVO_API_KEY", None)  # the served profile's key comes from its config
    process = subprocess.Popen(
        [sys.executable, "-m", "duvo_tui", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    stderr_lines: list[str] = []

    def drain_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            stderr_lines.append(line)

    threading.Thread(target=drain_stderr, daemon=True).start()
    url, demo_api, seen = None, None, []
    deadline = time.monotonic() + limit
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        if match := re.search(r"open: (http\S+)", line):
            url = match.group(1)
        if match := re.search(r"demo API .*: (http\S+)", line):
            demo_api = match.group(1)
        if line.startswith("Press Ctrl+C"):
            break
    if url is None:
        process.kill()
        process.wait(timeout=5)
        raise AssertionError(f"serve printed no address: {''.join(seen)}{''.join(stderr_lines)}")
    base, _, query = url.partition("?")
    token = query.removeprefix("token=")
    served = Served(process, url, base, token, demo_api, stderr_lines)

    def drain_stdout() -> None:  # the server never blocks on a full pipe, and what a dashboard printed is kept
        assert process.stdout is not None
        for line in process.stdout:
            served.stdout_lines.append(line)

    threading.Thread(target=drain_stdout, daemon=True).start()
    return served
