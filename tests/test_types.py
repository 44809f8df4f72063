"""Types are checked as part of the test command: strict below the UI, basic in ui/ (settings in pyproject.toml).

A failure prints mypy's own report: each line names the file, the line and what does not fit."""

from __future__ import annotations

import subprocess
import sys
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


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--no-error-summary", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_api_service_cli_and_config_are_strictly_typed():
    result = mypy("--strict", *STRICT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_ui_is_type_checked():
    result = mypy(*BASIC)
    assert result.returncode == 0, result.stdout + result.stderr
