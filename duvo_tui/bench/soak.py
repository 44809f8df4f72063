"""``python -m duvo_tui.bench soak``: the dashboard, headless, against a faulty emulator for a long time.

Two processes: the emulator (``fault_rate`` 0.1, ``latency_ms`` 200) serves from a process of its own
(:mod:`duvo_tui.bench.soak_emulator`), so that the dashboard's memory is measured alone; the dashboard runs
headless through ``App.run_test`` with the real ``DuvoService`` and client. The script
tracks ``--runs`` runs of every scenario, answers each human request through the answering path the form
uses (``DuvoService.respond`` with one Idempotency-Key per answer), keeps posting messages to finished runs,
writes files into a watched folder that a ``FolderWatcher`` uploads, and now and then has the emulator
close its socket for a few seconds (connection drops). At the end it reports:

- crashes of the app (must be 0) and unhandled exceptions logged (0);
- HTTP 429 answers (0: the client never exceeds the limit knowingly);
- human answers: sent, confirmed, and delivered to the server exactly once (counted in the emulator);
- uploaded files matching the ledger and the server's copy (size and sha256);
- memory about every 30 s (:mod:`duvo_tui.bench.soak_memory`): the dashboard process's RSS, the emulator's
  RSS apart, the Python heap, glibc malloc's in-use and free-but-held bytes, the runs and messages held;
  and the growth per minute over the first half (warm-up) and the second half (steady state).

Exit status 0 when every check holds, 1 otherwise. ``--json`` prints the report as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import hashlib
import json
import logging
import os
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from duvo_tui.bench.soak_emulator import EmulatorProcess
from duvo_tui.bench.soak_memory import MemorySample, format_samples, growth, growth_lines

__all__ = ["SoakReport", "main", "soak"]

SCENARIO_MIX = (("approval", 0.35), ("questions", 0.25), ("quick", 0.15), ("fails", 0.15), ("chatty", 0.10))


@dataclass
class SoakReport:
    """What a soak found."""

    duration_s: float = 0.0
    runs_tracked: int = 0
    runs_started: int = 0
    crashes: int = 0
    unhandled_exceptions: int = 0
    exception_samples: list[str] = field(default_factory=list)
    http_status_counts: dict[str, int] = field(default_factory=dict)
    responses_429: int = 0
    connection_drops: int = 0
    messages_posted: int = 0
    human_requests_seen: int = 0
    answers_confirmed: int = 0
    answers_not_confirmed: dict[str, int] = field(default_factory=dict)
    answers_delivered_once: int = 0
    answers_delivered_twice_or_more: int = 0
    answers_confirmed_but_not_delivered: int = 0
    files_written: int = 0
    files_matching: int = 0
    files_mismatched: list[str] = field(default_factory=list)
    error_notifications: int = 0
    notification_samples: list[str] = field(default_factory=list)
    memory: list[dict[str, Any]] = field(default_factory=list)
    """:class:`~duvo_tui.bench.soak_memory.MemorySample` fields, about every 30 s, the last at the end."""
    rss_growth: tuple[float | None, float | None] = (None, None)
    """The dashboard's RSS growth, MiB/min: over the first half (warm-up) and the second half (steady state)."""
    rss_after_trim: float | None = None
    """The dashboard's RSS after ``malloc_trim(0)`` at the end (what glibc gives back), MiB."""
    growth_sites: list[str] = field(default_factory=list)
    """With ``--tracemalloc``: where memory grew most between the first minute and the end."""

    @property
    def passed(self) -> bool:
        return (
            self.crashes == 0
            and self.unhandled_exceptions == 0
            and self.responses_429 == 0
            and self.answers_delivered_twice_or_more == 0
            and self.answers_confirmed_but_not_delivered == 0
            and self.files_matching == self.files_written
        )


