"""One budget for every process on a key: real processes against the emulator stay under its limit together."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from duvo_tui.api.shared_budget import (
    MARGIN,
    SharedBudgetFile,
    SharedRateBudget,
    budget_file_for,
    shared_budget_for,
)
from duvo_tui.emulator import ratelimit
from duvo_tui.emulator.testing import running_emulator

WORKER = r"""
import asyncio, json, sys
from pathlib import Path
from duvo_tui.api.client import DuvoClient
from duvo_tui.api.shared_budget import shared_budget_for

base_url, key, team, directory, count = sys.argv[1:6]

async def main():
    budget = shared_budget_for(base_url, key, Path(directory))
    statuses = []
    budget.add_listener(lambda snap: None)
    async with DuvoClient(base_url, key, budget=budget, max_retries=0) as client:
        for _ in range(int(count)):
            await client.list_team_runs(team, limit=1)
    print(json.dumps({"processes_seen": budget.processes}))

asyncio.run(main())
"""


@pytest.fixture
def recorded_decisions(monkeypatch):
    """Every rate-limit decision the emulator takes, in order."""
    decisions: list[ratelimit.Decision] = []
    lock = threading.Lock()
    original = ratelimit.RateLimiter.hit

    def hit(self, key, now=None):
        decision = original(self, key, now)
        with lock:
            decisions.append(decision)
        return decision

    monkeypatch.setattr(ratelimit.RateLimiter, "hit", hit)
    return decisions


def test_two_processes_on_one_key_never_exceed_the_limit_together(recorded_decisions, tmp_path):
    limit, per_process = 8, 8
    with running_emulator(rate_limit=limit, rate_window=2.0) as emu:
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        argv = [emu.base_url, emu.api_key, emu.team_id, str(tmp_path / "run"), str(per_process)]
        pipe = subprocess.PIPE
        workers = [
            subprocess.Popen([sys.executable, "-c", WORKER, *argv], env=env, stdout=pipe, stderr=pipe) for _ in range(2)
        ]
        results = [w.communicate(timeout=60) for w in workers]
    for worker, (_out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err.decode()[-2000:]
    refused = [d for d in recorded_decisions if not d.allowed]
    assert refused == [], f"{len(refused)} requests were answered 429"
    assert len(recorded_decisions) == 2 * per_process
    per_window = Counter(d.reset_at for d in recorded_decisions)
    assert max(per_window.values()) <= limit, per_window
    # Both processes knew they were sharing.
    seen = [json.loads(out)["processes_seen"] for out, _ in results]
    assert max(seen) == 2


def test_the_state_file_is_named_by_a_hash_and_never_holds_the_key(tmp_path):
    key = "dv_secret_key_0123456789"
    path = budget_file_for("http://127.0.0.1:9", key, tmp_path)
    assert key not in path.name
    assert budget_file_for("http://127.0.0.1:9", "another", tmp_path) != path
    assert budget_file_for("http://127.0.0.1:10", key, tmp_path) != path
    budget = shared_budget_for("http://127.0.0.1:9", key, tmp_path)
    assert isinstance(budget, SharedRateBudget)
    asyncio.run(budget.acquire())
    assert key not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_a_full_shared_log_makes_a_process_wait(tmp_path):
    clock = [1000.0]
    shared = SharedBudgetFile(tmp_path / "b.json", wall_clock=lambda: clock[0])
    for _ in range(3):
        assert shared.try_take(3, 10.0)[0] == 0
    wait, processes = shared.try_take(3, 10.0)
    assert wait == pytest.approx(10.0 + MARGIN) and processes == 1
    # A process that has not heard the server's limit yet uses the one another process learned.
    assert shared.try_take(300, 10.0, learned=False)[0] == pytest.approx(10.0 + MARGIN)
    # The urgent reserve: background callers leave ``keep`` slots free.
    clock[0] += 10.1 + MARGIN
    assert shared.try_take(3, 10.0, keep=1)[0] == 0
    assert shared.try_take(3, 10.0, keep=1)[0] == 0
    assert shared.try_take(3, 10.0, keep=1)[0] > 0
    assert shared.try_take(3, 10.0, keep=0)[0] == 0


def test_dead_processes_stop_counting_and_a_torn_file_is_survived(tmp_path):
    path = tmp_path / "b.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path.write_text(json.dumps({"sent": [], "pids": [dead.pid, os.getpid()]}))
    assert SharedBudgetFile(path).processes() == 1
    path.write_text('{"sent": [1, 2,')
    shared = SharedBudgetFile(path)
    assert shared.try_take(5, 1.0)[0] == 0
    assert json.loads(path.read_text())["pids"] == [os.getpid()]


@pytest.fixture
def other_process():
    """The pid of another live process."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    yield other.pid
    other.kill()
    other.wait()


async def test_the_service_budget_event_carries_the_process_count(emulator, tmp_path, other_process):
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.service import events as ev
    from duvo_tui.service.service import DuvoService

    path = tmp_path / "b.json"
    path.write_text(json.dumps({"sent": [], "pids": [other_process]}))
    budget = SharedRateBudget(SharedBudgetFile(path))
    client = DuvoClient(emulator.base_url, emulator.api_key, budget=budget)
    service = DuvoService(client, team_id=emulator.team_id)
    seen: list[ev.BudgetChanged] = []
    service.subscribe(lambda event: seen.append(event) if isinstance(event, ev.BudgetChanged) else None)
    await asyncio.wait_for(service.start(), 5)
    try:
        await asyncio.wait_for(service.start_run(emulator.agents["quick"], message="hi"), 5)
    finally:
        await asyncio.wait_for(service.close(), 5)
        await asyncio.wait_for(client.aclose(), 5)
    assert seen and seen[-1].processes == 2
    budget.close()
    assert json.loads(path.read_text())["pids"] == [other_process]


async def test_the_header_shows_how_many_processes_share_the_budget():
    from duvo_tui.bench.idle import IdleService
    from duvo_tui.config import Profile
    from duvo_tui.service import events as ev
    from duvo_tui.ui.app import make_app
    from duvo_tui.ui.chrome.header import DashboardHeader

    service = IdleService(2, 10.0)
    app = make_app(service, Profile(name="t"))
    async with app.run_test(size=(160, 40)) as pilot:
        while not app.service_started:
            await pilot.pause(0.05)
        for callback in list(service._callbacks):
            callback(ev.BudgetChanged(used=12, limit=300, remaining=288, resets_in=40, processes=3, recent=12))
        header = app.screen_dashboard.query_one(DashboardHeader)
        for _ in range(100):
            if "3 procs" in header.render().plain:
                break
            await pilot.pause(0.05)
        assert "3 procs" in header.render().plain and "12/300" in header.render().plain
