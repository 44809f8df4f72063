"""Run a command in a pseudo-terminal and watch what it draws: the harness of the UI benchmarks."""

from __future__ import annotations

import os
import pty
import select
import signal
import struct
import subprocess
import time
from collections.abc import Sequence

__all__ = ["PtyProcess"]


class PtyProcess:
    """A child process whose stdin/stdout/stderr are a terminal of ``columns`` x ``rows``."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        columns: int = 120,
        rows: int = 40,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ):
        import fcntl
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        child_env = dict(os.environ if env is None else env)
        # COLUMNS/LINES, when inherited, would win over the terminal's own size (shutil.get_terminal_size).
        child_env.update(COLUMNS=str(columns), LINES=str(rows))
        child_env.setdefault("TERM", "xterm-256color")
        child_env.setdefault("COLORTERM", "truecolor")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=child_env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.output = bytearray()

    def read(self, timeout: float = 0.05) -> bytes:
        """What the child wrote within ``timeout`` seconds (possibly nothing)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return b""
        try:
            chunk = os.read(self.master, 1 << 16)
        except OSError:
            return b""
        self.output.extend(chunk)
        return chunk

    def wait_for(self, marker: bytes, timeout: float = 30.0) -> float | None:
        """Seconds from start until ``marker`` appeared in the output (None on timeout or exit)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if marker in self.output:
                return time.perf_counter() - self.started
            if not self.read(0.02) and self.process.poll() is not None:
                return None
        return None

    def drain(self, timeout: float = 30.0) -> None:
        """Read until the child has exited and written everything (or ``timeout`` seconds passed)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.read(0.05) and self.process.poll() is not None:
                return

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self, quit_keys: bytes = b"q", timeout: float = 5.0) -> int | None:
        """Ask the child to quit (``quit_keys``), then terminate it if it does not; returns its exit status."""
        try:
            if self.process.poll() is None and quit_keys:
                self.send(quit_keys)
            deadline = time.perf_counter() + timeout
            while self.process.poll() is None and time.perf_counter() < deadline:
                self.read(0.05)
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=5)
        finally:
            os.close(self.master)
        return self.process.returncode
