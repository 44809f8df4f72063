"""The soak's emulator, in a process of its own, driven over stdin/stdout (one line per command).

``python -m duvo_tui.bench.soak_emulator --fault-rate 0.1 --latency-ms 200 --speed 2 --seed 1``

The emulator serves from a background thread (as in the tests) so that ``drop`` can close its socket and
open it again on the same port while runs keep playing. Answers delivered to the scenarios are counted
here, where the emulator records them. On start it prints one JSON line (``base_url``, ``api_key``,
``team_id``, ``agents``, ``pid``); then it reads commands, one per line, and answers each with one JSON line:

- ``drop SECONDS``: stop serving, wait, serve again; answers ``{"ok": true}``;
- ``deliveries``: ``{"deliveries": {request_id: count}}``;
- ``sandbox ID``: ``{"root": "/path/of/the/sandbox/files"}`` (or ``null`` when unknown);
- ``quit`` (or the end of stdin): stop, delete the sandbox files, exit.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["EmulatorProcess", "main"]


class EmulatorProcess:
    """The soak's side: the emulator in a child process, one command and one JSON answer per line."""

    def __init__(self, process: asyncio.subprocess.Process, info: dict[str, Any], log_path: Path) -> None:
        self.process = process
        self.base_url: str = info["base_url"]
        self.api_key: str = info["api_key"]
        self.team_id: str = info["team_id"]
        self.agents: dict[str, str] = info["agents"]
        self.pid: int = process.pid
        self.log_path = log_path
        self._lock = asyncio.Lock()

    @classmethod
    async def start(
        cls, work_dir: Path, fault_rate: float, latency_ms: int, speed: float, seed: int
    ) -> EmulatorProcess:
        log_path = work_dir / "emulator.log"
        with log_path.open("wb") as log_file:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "duvo_tui.bench.soak_emulator",
                f"--fault-rate={fault_rate}",
                f"--latency-ms={latency_ms}",
                f"--speed={speed}",
                f"--seed={seed}",
                "--chatty-messages=300",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=log_file,
            )
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            return cls(process, json.loads(line), log_path)
        except (TimeoutError, ValueError) as error:
            process.kill()
            await process.wait()
            tail = log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the emulator process did not start: {tail}") from error

    async def command(self, text: str) -> dict[str, Any]:
        """Send one command line and return the JSON answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        async with self._lock:
            self.process.stdin.write(text.encode() + b"\n")
            await self.process.stdin.drain()
            return json.loads(await asyncio.wait_for(self.process.stdout.readline(), 60))

    async def close(self) -> None:
        """Ask the emulator to quit (it deletes its files); kill it if it does not."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(Exception):
            assert self.process.stdin is not None
            self.process.stdin.write(b"quit\n")
            await self.process.stdin.drain()
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m duvo_tui.bench.soak_emulator")
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--latency-ms", type=int, default=200)
    parser.add_argument("--speed", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chatty-messages", type=int, default=300)
    args = parser.parse_args(argv)

    import os

    from duvo_tui.emulator import run_driver
    from duvo_tui.emulator.testing import running_emulator

    deliveries: collections.Counter[str] = collections.Counter()
    original_answer = run_driver.answer_request

    def counting_answer(state: Any, run: Any, request: Any, value: Any, text: str) -> None:
        deliveries[request.id] += 1
        original_answer(state, run, request, value, text)

    run_driver.answer_request = counting_answer

    def reply(body: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(body) + "\n")
        sys.stdout.flush()

    with running_emulator(
        fault_rate=args.fault_rate,
        latency_ms=args.latency_ms,
        speed=args.speed,
        seed=args.seed,
        chatty_messages=args.chatty_messages,
    ) as emu:
        reply(
            {
                "base_url": emu.base_url,
                "api_key": emu.api_key,
                "team_id": emu.team_id,
                "agents": emu.agents,
                "pid": os.getpid(),
            }
        )
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "drop":
                emu.stop()
                time.sleep(float(argument or 1.0))
                emu.restart()
                reply({"ok": True})
            elif command == "deliveries":
                reply({"deliveries": dict(deliveries)})
            elif command == "sandbox":
                record = emu.state.sandboxes.get(argument)
                reply({"root": str(record.root) if record is not None else None})
            elif command == "quit":
                break
            else:
                reply({"error": f"unknown command {command!r}"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