class _ErrorLog(logging.Handler):
    """Counts log records at ERROR and above (``log.exception`` included)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("uvicorn", "duvo_tui.emulator")):
            return  # the emulator's own log (a dropped connection mid-request) is not the client's
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


def _frame(frame: tracemalloc.Frame) -> str:
    name = frame.filename.rsplit("site-packages/", 1)[-1].rsplit("/duvo_tui/", 1)[-1]
    return f"{name}:{frame.lineno}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _answer_for(request: Any) -> dict[str, Any]:
    if request.is_approval:
        return {"approved": True}
    answers = {}
    for question in request.questions:
        answers[question.question] = question.options[0].label if question.options else "soak answer"
    return {"answers": answers}


async def soak(
    duration: float = 600.0,
    runs: int = 100,
    *,
    fault_rate: float = 0.1,
    latency_ms: int = 200,
    speed: float = 2.0,
    drop_every: float = 60.0,
    seed: int = 1,
    progress: Any = None,
    trace_memory: bool = False,
    sample_every: float = 30.0,
) -> SoakReport:
    """Run the soak (inside a running event loop) and return its report."""
    import httpx

    from duvo_tui.api.client import DuvoClient
    from duvo_tui.bench import soak_memory
    from duvo_tui.service import events as ev
    from duvo_tui.service.responder import Submission
    from duvo_tui.service.service import DuvoService, ServiceSettings
    from duvo_tui.service.uploader import Uploader
    from duvo_tui.service.watcher import FolderWatcher, WatchSettings
    from duvo_tui.ui.app import make_app
    from duvo_tui.ui.bridge import ServiceEvent

    say = progress or (lambda text: None)
    rng = random.Random(seed)
    report = SoakReport()
    work_dir = Path(tempfile.mkdtemp(prefix="duvo-soak-"))
    os.environ["DUVO_TUI_HOME"] = str(work_dir / "home")
    errors = _ErrorLog()
    logging.getLogger().addHandler(errors)
    loop = asyncio.get_running_loop()
    loop_errors: list[str] = []
    loop.set_exception_handler(lambda _loop, context: loop_errors.append(str(context.get("message"))[:200]))

    statuses: collections.Counter[int] = collections.Counter()

    class CountingTransport(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = await super().handle_async_request(request)
            statuses[response.status_code] += 1
            return response

    started_at = time.monotonic()
    emu: EmulatorProcess | None = None
    try:
        emu = await EmulatorProcess.start(work_dir, fault_rate, latency_ms, speed, seed)
        client = DuvoClient(emu.base_url, emu.api_key, transport=CountingTransport())
        service = DuvoService(client, settings=ServiceSettings(), state_dir=work_dir / "state", team_id=emu.team_id)
        app = make_app(service)
        notifications: list[str] = []
        original_notify = app.notify

        def notify(message: Any, *args: Any, **kwargs: Any) -> None:
            if kwargs.get("severity") == "error":
                notifications.append(str(message)[:160])
            original_notify(message, *args, **kwargs)

        app.notify = notify  # type: ignore[method-assign]

        answered: dict[str, str] = {}  # request id -> outcome kind
        seen_requests: set[str] = set()
        answer_tasks: set[asyncio.Task] = set()

        async def answer(request: Any) -> None:
            await asyncio.sleep(rng.uniform(0.2, 3.0))  # a person takes a moment
            submission = Submission(
                request.run_id, request.id, idempotency_key=f"soak-{request.id}", **_answer_for(request)
            )
            for _attempt in range(6):
                outcome = await service.respond(submission)
                answered[request.id] = outcome.kind
                if outcome.final:
                    return
                await asyncio.sleep(2.0)  # "Not sent": the person presses submit again

        def on_event(event: ev.Event) -> None:
            if isinstance(event, ev.HumanRequestAppeared) and event.request.id not in seen_requests:
                seen_requests.add(event.request.id)
                task = loop.create_task(answer(event.request))
                answer_tasks.add(task)
                task.add_done_callback(answer_tasks.discard)

        service.subscribe(on_event)

        async with app.run_test(headless=True, size=(160, 48), notifications=True) as pilot:
            deadline = time.monotonic() + 30
            while not app.service_started and time.monotonic() < deadline:
                await pilot.pause(0.1)
            tracked_runs = service.runs

            def take_sample() -> None:
                held = tracked_runs()
                taken = soak_memory.sample(
                    time.monotonic() - started_at, emu.pid, len(held), sum(len(t.messages) for t in held)
                )
                report.memory.append(asdict(taken))

            if trace_memory:
                tracemalloc.start(12)
            take_sample()

            # The watched folder and its sandbox.
            setup_client = DuvoClient(emu.base_url, emu.api_key)
            sandbox = await setup_client.create_sandbox()
            folder = work_dir / "watched"
            folder.mkdir()
            uploader = Uploader(client, lambda e: app.post_message(ServiceEvent(e)), concurrency=2)
            watcher = FolderWatcher(
                folder,
                sandbox.sandbox_id,
                uploader,
                emit=lambda e: app.post_message(ServiceEvent(e)),
                settings=WatchSettings(settle=0.5),
                state_dir=work_dir / "state",
            )
            stop_watching = asyncio.Event()
            watch_task = loop.create_task(watcher.watch(stop_watching))

            agents = emu.agents
            scenarios = [name for name, _ in SCENARIO_MIX]
            weights = [w for _, w in SCENARIO_MIX]
            run_ids: list[str] = []
            for number in range(runs):
                scenario = rng.choices(scenarios, weights)[0]
                try:
                    run = await service.start_run(agents[scenario], message=f"soak run {number} ({scenario})")
                    run_ids.append(run.id)
                except Exception as error:  # counted: a start that failed after the client's retries
                    notifications.append(f"start failed: {error!r}"[:160])
            report.runs_started = len(run_ids)
            say(f"started {len(run_ids)} runs; soaking for {duration:.0f} s")

            files: dict[str, str] = {}  # name -> sha256 of what was written last (not the bytes: memory)
            baseline = None
            next_drop = time.monotonic() + rng.uniform(0.5, 1.5) * drop_every
            next_sample = time.monotonic() + sample_every
            tick = 0
            while time.monotonic() - started_at < duration:
                tick += 1
                await pilot.pause(1.0)
                if app._exception is not None or not app.is_running:
                    report.crashes += 1
                    break
                # A new file (sometimes a rewrite of an old one) every other second.
                if tick % 2 == 0:
                    name = f"batch-{tick // 20:03d}/file-{tick:05d}.bin"
                    data = rng.randbytes(rng.choice((100, 4_000, 60_000, 300_000)))
                    target = folder / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    files[name] = hashlib.sha256(data).hexdigest()
                    del data
                # Talk to a finished run now and then (it resumes and finishes again).
                if tick % 5 == 0 and run_ids:
                    run_id = rng.choice(run_ids)
                    tracked = service.run(run_id)
                    if tracked is not None and tracked.run.status.is_finished:
                        try:
                            await service.post_message(run_id, f"soak follow-up {tick}")
                            report.messages_posted += 1
                        except Exception as error:
                            notifications.append(f"post failed: {error!r}"[:160])
                # A new run that will ask a person, so answering continues all along.
                if tick % 20 == 0:
                    try:
                        run = await service.start_run(agents[rng.choice(("approval", "questions"))])
                        run_ids.append(run.id)
                        report.runs_started += 1
                    except Exception as error:
                        notifications.append(f"start failed: {error!r}"[:160])
                # Select another run in the dashboard now and then (its stream refills).
                if tick % 7 == 0 and run_ids:
                    app.screen_dashboard.select(rng.choice(run_ids))
                if time.monotonic() >= next_drop:
                    say(f"t={time.monotonic() - started_at:.0f}s: dropping the connection")
                    await emu.command(f"drop {rng.uniform(1.0, 4.0):.2f}")
                    report.connection_drops += 1
                    next_drop = time.monotonic() + rng.uniform(0.5, 1.5) * drop_every
                if time.monotonic() >= next_sample:
                    take_sample()
                    if trace_memory and baseline is None and time.monotonic() - started_at >= duration / 2:
                        baseline = tracemalloc.take_snapshot()  # the steady half starts
                    next_sample += sample_every
                    last = report.memory[-1]
                    emu_rss = last["emulator_rss"]
                    say(
                        f"t={last['t']:.0f}s rss={last['rss']:.1f} MiB emulator={emu_rss or 0:.1f} MiB "
                        f"requests={len(seen_requests)} answered={len(answered)} files={len(files)}"
                    )

            # Let the last answers and uploads land (the faults stay on).
            settle_deadline = time.monotonic() + 90
            while time.monotonic() < settle_deadline:
                pending_uploads = any(s in ("queued", "uploading") for s in watcher.states.values())
                if not answer_tasks and not pending_uploads and len(watcher.states) >= len(files):
                    break
                await pilot.pause(0.5)
            stop_watching.set()
            watch_task.cancel()
            await asyncio.gather(watch_task, return_exceptions=True)
            report.runs_tracked = len(service.runs())
            take_sample()
            if trace_memory and baseline is not None:
                diff = tracemalloc.take_snapshot().compare_to(baseline, "traceback")
                for stat in diff[:8]:
                    # The allocating frame first, then its callers (a traceback lists the oldest first).
                    frames = [_frame(f) for f in reversed(stat.traceback)]
                    report.growth_sites.append(f"{stat.size_diff / 2**20:+.2f} MiB " + " < ".join(frames[:6]))
                tracemalloc.stop()
            if app._exception is not None:
                report.crashes += 1
            await setup_client.aclose()
            if soak_memory.malloc_trim():
                report.rss_after_trim = soak_memory.rss_mib()

        # Answers: every confirmed one reached the scenario exactly once.
        deliveries = collections.Counter((await emu.command("deliveries"))["deliveries"])
        report.human_requests_seen = len(seen_requests)
        for request_id, kind in answered.items():
            if kind == "answered":
                report.answers_confirmed += 1
                if deliveries[request_id] == 0:
                    report.answers_confirmed_but_not_delivered += 1
            else:
                report.answers_not_confirmed[kind] = report.answers_not_confirmed.get(kind, 0) + 1
        report.answers_delivered_once = sum(1 for n in deliveries.values() if n == 1)
        report.answers_delivered_twice_or_more = sum(1 for n in deliveries.values() if n > 1)

        # Files: local bytes == ledger record == the server's copy.
        ledger = {entry.rel_path: entry for entry in watcher.ledger.entries() if entry.status == "done"}
        server_root = Path((await emu.command(f"sandbox {sandbox.sandbox_id}"))["root"])
        report.files_written = len(files)
        for name, digest in files.items():
            entry = ledger.get(name)
            on_server = server_root / name
            ok = entry is not None and entry.sha256 == digest and on_server.is_file() and _sha256(on_server) == digest
            if ok:
                report.files_matching += 1
            else:
                report.files_mismatched.append(name)
        report.files_mismatched = report.files_mismatched[:20]
    finally:
        if emu is not None:
            await emu.close()
        logging.getLogger().removeHandler(errors)
        shutil.rmtree(work_dir, ignore_errors=True)

    report.duration_s = round(time.monotonic() - started_at, 1)
    report.rss_growth = growth([row["t"] for row in report.memory], [row["rss"] for row in report.memory])
    report.unhandled_exceptions = len(errors.records) + len(loop_errors)
    report.exception_samples = (errors.records + loop_errors)[:10]
    report.http_status_counts = {str(k): v for k, v in sorted(statuses.items())}
    report.responses_429 = statuses.get(429, 0)
    report.error_notifications = len(notifications)
    report.notification_samples = list(dict.fromkeys(notifications))[:10]
    return report


def _print_report(report: SoakReport) -> None:
    rows = [
        ("duration", f"{report.duration_s:.0f} s"),
        ("runs started / tracked", f"{report.runs_started} / {report.runs_tracked}"),
        ("connection drops", report.connection_drops),
        ("crashes", report.crashes),
        ("unhandled exceptions logged", report.unhandled_exceptions),
        ("HTTP answers by status", report.http_status_counts),
        ("429 answers", report.responses_429),
        ("human requests seen", report.human_requests_seen),
        ("answers confirmed", report.answers_confirmed),
        ("answers not confirmed (by outcome)", report.answers_not_confirmed or "none"),
        (
            "delivered exactly once / more than once",
            f"{report.answers_delivered_once} / {report.answers_delivered_twice_or_more}",
        ),
        ("confirmed but never delivered", report.answers_confirmed_but_not_delivered),
        ("messages posted to finished runs", report.messages_posted),
        ("files written / matching ledger and server", f"{report.files_written} / {report.files_matching}"),
        ("error notifications shown", report.error_notifications),
        ("dashboard RSS MiB after malloc_trim(0)", _round(report.rss_after_trim)),
    ]
    for label, value in rows:
        print(f"{label:42} {value}")
    samples = [MemorySample(**row) for row in report.memory]
    print("memory (dashboard process; the emulator's RSS apart):")
    for line in format_samples(samples) + growth_lines(samples):
        print(f"  {line}")
    for site in report.growth_sites:
        print(f"  grew: {site}")
    for sample in report.exception_samples:
        print(f"  exception: {sample}")
    for sample in report.notification_samples:
        print(f"  notification: {sample}")
    if report.files_mismatched:
        print(f"  mismatched files: {report.files_mismatched}")
    print("PASS" if report.passed else "FAIL")


def _round(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds to soak (default 600)")
    parser.add_argument("--runs", type=int, default=100, help="runs to start and track (default 100)")
    parser.add_argument("--fault-rate", type=float, default=0.1, help="share of API requests failing (default 0.1)")
    parser.add_argument("--latency-ms", type=int, default=200, help="server latency per request (default 200)")
    parser.add_argument("--speed", type=float, default=2.0, help="scenario speed of the emulator (default 2)")
    parser.add_argument("--drop-every", type=float, default=60.0, help="mean seconds between drops (default 60)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--tracemalloc", action="store_true", help="report where memory grew (slower)")
    parser.add_argument("--sample-every", type=float, default=30.0, help="seconds between memory samples (30)")
    args = parser.parse_args(argv)

    def progress(text: str) -> None:
        print(f"soak: {text}", file=sys.stderr, flush=True)

    report = asyncio.run(
        soak(
            args.duration,
            args.runs,
            fault_rate=args.fault_rate,
            latency_ms=args.latency_ms,
            speed=args.speed,
            drop_every=args.drop_every,
            seed=args.seed,
            progress=progress,
            trace_memory=args.tracemalloc,
            sample_every=args.sample_every,
        )
    )
    if args.json:
        print(json.dumps({**asdict(report), "passed": report.passed}, indent=2))
    else:
        _print_report(report)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
