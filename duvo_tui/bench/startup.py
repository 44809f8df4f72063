"""``python -m duvo_tui.bench startup``: time to the first frame of the dashboard vs. a bare Textual app.

Each measurement starts a fresh process in a pseudo-terminal (120x40) and times from the spawn until the
screen shows a marker: ``hello`` for the bare app, the runs pane's title for the dashboard (which opens on a
local emulator started by this script, through the same code path as ``duvo-tui``). Median of N runs each.
Target: dashboard <= 1.5x the bare app.

The dashboard's first frame shows its panes empty; their widgets load right after it. Two later moments are
timed too, in the same runs: "ready" (the panes' widgets are drawn: the message input's placeholder shows)
and "runs shown" (a run started before the measurement is listed, which takes the service's first request).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from duvo_tui.bench.ptyrun import PtyProcess

__all__ = ["main"]

HELLO = """
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("hello")

Hello().run()
"""


READY_MARKER = b"i: write to this run"
RUN_MESSAGE = "startup bench run"


def _time_one(argv: list[str], markers: list[bytes], env: dict[str, str], quit_keys: bytes) -> list[float | None]:
    """Seconds from the spawn until each marker showed (None for one that never did)."""
    child = PtyProcess(argv, env=env)
    try:
        return [child.wait_for(marker, timeout=60) for marker in markers]
    finally:
        child.close(quit_keys)


def _start_a_run(emu) -> None:
    import asyncio

    from duvo_tui.api.client import DuvoClient

    async def start() -> None:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            await client.start_run(emu.agents["quick"], message=RUN_MESSAGE)

    asyncio.run(start())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench startup", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="measurements of each app (default 7)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)

    from duvo_tui.config import Config, Profile, save_config
    from duvo_tui.emulator.testing import running_emulator

    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="duvo-bench-") as tmp, running_emulator(speed=1.0) as emu:
        home = Path(tmp)
        profile = Profile(name="bench", base_url=emu.base_url, api_key=emu.api_key, team_id=emu.team_id)
        save_config(Config(default_profile="bench", profiles={"bench": profile}), home / "config" / "config.toml")
        env = dict(os.environ, DUVO_TUI_HOME=str(home))
        env.pop("DUVO_API_KEY", None)
        hello_file = home / "hello.py"
        hello_file.write_text(HELLO)
        _start_a_run(emu)
        hello, dashboard, ready, shown = [], [], [], []
        for _ in range(args.repeat):
            # Interleaved, so machine load affects both alike.
            (seconds,) = _time_one([python, str(hello_file)], [b"hello"], env, b"\x03")
            if seconds is not None:
                hello.append(seconds)
            markers = [b"1 Runs", READY_MARKER, RUN_MESSAGE.encode()]
            first, filled, listed = _time_one([python, "-m", "duvo_tui"], markers, env, b"q")
            dashboard += [first] if first is not None else []
            ready += [filled] if filled is not None else []
            shown += [listed] if listed is not None else []
    if not hello or not dashboard:
        print("startup: an app never showed its first frame", file=sys.stderr)
        return 1
    figures = {
        "hello_median_s": round(statistics.median(hello), 3),
        "dashboard_median_s": round(statistics.median(dashboard), 3),
        "ratio": round(statistics.median(dashboard) / statistics.median(hello), 2),
        "ready_median_s": round(statistics.median(ready), 3) if ready else None,
        "runs_shown_median_s": round(statistics.median(shown), 3) if shown else None,
        "repeat": args.repeat,
        "target_ratio": 1.5,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"first frame, median of {args.repeat} (pty 120x40):")
        print(f"  bare Textual app   {figures['hello_median_s']:.3f} s")
        print(f"  duvo-tui dashboard {figures['dashboard_median_s']:.3f} s")
        verdict = "ok" if figures["ratio"] <= 1.5 else "over target"
        print(f"  ratio              {figures['ratio']:.2f}x  (target <= 1.5x: {verdict})")
        for label, key in (("panes ready", "ready_median_s"), ("first run listed", "runs_shown_median_s")):
            value = figures[key]
            print(f"  {label:<18} " + (f"{value:.3f} s" if value is not None else "never (within 60 s)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
