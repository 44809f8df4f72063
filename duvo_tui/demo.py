"""``duvo-tui demo``: the dashboard on a local emulator with a few runs to watch.

The emulator is served from a background thread of this process on a free loopback port; config and state
live in a throwaway folder (``DUVO_TUI_HOME``) that is removed on exit, so the user's files are never touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEMO_PROFILE", "DemoEnvironment", "demo_environment", "seed_demo_runs"]

DEMO_PROFILE = "demo"

INVOICE_CSV = b"vendor,amount_eur,due\nAcme Supplies,1200,2026-12-01\nGlobex GmbH,860,2026-12-05\n"
NOTES_TXT = b"October close: pay approved vendors only; anything over 1000 EUR needs a person.\n"


@dataclass
class DemoEnvironment:
    """What the demo runs against."""

    home: Path
    config_path: Path
    emulator: Any
    """The ``running_emulator`` handle (base_url, api_key, team_id, agents, state)."""


@contextlib.contextmanager
def demo_environment(*, speed: float = 1.0, seed: int = 7, chatty_messages: int = 600) -> Iterator[DemoEnvironment]:
    """A temporary home with a ``demo`` profile pointing at a freshly started emulator; all removed on exit."""
    from duvo_tui.config import Config, Profile, save_config
    from duvo_tui.emulator.testing import running_emulator

    home = Path(tempfile.mkdtemp(prefix="duvo-tui-demo-"))
    previous_home = os.environ.get("DUVO_TUI_HOME")
    os.environ["DUVO_TUI_HOME"] = str(home)
    try:
        with running_emulator(speed=speed, seed=seed, chatty_messages=chatty_messages) as emu:
            profile = Profile(
                name=DEMO_PROFILE,
                base_url=emu.base_url,
                team_id=emu.team_id,
                api_key=emu.api_key,
                label="demo (local emulator)",
                agents={
                    "invoices": emu.agents["approval"],
                    "reports": emu.agents["questions"],
                    "importer": emu.agents["fails"],
                    "logs": emu.agents["chatty"],
                    "quick": emu.agents["quick"],
                },
            )
            config = Config(default_profile=DEMO_PROFILE, profiles={DEMO_PROFILE: profile})
            config_path = save_config(config, home / "config" / "config.toml")
            yield DemoEnvironment(home=home, config_path=config_path, emulator=emu)
    finally:
        if previous_home is None:
            os.environ.pop("DUVO_TUI_HOME", None)
        else:
            os.environ["DUVO_TUI_HOME"] = previous_home
        shutil.rmtree(home, ignore_errors=True)


async def seed_demo_runs(service: Any, client: Any, agents: dict[str, str]) -> list[str]:
    """Start a few runs of the demo scenarios (one with a sandbox of files); returns their ids."""
    sandbox = await client.create_sandbox()
    await client.upload_file(sandbox.sandbox_id, "/workspace/invoices/october.csv", INVOICE_CSV)
    await client.upload_file(sandbox.sandbox_id, "/workspace/notes.txt", NOTES_TXT)
    plans = [
        ("quick", "Is the billing API up?", None),
        ("fails", "Import october.csv into the warehouse", sandbox.sandbox_id),
        ("chatty", "Why did billing return 502s last night?", None),
        ("questions", "Quarterly report for the board", None),
        ("approval", "Pay the October invoices", sandbox.sandbox_id),
    ]
    started = []
    for scenario, message, sandbox_id in plans:
        run = await service.start_run(agents[scenario], message=message, sandbox_id=sandbox_id)
        started.append(run.id)
    return started
