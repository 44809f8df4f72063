"""Shared fixtures. Every test gets its own DUVO_TUI_HOME so nothing touches the user's files."""

from __future__ import annotations

import pytest


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
