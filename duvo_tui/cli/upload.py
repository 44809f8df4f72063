"""``duvo-tui sandbox upload SANDBOX_ID FILE... [--dest DIR]``: the uploads, with a progress bar on a terminal.

Files go up at most four at a time through the service's :class:`~duvo_tui.service.uploader.Uploader`
(direct up to 10 MB, a presigned URL above). On a terminal one line on stderr shows the bytes sent, the
rate and the time left; elsewhere each finished file is one line on stdout (or one JSON document with
``--json``). A refusal that concerns every file (unknown or expired sandbox, refused key) stops all of
them and is reported once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from duvo_tui.config import Profile
    from duvo_tui.service import events as ev

__all__ = ["ProgressLine", "format_rate", "run_upload"]

BAR_WIDTH = 24


def format_rate(rate: float) -> str:
    """Bytes per second, short."""
    from duvo_tui.cli.output import format_size

    return f"{format_size(int(rate))}/s"


def format_eta(seconds: float | None) -> str:
    if seconds is None or seconds != seconds:
        return "--"
    seconds = int(seconds + 0.5)
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds}s"


class ProgressLine:
    """One redrawn line for all uploads of a command: a bar of bytes sent, the rate and the ETA."""

    def __init__(self, total: int, files: int, stream: TextIO, interval: float = 0.1) -> None:
        self.total, self.files, self.stream, self.interval = max(total, 1), files, stream, interval
        self.sent: dict[str, int] = {}
        self.finished = 0
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.width = 0

    def update(self, upload_id: str, sent: int) -> None:
        self.sent[upload_id] = sent
        self.draw()

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        from duvo_tui.cli.output import format_size

        sent = min(sum(self.sent.values()), self.total)
        elapsed = max(now - self.started, 1e-6)
        rate = sent / elapsed
        eta = (self.total - sent) / rate if rate > 0 else None
        filled = int(BAR_WIDTH * sent / self.total)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        text = (
            f"[{bar}] {100 * sent / self.total:5.1f}% {format_size(sent)}/{format_size(self.total)} "
            f"{format_rate(rate)} ETA {format_eta(eta)} ({self.finished}/{self.files} files)"
        )
        self.stream.write("\r" + text.ljust(self.width))
        self.width = len(text)
        self.stream.flush()

    def say(self, line: str) -> None:
        """Print ``line`` above the bar."""
        self.stream.write("\r" + " " * self.width + "\r" + line + "\n")
        self.width = 0
        self.draw(force=True)

    def close(self) -> None:
        self.draw(force=True)
        self.stream.write("\n")
        self.stream.flush()


def destination_path(dest_dir: str, file: Path) -> str:
    """Where ``file`` lands in the sandbox when uploaded into ``dest_dir``."""
    return f"{dest_dir.rstrip('/')}/{file.name}"


def run_upload(args: argparse.Namespace, profile: Profile) -> int:
    """Upload ``args.files`` into ``args.dest`` of ``args.sandbox_id``. 0 when all arrived, 1 otherwise."""
    from duvo_tui.cli.context import UsageError, open_client, run_async
    from duvo_tui.cli.output import emit_json, format_size
    from duvo_tui.service import events as ev
    from duvo_tui.service.uploader import Uploader, UploadError, is_refusal
    from duvo_tui.text import clean_line

    files: list[Path] = list(args.files)
    sizes = {}
    for file in files:
        try:
            sizes[file] = file.stat().st_size
        except OSError as exc:
            raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    dests = [destination_path(args.dest, file) for file in files]
    if len(set(dests)) != len(dests):
        raise UsageError("two of the files have the same name and would land on the same sandbox path")
    interactive = not args.json and sys.stderr.isatty()
    bar = ProgressLine(sum(sizes.values()), len(files), sys.stderr) if interactive else None

    def on_event(event: ev.Event) -> None:
        if bar is not None and isinstance(event, ev.UploadProgress):
            bar.update(event.upload_id, event.sent)
        elif bar is not None and isinstance(event, ev.UploadFailed) and not event.final:
            bar.say(f"retrying: {clean_line(event.message)}")

    async def go() -> tuple[list[Any], list[tuple[Path, str]]]:
        done: list[Any] = []
        failed: list[tuple[Path, str]] = []
        async with open_client(profile) as client:
            uploader = Uploader(client, on_event, concurrency=4)

            async def one(file: Path, dest: str) -> None:
                try:
                    result = await uploader.upload(file, args.sandbox_id, dest)
                except UploadError as error:
                    if error.cause is not None and is_refusal(error.cause) and not _about_the_file(error.cause):
                        raise error.cause from None  # the sandbox or the key: the same for every file
                    failed.append((file, str(error)))
                    return
                done.append(result)
                line = f"Uploaded {file} -> {result.dest_path} ({format_size(result.size)})"
                if bar is not None:
                    bar.finished += 1
                    bar.say(line)
                elif not args.json:
                    print(line, flush=True)

            tasks = [asyncio.create_task(one(file, dest)) for file, dest in zip(files, dests, strict=True)]
            try:
                await asyncio.gather(*tasks)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                if bar is not None:
                    bar.close()
        return done, failed

    done, failed = run_async(go())
    if args.json:
        emit_json(
            {
                "sandbox_id": args.sandbox_id,
                "uploaded": [{"path": r.dest_path, "size_bytes": r.size, "method": r.method} for r in done],
                "failed": [{"file": str(f), "message": m} for f, m in failed],
            }
        )
    for file, message in failed:
        print(f"duvo-tui: error: upload of {clean_line(str(file))} failed: {clean_line(message)}", file=sys.stderr)
    return 1 if failed else 0


def _about_the_file(error: Any) -> bool:
    """True for a refusal that concerns one file (its path), not the sandbox or the key."""
    if getattr(error, "field", None) == "path":  # InvalidInputError: a file name that is not valid UTF-8
        return True
    return getattr(error, "status", None) in (400, 409, 413, 422)
