"""Regenerate the README's SVG screenshots into ``screenshots/``.

Runs the real dashboard (``make_app``) on the embedded emulator with the demo's runs, through the real client
and service, and saves what Pilot sees: ``python scripts/screenshots.py``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from duvo_tui.api.client import DuvoClient  # noqa: E402
from duvo_tui.config import Profile  # noqa: E402
from duvo_tui.demo import seed_demo_runs  # noqa: E402
from duvo_tui.emulator.testing import running_emulator  # noqa: E402
from duvo_tui.intervals import PollSettings  # noqa: E402
from duvo_tui.service.scheduler import SchedulerSettings  # noqa: E402
from duvo_tui.service.service import DuvoService, ServiceSettings  # noqa: E402
from duvo_tui.ui.app import make_app  # noqa: E402
from duvo_tui.ui.runs.run_list import RunList  # noqa: E402

OUT = ROOT / "screenshots"
# The question form answered part way: APAC, PDF and CSV picked, the notes being typed (the third question is
# below the first screenful at both sizes: the pane has scrolled to it).
ANSWERING = ["4", "3", "1", "2", "enter", "n", "o", "t", "h", "i", "n", "g", "space", "e", "l", "s", "e"]

SHOTS = [
    # (file, size, keys pressed after the runs settle, the demo run selected first)
    ("dashboard-120x40.svg", (120, 40), [], "approval"),
    ("dashboard-80x24-runs.svg", (80, 24), [], "approval"),
    ("dashboard-80x24-messages.svg", (80, 24), ["2"], "approval"),
    ("dashboard-80x24-request.svg", (80, 24), ["4"], "approval"),
    ("request-questions-80x24.svg", (80, 24), ANSWERING, "questions"),
    ("request-questions-120x40.svg", (120, 40), ANSWERING, "questions"),
    ("help.svg", (120, 40), ["question_mark"], "approval"),
]


async def shoot(emulator, name: str, size: tuple[int, int], keys: list[str], scenario: str, state_dir: Path) -> None:
    client = DuvoClient(emulator.base_url, emulator.api_key)
    settings = ServiceSettings(schedule=SchedulerSettings(poll=PollSettings(min_interval=0.3)))
    service = DuvoService(client, settings, state_dir=state_dir, team_id=emulator.team_id)
    agents = emulator.agents
    profile = Profile(
        name="demo",
        label="demo (local emulator)",
        base_url=emulator.base_url,
        api_key=emulator.api_key,
        agents={
            "invoices": agents["approval"],
            "reports": agents["questions"],
            "importer": agents["fails"],
            "logs": agents["chatty"],
            "quick": agents["quick"],
        },
    )
    started: list[str] = []

    async def ready(svc) -> None:
        started.extend(await seed_demo_runs(svc, client, agents))

    app = make_app(service, profile, on_close=client.aclose, on_ready=ready)
    async with app.run_test(size=size) as pilot:
        deadline = time.monotonic() + 30
        while len(started) < 5 or not all(service.run(r) and service.run(r).status != "pending" for r in started):
            assert time.monotonic() < deadline, "the demo runs never started"
            await pilot.pause(0.2)
        chosen = next(r for r in started if service.run(r).run.agent_id == agents[scenario])
        while chosen not in app.screen_dashboard.requests:
            assert time.monotonic() < deadline, f"the {scenario} run never asked"
            await pilot.pause(0.2)
        app.screen_dashboard.query_one(RunList).select(chosen)
        await pilot.pause(1.5)
        app.clear_notifications()
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.5)
        app.save_screenshot(name, str(OUT))
    print(f"wrote screenshots/{name}")


def main() -> int:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for number, (name, size, keys, scenario) in enumerate(SHOTS):
            with running_emulator(speed=20, seed=7, chatty_messages=300) as emulator:
                asyncio.run(shoot(emulator, name, size, keys, scenario, Path(tmp) / str(number)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
