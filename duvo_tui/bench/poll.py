"""``python -m duvo_tui.bench poll``: freshness of the polling service within the real 300/min limit.

For each N (10, 100, 1000 by default) and each mode, a fresh emulator (300 requests/min, speed 1) gets N
runs of a mix of scenarios, created inside the emulator (not through the API: setting up is not what is
measured). The service tracks them for ``--duration`` seconds with one run focused. A driver keeps
things happening on the server without spending the client's budget: every ~2 s it posts a message to
the focused run (the run resumes, talks and completes again); every ~2 s it replays the approval
scenario on a finished run (a new human request); it answers requests that waited 5 s (someone else
did). Modes:

- ``listing``: the service with the team listing (sweeps of 100 runs per request);
- ``per-run``: the service without it (one run at a time);
- ``naive``: every run polled every 2 s (the focused run's messages too), no budget, no 429 handling.

Figures (after a warm-up of a quarter of the duration, at most 15 s): requests per minute the server
received, requests per detected change (``requests_per_change``: requests over the changes the subscriber
was told of, of any run: a changed run, a batch of new messages, a new human request), 429 answers,
focused-run staleness (server timestamp of a new message or status change to the moment the subscriber
got it) p50/p95, human-request detection latency (request ``created_at`` to the event) p50/p95 over all
runs, and how many of the requests raised were seen at all (``hitl_missed``: answered elsewhere before the
poller looked). Targets: zero 429s; focused p95 <= 2 s; detection p95 <= 10 s at
N = 100 with the listing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from duvo_tui.api.budget import RateBudget
from duvo_tui.api.client import DuvoClient
from duvo_tui.api.errors import DuvoError
from duvo_tui.service import events as ev

__all__ = ["main"]

MODES = ("listing", "per-run", "naive")
MIX = ("quick", "approval", "questions", "fails")


class _CountingTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__(limits=httpx.Limits(max_connections=50))
        self.log: list[tuple[float, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.log.append((time.monotonic(), response.status_code))
        return response


class _NoBudget(RateBudget):
    """The naive baseline: send whenever, learn nothing."""

    async def acquire(self, urgent: bool = False) -> None:
        return None

    def observe(self, status: int, headers: Any) -> None:
        return None


# ----------------------------------------------------------------------------- the server side


def _create_runs(state: Any, team_id: str, scenarios: list[str], owner: str | None = None) -> list[str]:
    """Create runs inside the emulator (call on its loop), belonging to ``owner`` (a user id) when given."""
    from duvo_tui.emulator import run_driver
    from duvo_tui.emulator.scenarios import script_for

    ids = []
    for scenario in scenarios:
        run, nth = state.new_run(state.agent_by_scenario(scenario), team_id, user_id=owner)
        run_driver.start_run(state, run, script_for(scenario), f"{scenario}:{nth}")
        ids.append(run.id)
    return ids


def _drive(state: Any, focused: str, rng: random.Random, now: float, plan: dict[str, float]) -> None:
    """One driver tick (on the emulator's loop): talk to the focused run, replay approvals, answer requests."""
    from duvo_tui.emulator import run_driver
    from duvo_tui.emulator.scenarios import script_for

    if now >= plan["talk"]:
        plan["talk"] = now + rng.uniform(1.5, 2.5)
        run = state.runs[focused]
        if run.status not in ("running", "pending", "starting"):
            run_driver.post_user_message(state, run, f"Next step please ({now:.0f}).")
    if now >= plan["replay"]:
        plan["replay"] = now + rng.uniform(1.5, 2.5)
        done = [r for r in state.runs.values() if r.id != focused and r.status in ("completed", "failed")]
        if done:
            run = rng.choice(done)
            run_driver.start_run(state, run, script_for("approval"), f"replay:{rng.random()}")
    for run in list(state.runs.values()):
        request = run.pending
        if request is not None and run.id != focused and time.time() - request.created_at > 5.0:
            value: Any = True if request.type == "approval" else {}
            run_driver.answer_request(state, run, request, value, "answered by the benchmark")


def _requests_created(state: Any, since: float, until: float) -> list[str]:
    """Ids of the human requests the server raised between two wall-clock times (call on its loop)."""
    return [
        request.id
        for run in state.runs.values()
        for request in run.requests.values()
        if since <= request.created_at <= until
    ]


# ----------------------------------------------------------------------------- measuring


class _Samples:
    def __init__(self, focused: str) -> None:
        self.focused = focused
        self.since = float("inf")  # wall-clock time from which samples count
        self.focus: list[float] = []
        self.hitl: list[float] = []
        self.seen_requests: set[str] = set()
        self.changes: list[float] = []
        """When (monotonic) each change reached the subscriber: a status or run change, a batch of new
        messages, a new human request, of any run."""

    def changed(self) -> None:
        self.changes.append(time.monotonic())

    def _age(self, stamp: datetime | None) -> float | None:
        if stamp is None:
            return None
        ts = stamp.timestamp()
        return None if ts < self.since else max(0.0, time.time() - ts)

    def messages(self, run_id: str, messages: Any) -> None:
        if not messages:
            return
        self.changed()
        if run_id != self.focused:
            return
        for message in messages:
            age = self._age(message.timestamp)
            if age is not None:
                self.focus.append(age)

    def status(self, run: Any, previous: str | None) -> None:
        if run.id == self.focused and previous is not None and run.status != previous:
            age = self._age(run.updated_at)
            if age is not None:
                self.focus.append(age)

    def request(self, request: Any) -> None:
        if request.id in self.seen_requests:
            return
        self.seen_requests.add(request.id)
        self.changed()
        age = self._age(request.created_at)
        if age is not None:
            self.hitl.append(age)

    def on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.MessagesAppended):
            self.messages(event.run_id, event.messages)
        elif isinstance(event, ev.RunChanged):
            self.changed()
            self.status(event.run, event.previous_status)
        elif isinstance(event, ev.HumanRequestAppeared):
            self.request(event.request)


