"""``python -m duvo_tui.bench idle``: CPU of the dashboard with nothing changing, and while messages stream.

A child process runs the real dashboard (``make_app``) in a pseudo-terminal with the real Linux driver, fed
by an in-process synthetic service (no HTTP: this measures the UI) that tracks 20 runs, a few of them
waiting for a person. Phase 1: nothing changes for ``--idle`` seconds (60); the parent reads the child's CPU
time (psutil) and counts the bytes it writes to the terminal. Phase 2: the parent sends SIGUSR1 and the
selected run gets 100 messages/s for ``--stream`` seconds (20). Reported: CPU % of one core and terminal
bytes per second in each phase. Target: idle CPU below 1 %.
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
from typing import Any

from duvo_tui.bench.watch_only import WatchOnly

__all__ = ["IdleService", "main"]


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

    def runs(self) -> list[Any]:
        return list(self._runs)

    def run(self, run_id: str) -> Any:
        return next((r for r in self._runs if r.id == run_id), None)

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
        app.select_run(service.selected)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench idle", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="tracked runs (20)")
    parser.add_argument("--idle", type=float, default=60.0, help="seconds of nothing changing (60)")
    parser.add_argument("--rate", type=float, default=100.0, help="messages per second in phase 2 (100)")
    parser.add_argument("--stream", type=float, default=20.0, help="seconds of streaming (20)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after the first frame before measuring")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.runs, args.rate)

    import psutil

    from duvo_tui.bench.ptyrun import PtyProcess

    with tempfile.TemporaryDirectory(prefix="duvo-bench-") as tmp:
        argv_child = [sys.executable, "-m", "duvo_tui.bench.idle", "--child", "--runs", str(args.runs)]
        argv_child += ["--rate", str(args.rate)]
        child = PtyProcess(argv_child, env=dict(os.environ, DUVO_TUI_HOME=tmp))
        try:
            if child.wait_for(b"Nightly reconciliation", timeout=60) is None:
                print("idle: the dashboard never showed the runs", file=sys.stderr)
                return 1
            process = psutil.Process(child.process.pid)
            _measure(child, process, args.settle)
            idle = _measure(child, process, args.idle)
            os.kill(child.process.pid, signal.SIGUSR1)
            streaming = _measure(child, process, args.stream)
        finally:
            child.close(b"q", timeout=10)
    figures = {"runs": args.runs, "rate_per_s": args.rate, "idle": idle, "streaming": streaming}
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"idle: {args.runs} tracked runs")
        print(f"  nothing changing ({idle['seconds']:g} s)    CPU {idle['cpu_percent']} % of a core, "
              f"{idle['terminal_bytes_per_s']} B/s to the terminal   (target < 1 %)")
        print(f"  {args.rate:g} messages/s ({streaming['seconds']:g} s)  CPU {streaming['cpu_percent']} % of a core, "
              f"{streaming['terminal_bytes_per_s']} B/s to the terminal")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
