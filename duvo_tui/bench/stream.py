"""``python -m duvo_tui.bench stream``: the dashboard with a 100,000-message run while 100 messages/s arrive.

A child process runs the real dashboard (``make_app``) in a pseudo-terminal with the real Linux driver, fed by
an in-process synthetic service (no HTTP: this measures the UI). The run's first 100,000 messages are there at
start (as if paged in); then 100 new messages per second arrive as ``MessagesAppended`` events. The parent
presses ``j``/``k`` in the message stream every 100 ms; the child records, for each key, the time from the key
event reaching the app to the next frame written to the terminal. Reported: peak RSS of the child, and
key-to-repaint latency p50/p95/max. Targets: peak RSS <= 300 MB, p95 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from duvo_tui.bench.watch_only import WatchOnly

__all__ = ["SyntheticService", "main", "synthetic_messages"]

RUN_ID = "5e1f0000-0000-4000-8000-000000000001"
AGENT_ID = "8dc0202f-980b-4cc6-8af9-e4c5c0bdffce"

if TYPE_CHECKING:
    from duvo_tui.service.store import TrackedRun


def synthetic_messages(start: int, count: int) -> list[Any]:
    """Messages like a busy agent's: text, tool calls with arguments, results, now and then an error."""
    from duvo_tui.api.models import Message, ToolCall, ToolResult

    base = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    out = []
    for i in range(start, start + count):
        when = base + timedelta(milliseconds=10 * i)
        kind = i % 4
        if kind == 0:
            text = f"Step {i}: the billing service shows {i % 97} errors in this slice; checking the upstream."
            out.append(Message(id=f"m{i}", role="assistant", timestamp=when, text_content=text))
        elif kind == 1:
            call = ToolCall(id=f"c{i}", name="query_logs", arguments={"service": "billing", "step": i, "limit": 50})
            out.append(Message(id=f"m{i}", type="tool_call", role="assistant", timestamp=when, tool_call=call))
        elif kind == 2:
            error = "upstream timeout after 30000 ms" if i % 40 == 2 else None
            result = ToolResult(tool_call_id=f"c{i - 1}", result={"matches": i % 13, "took_ms": 41}, error=error)
            out.append(Message(id=f"m{i}", type="tool_result", role="tool", timestamp=when, tool_result=result))
        else:
            text = "Noted.\nThe pattern repeats every few minutes, which points at the connection pool."
            out.append(Message(id=f"m{i}", role="assistant", timestamp=when, text_content=text))
    return out


class SyntheticService(WatchOnly):
    """The service facade the dashboard uses, with one huge run and a steady inflow of messages."""

    def __init__(self, initial: int, rate: float) -> None:
        from duvo_tui.api.models import Run

        now = datetime.now(UTC)
        self._run = Run(id=RUN_ID, agent_id=AGENT_ID, status="running", created_at=now, title="Log analysis")
        self._messages = synthetic_messages(0, initial)
        self._rate = rate
        self._callbacks: list[Any] = []
        self._task: asyncio.Task | None = None

    def subscribe(self, callback):
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._feed())

    async def _feed(self) -> None:
        from duvo_tui.service.events import MessagesAppended

        batch = max(1, int(self._rate / 10))
        while True:
            await asyncio.sleep(0.1)
            start = len(self._messages)
            new = synthetic_messages(start, batch)
            self._messages.extend(new)
            for callback in list(self._callbacks):
                callback(MessagesAppended(RUN_ID, start, tuple(new), len(self._messages)))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def runs(self) -> list[TrackedRun]:
        from duvo_tui.service.store import TrackedRun

        return [TrackedRun(self._run)]

    def run(self, run_id: str) -> TrackedRun | None:
        from duvo_tui.service.store import TrackedRun

        return TrackedRun(self._run) if run_id == RUN_ID else None

    def messages(self, run_id):
        return self._messages if run_id == RUN_ID else []

    def pending_requests(self):
        return []

    def focus(self, run_id) -> None:
        pass

    def budget_snapshot(self):
        return None