async def _naive(client: DuvoClient, run_ids: list[str], samples: _Samples, stop: asyncio.Event) -> None:
    """Every run polled every 2 s; the focused run's messages too."""
    held: dict[str, int] = {}
    status: dict[str, str] = {}

    async def one(run_id: str, delay: float) -> None:
        await asyncio.sleep(delay)
        while not stop.is_set():
            try:
                detail = await client.get_run(run_id)
                if detail.run is not None:
                    if status.get(run_id, detail.run.status) != detail.run.status:
                        samples.changed()
                    samples.status(detail.run, status.get(run_id))
                    status[run_id] = detail.run.status
                if detail.pending_human_request is not None:
                    samples.request(detail.pending_human_request)
                if run_id == samples.focused:
                    page = await client.list_messages(run_id, limit=50, offset=held.get(run_id, 0))
                    if page.offset == held.get(run_id, 0):
                        held[run_id] = page.offset + len(page.messages)
                        samples.messages(run_id, page.messages)
            except DuvoError:
                pass
            await asyncio.sleep(2.0)

    tasks = [asyncio.create_task(one(r, i * 2.0 / max(1, len(run_ids)))) for i, r in enumerate(run_ids)]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1], 2)


async def _measure(emu: Any, n: int, mode: str, duration: float, seed: int) -> dict[str, Any]:
    from duvo_tui.service import DuvoService, ServiceSettings

    rng = random.Random(seed)
    scenarios = ["quick"] + [MIX[i % len(MIX)] for i in range(n - 1)]
    owner = getattr(emu.state.key_users.get(emu.api_key), "id", None)  # the key's person: their listing has the runs
    run_ids: list[str] = emu.state.call(_create_runs, emu.state, emu.team_id, scenarios, owner)
    focused = run_ids[0]
    samples = _Samples(focused)
    transport = _CountingTransport()
    naive = mode == "naive"
    client = DuvoClient(
        emu.base_url,
        emu.api_key,
        budget=_NoBudget() if naive else None,
        transport=transport,
        max_retries=0 if naive else 4,
    )
    stop = asyncio.Event()
    service = None
    worker: asyncio.Task | None = None
    if naive:
        worker = asyncio.create_task(_naive(client, run_ids, samples, stop))
    else:
        service = DuvoService(
            client,
            settings=ServiceSettings(),
            state_dir=Path(tempfile.mkdtemp(prefix="duvo-bench-")),
            team_id=emu.team_id if mode == "listing" else None,
        )
        service.subscribe(samples.on_event)
        await service.start()
        if mode == "per-run":
            service.track_ids(run_ids)
        else:
            service.track_ids([focused])
        service.focus(focused)
    plan = {"talk": 0.0, "replay": time.time() + 1.0}
    warmup = min(15.0, duration / 4)
    begin = time.monotonic()
    measure_from = begin + warmup
    while time.monotonic() < begin + duration:
        now = time.monotonic()
        if now >= measure_from and samples.since == float("inf"):
            samples.since = time.time()
        emu.state.call(_drive, emu.state, focused, rng, time.time(), plan)
        await asyncio.sleep(0.25)
    end = time.monotonic()
    end_wall = time.time()
    stop.set()
    if worker is not None:
        await worker
    if service is not None:
        await service.close()
    await client.aclose()
    window = [s for t, s in transport.log if measure_from <= t <= end]
    created = emu.state.call(_requests_created, emu.state, samples.since, end_wall - 2.0)
    missed = sum(1 for request_id in created if request_id not in samples.seen_requests)
    minutes = max((end - measure_from) / 60.0, 1e-9)
    changes = sum(1 for t in samples.changes if measure_from <= t <= end)
    return {
        "runs": n,
        "mode": mode,
        "requests_per_min": round(len(window) / minutes, 1),
        "changes_per_min": round(changes / minutes, 1),
        "requests_per_change": round(len(window) / changes, 2) if changes else None,
        "rate_limited": sum(1 for s in window if s == 429),
        "focused_p50_s": _pct(samples.focus, 50),
        "focused_p95_s": _pct(samples.focus, 95),
        "hitl_p50_s": _pct(samples.hitl, 50),
        "hitl_p95_s": _pct(samples.hitl, 95),
        "focused_samples": len(samples.focus),
        "hitl_samples": len(samples.hitl),
        "hitl_missed": missed,
    }


