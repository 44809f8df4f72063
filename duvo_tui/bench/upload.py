"""``python -m duvo_tui.bench upload``: big-file throughput vs ``curl -T``, and many small files vs the rate limit.

1. One big file (default 1 GiB, sparse, so the disk is not what is measured) to a presigned URL of the
   emulator on loopback: duvo-tui's uploader in a child process (its peak RSS from ``ru_maxrss``) against
   ``curl -T`` to a fresh presigned URL of the same kind. Best of ``--repeat`` runs each, alternating.
   Target: duvo-tui >= 0.8x curl's throughput.
2. Many small files through the watched-folder path (scan, hash, ledger, direct upload): the time for all
   of them to arrive against the floor the rate limit sets. ``N`` direct uploads at ``L`` per ``W``
   seconds cannot take less than ``N / L * W`` seconds in steady state (1,000 at 300/min: 200 s); the
   first window may be spent at once, which lowers the hard floor to ``(ceil(N / L) - 1) * W``. The
   default scales the window to 6 s (300 per 6 s) so the run takes ~20 s; ``--rate-window 60`` is the
   real limit.

The emulator runs in its own process, so client and server do not share an interpreter.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]

MiB = 1024 * 1024

SERVER = """
import json, sys
from duvo_tui.emulator.testing import running_emulator
options = json.loads(sys.argv[1])
with running_emulator(**options) as emu:
    print(json.dumps({"base_url": emu.base_url, "api_key": emu.api_key}), flush=True)
    sys.stdin.read()
"""

CLIENT = """
import asyncio, json, resource, sys, time
from pathlib import Path
from duvo_tui.api.client import DuvoClient
from duvo_tui.service.uploader import Uploader

async def main(base_url, key, sandbox, path):
    async with DuvoClient(base_url, key) as client:
        await client.list_files(sandbox)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        started = time.perf_counter()
        result = await Uploader(client).upload(Path(path), sandbox, "/workspace/big.bin")
        elapsed = time.perf_counter() - started
        end = resource.getrusage(resource.RUSAGE_SELF)
    cpu = end.ru_utime + end.ru_stime - usage.ru_utime - usage.ru_stime
    print(json.dumps({"seconds": elapsed, "size": result.size, "method": result.method, "cpu_seconds": cpu,
                      "rss_before_kb": usage.ru_maxrss, "rss_peak_kb": end.ru_maxrss}))

asyncio.run(main(*sys.argv[1:]))
"""


class Server:
    """The emulator in a child process."""

    def __init__(self, **options: Any) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, json.dumps(options)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        info = json.loads(self.proc.stdout.readline())
        self.base_url, self.api_key = info["base_url"], info["api_key"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def _sandbox_and_url(server: Server, want_url: bool) -> tuple[str, str | None]:
    from duvo_tui.api.client import DuvoClient

    async with DuvoClient(server.base_url, server.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        url = (await client.create_upload_url(sandbox, "/workspace/big.bin")).upload_url if want_url else None
    return sandbox, url


def _duvo_once(server: Server, path: Path) -> dict[str, Any]:
    sandbox, _ = asyncio.run(_sandbox_and_url(server, False))
    out = subprocess.run(
        [sys.executable, "-c", CLIENT, server.base_url, server.api_key, sandbox, str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def _curl_once(server: Server, path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ``curl -T``."""
    import resource

    _, url = asyncio.run(_sandbox_and_url(server, True))
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        ["curl", "-sS", "-T", str(path), "-o", "/dev/null", "-w", "%{http_code}", str(url)],
        capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    end = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.stdout.strip() != "200":
        raise RuntimeError(f"curl failed: {done.stdout} {done.stderr}")
    return elapsed, end.ru_utime + end.ru_stime - usage.ru_utime - usage.ru_stime


def big_file(size_mib: int, repeat: int) -> dict[str, Any]:
    """duvo-tui vs curl on one big file."""
    workdir = Path(tempfile.mkdtemp(prefix="duvo-bench-upload-"))
    path = workdir / "big.bin"
    with path.open("wb") as handle:
        handle.truncate(size_mib * MiB)
    server = Server(rate_limit=100_000, data_dir=str(workdir / "server"))
    try:
        duvo_runs, curl_runs = [], []
        for _ in range(repeat):
            duvo_runs.append(_duvo_once(server, path))
            curl_runs.append(_curl_once(server, path))
    finally:
        server.close()
        shutil.rmtree(workdir, ignore_errors=True)
    best = min(duvo_runs, key=lambda r: r["seconds"])
    curl_best = min(wall for wall, _ in curl_runs)
    size = size_mib * MiB
    gib = size / (1024 * MiB)
    return {
        "size_mib": size_mib,
        "duvo_seconds": [round(r["seconds"], 3) for r in duvo_runs],
        "curl_seconds": [round(wall, 3) for wall, _ in curl_runs],
        "duvo_cpu_s_per_gib": round(min(r["cpu_seconds"] for r in duvo_runs) / gib, 2),
        "curl_cpu_s_per_gib": round(min(cpu for _, cpu in curl_runs) / gib, 2),
        "duvo_mib_s": round(size / best["seconds"] / MiB, 1),
        "curl_mib_s": round(size / curl_best / MiB, 1),
        "ratio": round(curl_best / best["seconds"], 3),
        "method": best["method"],
        "duvo_peak_rss_mib": round(max(r["rss_peak_kb"] for r in duvo_runs) / 1024, 1),
        "duvo_rss_growth_mib": round(max(r["rss_peak_kb"] - r["rss_before_kb"] for r in duvo_runs) / 1024, 1),
    }


