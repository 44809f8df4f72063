"""``python -m duvo_tui.bench startup``: time to the first frame of the dashboard vs. a bare Textual app.

Each measurement starts a fresh process in a pseudo-terminal (120x40) and times from the spawn until the
screen shows a marker: ``hello`` for the bare app, the runs pane's title for the dashboard (which opens on a
local emulator started by this script, through the same code path as ``duvo-tui``). Median of N runs each.
Target: dashboard <= 1.5x the bare app.
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


def _time_one(argv: list[str], marker: bytes, env: dict[str, str], quit_keys: bytes) -> float | None:
    child = PtyProcess(argv, env=env)
    try:
        return child.wait_for(marker, timeout=60)
    finally:
        child.close(quit_keys)


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
        hello, dashboard = [], []
        for _ in range(args.repeat):
            # Interleaved, so machine load affects both alike.
            seconds = _time_one([python, str(hello_file)], b"hello", env, b"\x03")
            if seconds is not None:
                hello.append(seconds)
            seconds = _time_one([python, "-m", "duvo_tui"], b"1 Runs", env, b"q")
            if seconds is not None:
                dashboard.append(seconds)
    if not hello or not dashboard:
        print("startup: an app never showed its first frame", file=sys.stderr)
        return 1
    figures = {
        "hello_median_s": round(statistics.median(hello), 3),
        "dashboard_median_s": round(statistics.median(dashboard), 3),
        "ratio": round(statistics.median(dashboard) / statistics.median(hello), 2),
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