def _run_one(n: int, mode: str, duration: float, seed: int) -> dict[str, Any]:
    from duvo_tui.emulator.testing import running_emulator

    with running_emulator(speed=1.0, rate_limit=300, seed=seed) as emu:
        return asyncio.run(_measure(emu, n, mode, duration, seed))


def _fmt(value: Any) -> str:
    return "-" if value is None else str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench poll", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, action="append", help="N (repeatable; default 10, 100, 1000)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per N and mode (default 60)")
    parser.add_argument("--mode", choices=MODES, action="append", help="only this mode (repeatable)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object per N and mode")
    args = parser.parse_args(argv)
    sizes = args.runs or [10, 100, 1000]
    modes = args.mode or list(MODES)
    if any(n < 1 for n in sizes) or args.duration < 4:
        parser.error("--runs must be >= 1 and --duration >= 4")
    if not args.json:
        print(
            f"{'N':>5} {'mode':<8} {'req/min':>8} {'req/chg':>7} {'429s':>5} {'focus p50':>9} {'focus p95':>9} "
            f"{'hitl p50':>8} {'hitl p95':>8} seen/raised"
        )
    for n in sizes:
        for mode in modes:
            row = _run_one(n, mode, args.duration, args.seed)
            if args.json:
                print(json.dumps(row), flush=True)
            else:
                print(
                    f"{n:>5} {mode:<8} {row['requests_per_min']:>8} {_fmt(row['requests_per_change']):>7} "
                    f"{row['rate_limited']:>5} "
                    f"{_fmt(row['focused_p50_s']):>9} {_fmt(row['focused_p95_s']):>9} "
                    f"{_fmt(row['hitl_p50_s']):>8} {_fmt(row['hitl_p95_s']):>8} "
                    f"{row['hitl_samples']:>4}/{row['hitl_samples'] + row['hitl_missed']:<4}",
                    flush=True,
                )
    return 0