async def _small(server: Server, count: int, size: int, workdir: Path) -> dict[str, Any]:
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.service.uploader import Uploader
    from duvo_tui.service.watcher import FolderWatcher, WatchSettings

    folder = workdir / "small"
    for i in range(count):
        sub = folder / f"d{i // 100:02}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"f{i:05}.txt").write_bytes(os.urandom(size))
    async with DuvoClient(server.base_url, server.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        watcher = FolderWatcher(
            folder, sandbox, Uploader(client, concurrency=4),
            settings=WatchSettings(settle=0.05), state_dir=workdir / "state",
        )  # fmt: skip
        started = time.perf_counter()
        result = await watcher.sync()
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "sent": result.sent, "failed": len(result.failed)}


def small_files(count: int, size: int, rate_limit: int, window: float) -> dict[str, Any]:
    """Time for ``count`` small files against the rate-limit floor."""
    workdir = Path(tempfile.mkdtemp(prefix="duvo-bench-small-"))
    # The sandbox is created first (one request) and the uploads follow.
    server = Server(rate_limit=rate_limit, rate_window=window, data_dir=str(workdir / "server"))
    try:
        measured = asyncio.run(_small(server, count, size, workdir))
    finally:
        server.close()
        shutil.rmtree(workdir, ignore_errors=True)
    requests = count + 1
    steady = requests / rate_limit * window
    hard = (math.ceil(requests / rate_limit) - 1) * window
    return {
        "files": count,
        "file_bytes": size,
        "rate_limit": rate_limit,
        "rate_window_s": window,
        "seconds": round(measured["seconds"], 2),
        "sent": measured["sent"],
        "failed": measured["failed"],
        "floor_steady_s": round(steady, 2),
        "floor_with_first_burst_s": round(hard, 2),
        "vs_steady_floor": round(measured["seconds"] / steady, 3) if steady else None,
        "vs_burst_floor": round(measured["seconds"] / hard, 3) if hard else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench upload", description=__doc__.split("\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="big file size in MiB (default 1024)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each uploader (best is reported)")
    parser.add_argument("--small-count", type=int, default=1000, help="small files (default 1000)")
    parser.add_argument("--small-bytes", type=int, default=2000, help="size of each small file")
    parser.add_argument("--rate-limit", type=int, default=300, help="requests per window (default 300)")
    parser.add_argument("--rate-window", type=float, default=6.0, help="window in seconds (default 6; 60 is real)")
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--skip-small", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args(argv)
    if shutil.which("curl") is None and not args.skip_big:
        print("curl is not installed: the big-file comparison needs it (--skip-big to leave it out)", file=sys.stderr)
        return 2
    report: dict[str, Any] = {}
    if not args.skip_big:
        report["big_file"] = big = big_file(args.size_mib, args.repeat)
        if not args.json:
            print(
                f"big file {big['size_mib']} MiB: duvo-tui {big['duvo_mib_s']} MiB/s, curl -T {big['curl_mib_s']} MiB/s"
                f" -> {big['ratio']:.2f}x curl (target >= 0.8x); duvo-tui peak RSS {big['duvo_peak_rss_mib']} MiB"
                f" (+{big['duvo_rss_growth_mib']} MiB during the upload); client CPU per GiB: duvo-tui "
                f"{big['duvo_cpu_s_per_gib']} s, curl {big['curl_cpu_s_per_gib']} s; runs (s): duvo-tui "
                f"{big['duvo_seconds']}, curl {big['curl_seconds']}",
                flush=True,
            )
    if not args.skip_small:
        report["small_files"] = small = small_files(
            args.small_count, args.small_bytes, args.rate_limit, args.rate_window
        )
        if not args.json:
            print(
                f"{small['files']} small files at {small['rate_limit']} per {small['rate_window_s']:g} s: "
                f"{small['seconds']} s ({small['sent']} sent, {small['failed']} failed); floor "
                f"{small['files'] + 1} requests / {small['rate_limit']} x {small['rate_window_s']:g} s = "
                f"{small['floor_steady_s']} s (>= {small['floor_with_first_burst_s']} s if the first window is "
                f"spent at once) -> {small['vs_steady_floor']}x the steady floor, "
                f"{small['vs_burst_floor']}x the burst floor",
                flush=True,
            )
    if args.json:
        print(json.dumps(report, indent=2))
    return 0
