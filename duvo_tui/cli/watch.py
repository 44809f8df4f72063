"""``duvo-tui watch DIR --sandbox ID [--once]``: upload a folder's files into a sandbox, headless.

``--once`` uploads what is missing or changed and exits (0 when everything arrived, 1 when some file
failed); without it the folder is watched until Ctrl-C (or SIGTERM), which ends it cleanly with status 0.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``watch``."""
    parser = subparsers.add_parser(
        "watch",
        help="upload a folder's files into a sandbox as they appear",
        description="Upload every complete file of DIR into a sandbox, then keep watching for new and changed files.",
    )
    parser.add_argument("dir", metavar="DIR", type=Path, help="the local folder")
    parser.add_argument("--sandbox", metavar="ID", required=True, help="the sandbox the files go to")
    parser.add_argument("--once", action="store_true", help="upload what is missing, then exit")
    parser.add_argument("--dest", metavar="/workspace/DIR", default="/workspace", help="the sandbox folder DIR maps to")
    parser.add_argument("--include-dotfiles", action="store_true", help="also upload files whose name starts with .")
    parser.add_argument(
        "--settle", metavar="SECONDS", type=float, default=1.0, help="how long a file must stay unchanged (default 1)"
    )
    parser.set_defaults(handler=_watch)


def check_folder(folder: Path) -> Path:
    """The folder, absolute; UsageError when it is missing, not a folder or unreadable."""
    from duvo_tui.cli.context import UsageError

    folder = folder.expanduser()
    if not folder.exists():
        raise UsageError(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise UsageError(f"the folder {folder} cannot be read (permission denied)")
    return folder.absolute()


def _watch(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import UsageError, load_profile, require_writable, run_async

    folder = check_folder(args.dir)
    sandbox_id = (args.sandbox or "").strip()
    if not sandbox_id:
        raise UsageError("--sandbox is empty")
    dest = args.dest.rstrip("/") or "/"
    if not dest.startswith("/") or ".." in dest.split("/"):
        raise UsageError(f"--dest must be an absolute sandbox path like /workspace/in, not {args.dest!r}")
    if not args.settle >= 0:
        raise UsageError("--settle must be zero or more seconds")
    profile = load_profile(args)
    require_writable(profile, "watch")
    return run_async(_run(args, profile, folder, sandbox_id, dest))


async def _run(args: argparse.Namespace, profile: Any, folder: Path, sandbox_id: str, dest: str) -> int:
    import asyncio
    import signal

    from duvo_tui.cli.context import open_client, warn_if_state_exposed
    from duvo_tui.cli.output import emit_json_line, format_size
    from duvo_tui.service import events as ev
    from duvo_tui.service.uploader import Uploader
    from duvo_tui.service.watcher import FolderWatcher, WatchSettings
    from duvo_tui.text import clean_line

    def on_event(event: ev.Event) -> None:
        if args.json:
            if not isinstance(event, (ev.UploadProgress, ev.WatchStatus)):
                emit_json_line({"event": type(event).__name__, **vars(event)})
        elif isinstance(event, ev.UploadFinished):
            print(f"Uploaded {event.dest_path} ({format_size(event.size)})", flush=True)
        elif isinstance(event, ev.UploadFailed):
            kind = "failed" if event.final else "will retry"
            print(f"duvo-tui: upload {kind}: {clean_line(event.message)}", file=sys.stderr, flush=True)

    warn_if_state_exposed()  # the upload records live in the state dir
    async with open_client(profile) as client:
        # One request up front, so an unknown or expired sandbox is one clear message, not one per file.
        await client.list_files(sandbox_id, "/workspace", urgent=True)
        uploader = Uploader(client, on_event, concurrency=4)
        settings = WatchSettings(dest=dest, include_dotfiles=args.include_dotfiles, settle=args.settle)
        watcher = FolderWatcher(folder, sandbox_id, uploader, emit=on_event, settings=settings)
        if args.once:
            result = await watcher.sync()
            summary = {"sent": result.sent, "unchanged": result.unchanged, "failed": len(result.failed)}
            if args.json:
                emit_json_line({"event": "Summary", "folder": str(folder), "sandbox_id": sandbox_id, **summary})
            else:
                print(f"{result.sent} sent, {result.unchanged} already there, {len(result.failed)} failed")
            return 0 if result.ok else 1
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        if not args.json:
            print(f"Watching {folder} -> {sandbox_id}:{dest} (Ctrl-C to stop)", flush=True)
        await watcher.watch(stop)
        counts = watcher.counts()
        if not args.json:
            print(f"Stopped: {watcher.sent} sent, {counts['failed']} failed", flush=True)
        return 0