def _child(result_path: str, initial: int, rate: float) -> int:
    """Runs inside the pseudo-terminal: the dashboard, instrumented."""
    import resource

    from textual import events

    from duvo_tui.ui.app import DuvoApp, make_app

    latencies: list[float] = []
    pending: list[float] = []
    seen: set[int] = set()

    class Instrumented(DuvoApp):
        async def on_event(self, event: events.Event) -> None:
            if isinstance(event, events.Key) and event.key in ("j", "k") and id(event) not in seen:
                seen.add(id(event))
                pending.append(time.perf_counter())
            await super().on_event(event)

    service = SyntheticService(initial, rate)
    app = make_app(service)
    app.__class__ = Instrumented

    def after_write() -> None:
        if pending:
            now = time.perf_counter()
            latencies.extend(now - t for t in pending)
            pending.clear()

    async def ready(_service: Any) -> None:
        app.screen_dashboard.action_show_pane(1)
        driver = app._driver
        original = driver.write

        def write(data: str) -> None:
            original(data)
            after_write()

        driver.write = write

    app._on_ready = ready

    def finish() -> None:
        Path(result_path).write_text(
            json.dumps({"latencies": latencies, "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss})
        )

    try:
        app.run()
    finally:
        finish()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench stream", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=100_000, help="messages in the run at start (100000)")
    parser.add_argument("--rate", type=float, default=100.0, help="new messages per second (100)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of key presses (20)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--child", metavar="RESULT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child, args.messages, args.rate)

    from duvo_tui.bench.ptyrun import PtyProcess

    with tempfile.TemporaryDirectory(prefix="duvo-bench-") as tmp:
        result = Path(tmp) / "result.json"
        argv_child = [sys.executable, "-m", "duvo_tui.bench.stream", "--child", str(result)]
        argv_child += ["--messages", str(args.messages), "--rate", str(args.rate)]
        env = dict(os.environ, DUVO_TUI_HOME=tmp)
        child = PtyProcess(argv_child, env=env)
        loaded = child.wait_for(b"Log analysis", timeout=120)
        if loaded is None:
            child.close()
            print("stream: the dashboard never showed the run", file=sys.stderr)
            return 1
        time.sleep(2.0)  # let the first selection (100k messages laid out) settle
        deadline = time.perf_counter() + args.duration
        presses = 0
        while time.perf_counter() < deadline:
            child.send(b"k" if presses % 2 == 0 else b"j")
            presses += 1
            end = time.perf_counter() + 0.1
            while time.perf_counter() < end:
                child.read(0.01)
        child.close(b"q", timeout=10)
        if not result.exists():
            print("stream: the child wrote no result", file=sys.stderr)
            return 1
        data = json.loads(result.read_text())
    latencies = sorted(x * 1000 for x in data["latencies"])
    if not latencies:
        print("stream: no key press was measured", file=sys.stderr)
        return 1
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    figures = {
        "messages": args.messages,
        "rate_per_s": args.rate,
        "presses": presses,
        "measured": len(latencies),
        "peak_rss_mb": round(data["maxrss_kb"] / 1024, 1),
        "latency_p50_ms": round(statistics.median(latencies), 1),
        "latency_p95_ms": round(p95, 1),
        "latency_max_ms": round(latencies[-1], 1),
        "first_frame_with_run_s": round(loaded, 2),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"stream: {args.messages:,} messages, +{args.rate:g}/s, {len(latencies)} key presses measured")
        print(f"  peak RSS                 {figures['peak_rss_mb']} MB   (target <= 300 MB)")
        print(f"  key -> repaint p50       {figures['latency_p50_ms']} ms")
        print(f"  key -> repaint p95       {figures['latency_p95_ms']} ms   (target <= 50 ms)")
        print(f"  key -> repaint max       {figures['latency_max_ms']} ms")
        print(f"  run shown after          {figures['first_frame_with_run_s']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
