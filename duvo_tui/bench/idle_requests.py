"""The request cost of the dashboard at rest, for ``python -m duvo_tui.bench idle``.

The real service and the real client track the runs of a fresh emulator (speed 1, 300 requests a minute)
on a free loopback port, as the dashboard does: the runs come from the listing, one finished run is focused
(the person looks at a run that is done). The emulator holds ``N`` runs made inside it, not through the API
(setting up is not what is measured): finished ones (completed, failed, stopped) and a few waiting for a
person. Requests are counted where they arrive, at the emulator.

1. Warm-up: until every run is tracked, then ``warmup`` seconds.
2. ``requests_per_min_idle``: nothing changes for ``idle`` seconds.
3. ``requests_per_min_one_active``: one new run says something every half second; once the service has it,
   it is focused (the person looks at it), and after a few seconds requests are counted for ``active``
   seconds.
"""

from __future__ import annotations

import asyncio
import collections
import re
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

__all__ = ["request_cost"]

_STATUSES = ("completed", "completed", "failed", "completed", "stopped")
_WAITING_EVERY = 25
"""One seeded run in this many waits for a person."""
_ID = re.compile(r"/[0-9a-fA-F-]{36}")


def _kind(method: str, path: str) -> str:
    """``GET /v1/runs/{id}/messages`` and the like: the path with its ids replaced."""
    return f"{method} {_ID.sub('/{id}', path)}"


def _owner(state: Any, api_key: str) -> str | None:
    """The person the key belongs to: the runs made for the benchmark are theirs, so their listing has them."""
    user = getattr(state, "key_users", {}).get(api_key)
    return getattr(user, "id", None)


def _seed(state: Any, team_id: str, api_key: str, count: int) -> tuple[list[str], str]:
    """Make ``count`` runs that are finished or waiting (call on the emulator's loop); returns (ids, focused id)."""
    from duvo_tui.emulator.run_driver import add_message
    from duvo_tui.emulator.state import HumanRequestRecord

    now = time.time()
    owner = _owner(state, api_key)
    agents = [state.agent_by_scenario(s) for s in ("quick", "approval", "questions", "fails")]
    ids: list[str] = []
    focused = ""
    for i in range(count):
        created = now - 3600 - 60 * (count - i)  # the last made is the newest
        waiting = i % _WAITING_EVERY == _WAITING_EVERY - 1
        status = "waiting" if waiting else _STATUSES[i % len(_STATUSES)]
        run, _ = state.new_run(
            agents[i % len(agents)], team_id, user_id=owner, status=status, created_at=created, started_at=created + 1
        )
        add_message(run, "text", "user", text_content=f"Nightly job {i}")
        for step in range(3 if i < count - 1 else 30):
            add_message(run, "text", "assistant", text_content=f"Step {step} of job {i} done.")
        run.updated_at = created + 30
        if waiting:
            request = HumanRequestRecord(
                id=str(uuid.uuid4()),
                run_id=run.id,
                type="approval",
                title=f"Approve job {i}?",
                description=None,
                created_at=created + 30,
            )
            run.requests[request.id] = request
            run.pending = request
        else:
            run.completed_at = run.updated_at
        if status == "completed":
            focused = run.id  # the newest completed run
        ids.append(run.id)
    return ids, focused


def _start_streaming_run(state: Any, team_id: str, api_key: str) -> str:
    """A new run that says something every half second until the emulator stops (call on its loop)."""
    from duvo_tui.emulator import run_driver

    run, nth = state.new_run(state.agent_by_scenario("chatty"), team_id, user_id=_owner(state, api_key))

    async def stream(ctx: Any) -> None:
        line = 0
        while True:
            line += 1
            ctx.say(f"Reading log line {line}.")
            await ctx.pause(0.5)

    run_driver.start_run(state, run, stream, f"stream:{nth}")
    return run.id


async def _until(condition: Any, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.1)
    return bool(condition())


def _count(emu: Any, since: float, until: float) -> tuple[float, dict[str, int]]:
    """Requests per minute the emulator received between two wall-clock times, and how many of each kind."""
    log = emu.state.requests_between(since, until)
    kinds = collections.Counter(_kind(method, path) for _, method, path in log)
    return round(len(log) * 60.0 / max(until - since, 1e-6), 1), dict(kinds.most_common())


async def _measure(emu: Any, runs: int, warmup: float, idle: float, active: float) -> dict[str, Any]:
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.service import DuvoService, ServiceSettings

    ids, focused = emu.state.call(_seed, emu.state, emu.team_id, emu.api_key, runs)
    client = DuvoClient(emu.base_url, emu.api_key)
    service = DuvoService(
        client,
        settings=ServiceSettings(),
        state_dir=Path(tempfile.mkdtemp(prefix="duvo-bench-")),
    )  # no team id: the runs come from GET /v1/runs, as with any key
    figures: dict[str, Any] = {"runs": runs}
    try:
        await service.start()
        started = time.monotonic()
        if not await _until(lambda: service.run(focused) is not None, 120):
            raise RuntimeError("the service never listed the seeded runs")
        service.focus(focused)
        everything = await _until(lambda: len(service.runs()) >= len(ids), 600)
        figures["discovery_s"] = round(time.monotonic() - started, 1) if everything else None
        await asyncio.sleep(warmup)

        since = time.time()
        await asyncio.sleep(idle)
        until = time.time()
        figures["requests_per_min_idle"], figures["idle_requests"] = _count(emu, since, until)
        figures["gauge_used_after_idle"] = service.budget_snapshot().used

        streaming = emu.state.call(_start_streaming_run, emu.state, emu.team_id, emu.api_key)
        seen_at = time.monotonic()
        if not await _until(lambda: service.run(streaming) is not None, 120):
            raise RuntimeError("the service never listed the streaming run")
        figures["new_run_seen_s"] = round(time.monotonic() - seen_at, 1)
        service.focus(streaming)
        await asyncio.sleep(5.0)
        since = time.time()
        await asyncio.sleep(active)
        until = time.time()
        figures["requests_per_min_one_active"], figures["active_requests"] = _count(emu, since, until)
    finally:
        await service.close()
        await client.aclose()
    return figures


def request_cost(runs: int, *, warmup: float = 30.0, idle: float = 60.0, active: float = 60.0) -> dict[str, Any]:
    """Measure one ``N`` on a fresh emulator (see the module docstring)."""
    from duvo_tui.emulator.testing import running_emulator

    with running_emulator(speed=1.0, rate_limit=300, seed=1) as emu:
        return asyncio.run(_measure(emu, runs, warmup, idle, active))
