"""Types are checked as part of the test command: strict below the UI, basic in ui/ (settings in pyproject.toml).

A failure prints mypy's own report: each line names the file, the line and what does not fit.

Each check keeps mypy's incremental cache of its own (strict and basic settings would invalidate one shared cache
for each other) in the temporary folder, for this user, Python and mypy: mypy re-checks every module whose source
changed (it compares contents), so a fresh checkout of the same code reuses what an earlier run learned."""

from __future__ import annotations

import getpass
import importlib.metadata
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRICT = [
    "duvo_tui/api",
    "duvo_tui/service",
    "duvo_tui/cli",
    "duvo_tui/web",
    "duvo_tui/config.py",
    "duvo_tui/readonly.py",
    "duvo_tui/readonly_client.py",
]
BASIC = ["duvo_tui/ui"]

pytest.importorskip("mypy", reason="mypy is part of the test extra: pip install -e '.[test]'")


def cache_dir(checks: str) -> Path:
    """Where mypy keeps what it learned for ``checks`` ("strict" or "basic")."""
    version = f"py{sys.version_info.major}.{sys.version_info.minor}-mypy{importlib.metadata.version('mypy')}"
    return Path(tempfile.gettempdir()) / f"duvo-tui-mypy-{getpass.getuser()}" / version / checks


def mypy(checks: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--no-error-summary", "--cache-dir", str(cache_dir(checks)), *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_api_service_cli_and_config_are_strictly_typed():
    result = mypy("strict", "--strict", *STRICT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ui_is_type_checked():
    result = mypy("basic", *BASIC)
    assert result.returncode == 0, result.stdout + result.stderr
