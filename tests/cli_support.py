"""Helpers for tests that run ``duvo-tui`` in-process against the emulator (the ``cli`` fixture is in conftest)."""

from __future__ import annotations

import json


def new_sandbox(cli) -> str:
    """A fresh sandbox made through ``duvo-tui sandbox create --json``; its id."""
    code, out, _ = cli("sandbox", "create", "--json")
    assert code == 0
    return json.loads(out)["sandbox_id"]
