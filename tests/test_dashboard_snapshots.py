"""SVG snapshots of the dashboard at 120x40 and 80x24, with deterministic data.

The data comes from a seeded emulator through the real client and service; once the three runs have reached
their resting states (done, failed, waiting for a person) the app stops listening and the clock is frozen,
so ages, budget and message counts are the same on every run.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from duvo_tui.ui.chrome.header import BudgetPicture, DashboardHeader
from duvo_tui.ui.runs.run_list import RunList
from duvo_tui.ui.stream.message_stream import MessageStream
from tests.test_ui_dashboard import FAST

PLAN = (("quick", "Is the billing API up?"), ("quick", "Is search up?"), ("approval", "Pay the October invoices"))
WANT = ("completed", "completed", "waiting")


@pytest.fixture
def seeded_emulator():
    from duvo_tui.emulator.testing import running_emulator

    with running_emulator(speed=50, seed=3) as handle:
        yield handle


def frozen_dashboard(emulator: Any, tmp_path: Any) -> tuple[Any, Any]:
    """The app, and a ``run_before`` that fills it from the emulator and then freezes it."""
    client = DuvoClient(emulator.base_url, emulator.api_key)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    profile = Profile(
        name="snapshot",
        base_url="http://127.0.0.1:8787",  # shown in the header; the client uses the emulator's real port
        api_key=emulator.api_key,
        agents={
            "quick": emulator.agents["quick"],
            "importer": emulator.agents["fails"],
            "invoices": emulator.agents["approval"],
        },
    )
    frozen: list[Any] = []

    def clock():
        from datetime import UTC, datetime

        return frozen[0] if frozen else datetime.now(UTC)

    app = make_app(service, profile, clock=clock, on_close=client.aclose)

    async def run_before(pilot) -> None:
        deadline = time.monotonic() + 20
        while not app.service_started:
            await pilot.pause(0.05)

        def complete(run_id: str, status: str) -> bool:
            tracked = service.run(run_id)
            row = app.screen_dashboard.query_one(RunList).row(run_id)
            if tracked.status != status or row is None or not row.first_message:
                return False
            return 0 < len(tracked.messages) == tracked.message_total

        ids: list[str] = []
        for (scenario, message), want in zip(PLAN, WANT, strict=True):
            # One at a time, each to its resting state, so the creation order (and the list's order) is fixed.
            run = await service.start_run(emulator.agents[scenario], message=message)
            ids.append(run.id)
            while not complete(run.id, want):
                assert time.monotonic() < deadline, f"run {scenario} never reached {want}"
                app.screen_dashboard.query_one(RunList).select(run.id)  # the focused run is polled first
                await pilot.pause(0.1)

        def settled() -> bool:
            statuses = [service.run(i).status for i in ids]
            runs = app.screen_dashboard.query_one(RunList)
            stream = app.screen_dashboard.query_one(MessageStream)
            return (
                all(complete(i, want) for i, want in zip(ids, WANT, strict=True))
                and statuses == list(WANT)
                and ids[2] in app.screen_dashboard.requests
                and all(runs.row(i) is not None and runs.row(i).run.status == service.run(i).status for i in ids)
                and app.screen_dashboard.selected == ids[2]
                and stream.message_count == service.run(ids[2]).message_total == len(service.messages(ids[2]))
            )

        while not settled():
            state = [(service.run(i).status, len(service.messages(i)), service.run(i).message_total) for i in ids]
            assert time.monotonic() < deadline, f"the runs never settled: {state} {app.screen_dashboard.selected}"
            runs = app.screen_dashboard.query_one(RunList)
            if runs.row(ids[2]) is not None and app.screen_dashboard.selected != ids[2]:
                runs.select(ids[2])
            for run_id, want in zip(ids, WANT, strict=True):
                if not complete(run_id, want):
                    service.refresh(run_id)  # do not depend on the polling intervals
            await pilot.pause(0.1)
        app._unsubscribe()
        await service.close()
        created = max(service.run(i).run.created_at for i in ids)
        frozen.append(created + timedelta(minutes=5))
        header = app.screen_dashboard.query_one(DashboardHeader)
        header.budget = BudgetPicture(
            used=42, limit=300, resets_in=37, recent=42, server_remaining=258, server_resets_in=37
        )
        header.connection = "connected"
        app.screen_dashboard.query_one(RunList).refresh()
        app.clear_notifications()
        await pilot.pause(0.2)

    return app, run_before


def test_main_screen_120x40(seeded_emulator, tmp_path, snap_compare):
    app, run_before = frozen_dashboard(seeded_emulator, tmp_path)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_main_screen_80x24(seeded_emulator, tmp_path, snap_compare):
    app, run_before = frozen_dashboard(seeded_emulator, tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_messages_pane_80x24(seeded_emulator, tmp_path, snap_compare):
    app, run_before = frozen_dashboard(seeded_emulator, tmp_path)
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before, press=["2"])
