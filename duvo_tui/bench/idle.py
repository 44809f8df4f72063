"""``python -m duvo_tui.bench idle``: what the dashboard costs with nothing changing, and while a run streams.

Two measurements for each ``--runs N`` (repeatable; default 20):

- **CPU** (as before): a child process runs the real dashboard (``make_app``) in a pseudo-terminal with the
  real Linux driver, fed by an in-process synthetic service (no HTTP: this measures the UI) that tracks N
  runs, a few of them waiting for a person. Phase 1: nothing changes for ``--idle`` seconds (60); the parent
  reads the child's CPU time (psutil) and counts the bytes it writes to the terminal. Phase 2: the parent
  sends SIGUSR1 and the selected run gets 100 messages/s for ``--stream`` seconds (20). Target: idle CPU
  below 1 %.
- **Requests** (:mod:`duvo_tui.bench.idle_requests`): the real service and client against an emulator
  holding N finished runs, counted at the emulator: ``requests_per_min_idle`` (nothing changes for
  ``--idle`` seconds after the warm-up) and ``requests_per_min_one_active`` (one run streaming, focused).
  Target: at most 12 requests a minute at rest (4 % of the key's 300).

``--only cpu`` or ``--only requests`` measures one of the two.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from duvo_tui.bench.watch_only import WatchOnly

__all__ = ["IdleService", "main"]

if TYPE_CHECKING:
    from duvo_tui.service.store import TrackedRun


def _runs(count: int) -> list[Any]:
    from duvo_tui.api.models import Run

    now = datetime.now(UTC)
    statuses = ("running", "waiting", "completed", "failed", "running", "stopped")
    return [
        Run(
            id=f"5e1f0000-0000-4000-8000-{i:012d}",
            agent_id="8dc0202f-980b-4cc6-8af9-e4c5c0bdffce",
            status=statuses[i % len(statuses)],
            created_at=now - timedelta(minutes=7 * i),
            updated_at=now - timedelta(minutes=3 * i),
            title=f"Nightly reconciliation {i}",
        )
        for i in range(count)
    ]


class IdleService(WatchOnly):
    """The service facade with ``runs`` tracked runs; quiet until :meth:`start_stream` is called."""

    def __init__(self, runs: int, rate: float) -> None:
        from duvo_tui.api.models import HumanRequest
        from duvo_tui.bench.stream import synthetic_messages

        self._runs = _runs(runs)
        self._messages = {run.id: synthetic_messages(0, 40) for run in self._runs}
        self._requests = [
            HumanRequest(id=f"req-{run.id[-4:]}", run_id=run.id, title="Approve the payout?")
            for run in self._runs
            if run.status == "waiting"
        ]
        self._rate = rate
        self._callbacks: list[Any] = []
        self._task: asyncio.Task | None = None

    @property
    def selected(self) -> str:
        return self._runs[0].id

    def subscribe(self, callback: Any) -> Any:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    async def start(self) -> None:
        pass

    def start_stream(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._feed())

    async def _feed(self) -> None:
        from duvo_tui.bench.stream import synthetic_messages
        from duvo_tui.service.events import MessagesAppended

        run_id = self.selected
        batch = max(1, int(self._rate / 10))
        while True:
            await asyncio.sleep(0.1)
            known = self._messages[run_id]
            start = len(known)
            new = synthetic_messages(start, batch)
            known.extend(new)
            for callback in list(self._callbacks):
                callback(MessagesAppended(run_id, start, tuple(new), len(known)))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def runs(self) -> list[TrackedRun]:
        from duvo_tui.service.store import TrackedRun

        return [TrackedRun(run) for run in self._runs]

    def run(self, run_id: str) -> TrackedRun | None:
        from duvo_tui.service.store import TrackedRun

        return next((TrackedRun(r) for r in self._runs if r.id == run_id), None)

    def messages(self, run_id: str) -> list[Any]:
        return list(self._messages.get(run_id, []))

    def pending_requests(self) -> list[Any]:
        return list(self._requests)

    def focus(self, run_id: str | None) -> None:
        pass

    def budget_snapshot(self) -> None:
        return None


def _child(runs: int, rate: float) -> int:
    """Runs inside the pseudo-terminal: the dashboard on the idle service; SIGUSR1 starts the stream."""
    from duvo_tui.ui.app import make_app

    service = IdleService(runs, rate)

    async def ready(_service: Any) -> None:
        app.screen_dashboard.select(service.selected)
        app.screen_dashboard.action_show_pane(1)
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, service.start_stream)

    app = make_app(service, on_ready=ready)
    app.run()
    return 0


def _measure(child: Any, process: Any, seconds: float) -> dict[str, float]:
    cpu_before = sum(process.cpu_times()[:2])
    bytes_before = len(child.output)
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        child.read(0.05)
    elapsed = time.perf_counter() - started
    cpu = sum(process.cpu_times()[:2]) - cpu_before
    return {
        "cpu_percent": round(100 * cpu / elapsed, 2),
        "terminal_bytes_per_s": round((len(child.output) - bytes_before) / elapsed, 1),
        "seconds": round(elapsed, 1),
    }


def _cpu(runs: int, args: argparse.Namespace) -> dict[str, Any] | None:
    """The CPU phases for ``runs`` tracked runs; None when the dashboard never showed them."""
    import psutil

    from duvo_tui.bench.ptyrun import PtyProcess

    with tempfile.TemporaryDirectory(prefix="duvo-bench-") as tmp:
        argv_child = [sys.executable, "-m", "duvo_tui.bench.idle", "--child", "--runs", str(runs)]
        argv_child += ["--rate", str(args.rate)]
        child = PtyProcess(argv_child, env=dict(os.environ, DUVO_TUI_HOME=tmp))
        try:
            if child.wait_for(b"Nightly reconciliation", timeout=60) is None:
                return None
            process = psutil.Process(child.process.pid)
            _measure(child, process, args.settle)
            idle = _measure(child, process, args.idle)
            os.kill(child.process.pid, signal.SIGUSR1)
            streaming = _measure(child, process, args.stream)
        finally:
            child.close(b"q", timeout=10)
    return {"rate_per_s": args.rate, "idle": idle, "streaming": streaming}


def _print(figures: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"idle: {figures['runs']} tracked runs")
    if "idle" in figures:
        idle, streaming = figures["idle"], figures["streaming"]
        print(
            f"  nothing changing ({idle['seconds']:g} s)    CPU {idle['cpu_percent']} % of a core, "
            f"{idle['terminal_bytes_per_s']} B/s to the terminal   (target < 1 %)"
        )
        print(
            f"  {args.rate:g} messages/s ({streaming['seconds']:g} s)  CPU {streaming['cpu_percent']} % of a core, "
            f"{streaming['terminal_bytes_per_s']} B/s to the terminal"
        )
    if "requests_per_min_idle" in figures:
        print(
            f"  requests/min, nothing changing: {figures['requests_per_min_idle']}   (target <= 12)  "
            f"{figures['idle_requests']}"
        )
        print(
            f"  requests/min, one run streaming: {figures['requests_per_min_one_active']}  {figures['active_requests']}"
        )
        print(
            f"  gauge after the quiet minute: {figures['gauge_used_after_idle']} used; "
            f"all runs listed after {figures['discovery_s']} s; a new run seen after {figures['new_run_seen_s']} s"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench idle", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, action="append", help="tracked runs (repeatable; default 20)")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of nothing changing (60)")
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second in the CPU stream phase (100)")
    parser.add_argument("--stream", type=float, default=20.0, help="seconds of the CPU stream phase (20)")
    parser.add_argument("--active", type=float, default=60.0, help="seconds counted with one run streaming (60)")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds after every run is listed (30)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after the first frame before measuring")
    parser.add_argument("--only", choices=("cpu", "requests"), help="measure only the CPU or only the requests")
    parser.add_argument("--json", action="store_true", help="print one JSON object per N")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = args.runs or [20]
    if args.child:
        return _child(sizes[0], args.rate)
    if any(n < 1 for n in sizes) or min(args.idle, args.active) <= 0 or args.warmup < 0:
        parser.error("--runs must be >= 1, --idle and --active > 0, --warmup >= 0")

    from duvo_tui.bench.idle_requests import request_cost

    for runs in sizes:
        figures: dict[str, Any] = {"runs": runs}
        if args.only != "requests":
            cpu = _cpu(runs, args)
            if cpu is None:
                print("idle: the dashboard never showed the runs", file=sys.stderr)
                return 1
            figures.update(cpu)
        if args.only != "cpu":
            figures.update(request_cost(runs, warmup=args.warmup, idle=args.idle, active=args.active))
        if args.json:
            print(json.dumps(figures), flush=True)
        else:
            _print(figures, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
