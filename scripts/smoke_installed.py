"""Smoke-test duvo-tui as a user installs it: run by the Python of an environment the wheel was installed into.

    VENV/bin/python scripts/smoke_installed.py

CI (.ci/run) builds the wheel, installs it without ``-e`` into a fresh virtual environment and runs this. Each
check runs the environment's ``duvo-tui`` console script in a pseudo-terminal, from an empty folder, with a
throwaway HOME and without XDG_RUNTIME_DIR (as over SSH as root, in containers and in cron):

- the package is imported from the environment, not from a checkout;
- ``duvo-tui --version`` prints the installed version;
- ``duvo-tui demo`` draws its first frame with the demo runs listed, and ``q`` exits 0 leaving no process;
- nothing printed a Python warning or a traceback.

Exit status 0 when all hold; otherwise 1, with what failed and the screen text it saw.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

COLUMNS, ROWS = 80, 24
FIRST_FRAME_TIMEOUT = 90.0
"""Seconds the demo may take to list its runs (generous: CI machines are shared)."""
EXIT_TIMEOUT = 30.0
DEMO_RUN = "Is the billing API up?"
"""The message of one of the runs ``duvo-tui demo`` starts: shown in the runs pane once they are listed."""
PYTHON_TROUBLE = re.compile(r"\b\w*Warning: |Traceback \(most recent call last\)")


class SmokeFailure(Exception):
    """A check failed; the message says which and shows what the terminal showed."""


def screen_text(raw: bytes) -> str:
    """What a terminal showed, as plain text (escape sequences and control characters removed)."""
    from duvo_tui.text import clean

    return clean(raw.decode("utf-8", errors="replace"))


def _tail(text: str, limit: int = 1500) -> str:
    return text[-limit:] if len(text) > limit else text


def user_environment(home: Path) -> dict[str, str]:
    """The environment of the console script: a fresh HOME, no duvo-tui variables, no XDG_RUNTIME_DIR."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DUVO_", "XDG_")) and key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(HOME=str(home), TERM="xterm-256color", COLORTERM="truecolor")
    return env


def check_installed_package() -> Path:
    """The console script of this environment, after checking the package comes from the environment."""
    import duvo_tui

    package = Path(duvo_tui.__file__).resolve().parent
    prefix = Path(sys.prefix).resolve()
    if not package.is_relative_to(prefix):
        raise SmokeFailure(f"duvo_tui is imported from {package}, not from the environment {prefix}")
    script = Path(sys.executable).parent / "duvo-tui"
    if not script.is_file():
        raise SmokeFailure(f"no console script at {script}")
    return script


def check_version(script: Path, env: dict[str, str], cwd: Path) -> str:
    """``duvo-tui --version`` prints ``duvo-tui VERSION`` of the installed distribution and exits 0."""
    from duvo_tui.bench.ptyrun import PtyProcess

    expected = f"duvo-tui {version('duvo-tui')}"
    child = PtyProcess([str(script), "--version"], columns=COLUMNS, rows=ROWS, env=env, cwd=cwd)
    child.drain(timeout=30)
    status = child.close(quit_keys=b"", timeout=5)
    text = screen_text(bytes(child.output)).strip()
    if status != 0 or text != expected:
        raise SmokeFailure(f"--version: expected {expected!r} and status 0, got {text!r} and status {status}")
    return text


def check_demo(script: Path, env: dict[str, str], cwd: Path) -> float:
    """``duvo-tui demo`` lists its runs on the first screen; ``q`` exits 0 and leaves no process behind.

    Returns the seconds until the runs showed.
    """
    from duvo_tui.bench.ptyrun import PtyProcess

    child = PtyProcess([str(script), "demo"], columns=COLUMNS, rows=ROWS, env=env, cwd=cwd)
    shown_after: float | None = None
    try:
        deadline = time.perf_counter() + FIRST_FRAME_TIMEOUT
        while time.perf_counter() < deadline and child.process.poll() is None:
            if child.read(0.1) and DEMO_RUN in screen_text(bytes(child.output)):
                shown_after = time.perf_counter() - child.started
                break
        if shown_after is None:
            status = child.process.poll()
            raise SmokeFailure(
                f"demo: the runs never showed (exit status {status}); the terminal showed:\n"
                + _tail(screen_text(bytes(child.output)))
            )
        time.sleep(0.5)  # let the first frames settle before quitting
    finally:
        status = child.close(quit_keys=b"q", timeout=EXIT_TIMEOUT)
    if status != 0:
        raise SmokeFailure(f"demo: q should exit 0, the exit status was {status}")
    try:
        os.killpg(child.process.pid, 0)  # the demo ran in its own session: anything left would be in its group
    except ProcessLookupError:
        pass
    else:
        raise SmokeFailure("demo: processes of the demo are still running after it exited")
    trouble = PYTHON_TROUBLE.search(screen_text(bytes(child.output)))
    if trouble:
        raise SmokeFailure(f"demo printed {trouble.group(0)!r}:\n" + _tail(screen_text(bytes(child.output))))
    return shown_after


def main() -> int:
    start = time.perf_counter()
    try:
        script = check_installed_package()
        with tempfile.TemporaryDirectory(prefix="duvo-smoke-") as tmp:
            home, cwd = Path(tmp, "home"), Path(tmp, "cwd")
            home.mkdir()
            cwd.mkdir()
            env = user_environment(home)
            printed = check_version(script, env, cwd)
            print(f"ok: --version prints {printed!r}")
            shown_after = check_demo(script, env, cwd)
            print(f"ok: demo listed its runs after {shown_after:.1f}s; q exited 0 and left no process")
    except SmokeFailure as failure:
        print(f"smoke test failed: {failure}", file=sys.stderr)
        return 1
    print(f"ok: the installed duvo-tui works on Python {sys.version.split()[0]} ({time.perf_counter() - start:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
