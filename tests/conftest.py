"""Shared fixtures. Every test gets its own DUVO_TUI_HOME so nothing touches the user's files."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

if sys.dont_write_bytecode and sys.pycache_prefix is None:
    # Where the environment asks Python not to write bytecode (PYTHONDONTWRITEBYTECODE), every worker would compile
    # and rewrite all the test modules again (about 6 s each): keep that work in a cache outside the source tree.
    sys.pycache_prefix = str(Path(tempfile.gettempdir()) / "duvo-tui-test-pycache")
    sys.dont_write_bytecode = False

MAX_WORKERS = 6
"""Most tests wait on sockets, timers and redraws rather than compute: on two cores two workers keep about 1.4 of
them busy. So three workers for two cores (6 min 06 s with two, 4 min 42 s with three), and never more than six."""


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (the default, see pyproject.toml): one process for a single file, else three workers for two
    cores (one for one core)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    paths = {Path(str(arg).split("::", 1)[0]).resolve() for arg in config.args}
    if len(paths) == 1 and next(iter(paths)).is_file():
        return 0  # a single file goes to one worker anyway: spare starting a second one
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cores * 3 // 2))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Config, state and runtime files of this test live under a temporary folder."""
    home = tmp_path / "duvo-home"
    monkeypatch.setenv("DUVO_TUI_HOME", str(home))
    monkeypatch.delenv("DUVO_API_KEY", raising=False)
    monkeypatch.delenv("DUVO_BASE_URL", raising=False)
    return home


@pytest.fixture
def emulator():
    """The Duvo API emulator on a free loopback port (speed 50: scenarios finish in well under a second)."""
    from duvo_tui.emulator.testing import running_emulator

    with running_emulator(speed=50) as handle:
        yield handle


@pytest.fixture
def cli(emulator, monkeypatch, capsys):
    """``cli(*argv)`` runs ``duvo-tui --base-url EMULATOR *argv`` in-process: (exit code, stdout, stderr).

    The key is never printed whole, whatever happened.
    """
    from duvo_tui.cli import main

    monkeypatch.setenv("DUVO_API_KEY", emulator.api_key)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--base-url", emulator.base_url, *argv])
        captured = capsys.readouterr()
        assert emulator.api_key not in captured.out + captured.err
        return code, captured.out, captured.err

    return run
