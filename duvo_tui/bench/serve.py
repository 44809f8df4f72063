"""``python -m duvo_tui.bench serve``: many browser sessions of ``duvo-tui serve`` on one key, one budget.

The emulator runs in this process with a small rate limit (``--limit`` requests per ``--window`` seconds) and
every decision of its limiter is recorded. ``duvo-tui serve`` runs as a real subprocess on a profile for that
emulator; ``--sessions`` websocket clients log in with the printed token and each gets its own dashboard
process, like a browser tab. They stay connected until ``--duration`` seconds after the last one drew its
first screen. Reported: how many dashboards
drew their first screen (and how long that took), the requests the emulator saw, the most in any one of its
windows, and how many it refused (429). One budget means: no 429, and never more than the limit in a window.
Needs the web extra.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["main", "measure"]


@contextlib.contextmanager
def _recorded_decisions() -> Iterator[list[Any]]:
    """Every decision the emulator's rate limiter takes while the block runs."""
    from duvo_tui.emulator import ratelimit

    decisions: list[Any] = []
    lock = threading.Lock()
    original = ratelimit.RateLimiter.hit

    def hit(self: Any, key: str, now: float | None = None) -> Any:
        decision = original(self, key, now)
        with lock:
            decisions.append(decision)
        return decision

    ratelimit.RateLimiter.hit = hit  # type: ignore[method-assign]
    try:
        yield decisions
    finally:
        ratelimit.RateLimiter.hit = original  # type: ignore[method-assign]


def _start_serve(config: Path, home: Path, sessions: int) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "DUVO_TUI_HOME": str(home)}
    env.pop("DUVO_API_KEY", None)
    command = [sys.executable, "-m", "duvo_tui", "--config", str(config), "serve", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--max-sessions", str(sessions)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if match := re.search(r"open: (http\S+)", line):
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # type: ignore[union-attr]
            return process, match.group(1)
    process.wait(timeout=10)
    raise RuntimeError(f"duvo-tui serve exited with status {process.returncode} before printing its address")


async def _sessions(url: str, count: int, duration: float, start_limit: float = 120.0) -> list[float | None]:
    """``count`` websocket sessions, kept ``duration`` seconds after the last one drew its first screen (or
    ``start_limit`` seconds after they opened, if some never do); each one's seconds to its first screen."""
    import aiohttp

    base, _, _ = url.partition("?")
    origin = base.rstrip("/")
    first_screen: list[float | None] = [None] * count
    all_drawn = asyncio.Event()

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.get(url, allow_redirects=False) as response:
            cookie = response.cookies["duvo_tui_session"].value
        headers = {"Origin": origin, "Cookie": f"duvo_tui_session={cookie}"}
        ws_url = origin.replace("http", "ws", 1) + "/ws?width=120&height=40"
        started = time.monotonic()
        end = [started + start_limit]

        async def one(index: int) -> None:
            async with http.ws_connect(ws_url, headers=headers) as websocket:
                tail = b""
                while (left := end[0] - time.monotonic()) > 0:
                    try:
                        message = await websocket.receive(timeout=min(left, 1.0))
                    except TimeoutError:
                        continue
                    if message.type == aiohttp.WSMsgType.BINARY and first_screen[index] is None:
                        if b"Runs" in tail + message.data:
                            first_screen[index] = time.monotonic() - started
                            if all(t is not None for t in first_screen):
                                end[0] = time.monotonic() + duration
                                all_drawn.set()
                        tail = message.data[-8:]
                    elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                        break

        await asyncio.gather(*(one(i) for i in range(count)))
    return first_screen


def measure(sessions: int = 10, limit: int = 30, window: float = 5.0, duration: float = 15.0) -> dict[str, Any]:
    """Serve ``sessions`` dashboards on one key of an emulator allowing ``limit`` requests per ``window``."""
    import httpx

    from duvo_tui.config import Config, Profile, save_config
    from duvo_tui.emulator.testing import running_emulator

    with tempfile.TemporaryDirectory(prefix="duvo-bench-serve-") as folder, _recorded_decisions() as decisions:
        home = Path(folder)
        with running_emulator(rate_limit=limit, rate_window=window, speed=4, chatty_messages=400) as emu:
            headers = {"Authorization": f"Bearer {emu.api_key}"}
            with httpx.Client(base_url=emu.base_url, headers=headers, timeout=10) as api:
                for scenario in ("approval", "chatty", "questions", "quick"):
                    api.post("/v1/runs", json={"agent_id": emu.agents[scenario], "message": "bench"})
            time.sleep(window + 0.6)  # those requests' window is over: what follows is the dashboards' alone
            decisions.clear()
            profile = Profile(name="bench", base_url=emu.base_url, team_id=emu.team_id, api_key=emu.api_key)
            config = save_config(Config(default_profile="bench", profiles={"bench": profile}), home / "config.toml")
            process, url = _start_serve(config, home, sessions)
            try:
                first_screen = asyncio.run(_sessions(url, sessions, duration))
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)
        recorded = list(decisions)
    per_window = Counter(d.reset_at for d in recorded)
    drawn = [t for t in first_screen if t is not None]
    return {
        "sessions": sessions,
        "sessions_drawn": len(drawn),
        "first_screen_median_s": round(statistics.median(drawn), 2) if drawn else None,
        "first_screen_max_s": round(max(drawn), 2) if drawn else None,
        "limit": limit,
        "window_s": window,
        "duration_s": duration,
        "requests": len(recorded),
        "refused_429": sum(1 for d in recorded if not d.allowed),
        "max_in_one_window": max(per_window.values()) if per_window else 0,
        "windows": len(per_window),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench serve", description=__doc__)
    parser.add_argument("--sessions", type=int, default=10, help="browser sessions at once (default 10)")
    parser.add_argument("--limit", type=int, default=30, help="the key's limit per window (default 30)")
    parser.add_argument("--window", type=float, default=5.0, help="the limit's window in seconds (default 5)")
    parser.add_argument(
        "--duration", type=float, default=15.0, help="seconds the sessions stay once all are drawn (default 15)"
    )
    args = parser.parse_args(argv)
    result = measure(args.sessions, args.limit, args.window, args.duration)
    print(json.dumps(result, indent=2))
    ok = result["refused_429"] == 0 and result["max_in_one_window"] <= args.limit
    print("one budget held" if ok else "THE LIMIT WAS EXCEEDED", file=sys.stderr)
    return 0 if ok else 1
