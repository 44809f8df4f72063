"""``duvo-tui sandbox create/ls/upload``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from duvo_tui.config import Profile

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``sandbox`` and its subcommands."""
    sandbox = subparsers.add_parser("sandbox", help="create sandboxes, list and upload files", description="Sandboxes.")
    sub = sandbox.add_subparsers(title="sandbox commands", dest="sandbox_command", metavar="COMMAND", required=True)

    create = sub.add_parser("create", help="create a sandbox", description="Create a sandbox and print its id.")
    create.set_defaults(handler=_create)

    ls = sub.add_parser("ls", help="list a sandbox directory", description="List one directory of a sandbox.")
    ls.add_argument("sandbox_id", metavar="SANDBOX_ID")
    ls.add_argument("path", metavar="PATH", nargs="?", default="/workspace", help="default: /workspace")
    ls.set_defaults(handler=_ls)

    upload = sub.add_parser("upload", help="upload files to a sandbox", description="Upload files to a sandbox.")
    upload.add_argument("sandbox_id", metavar="SANDBOX_ID")
    upload.add_argument("files", metavar="FILE", nargs="+", type=Path)
    upload.add_argument(
        "--dest", metavar="/workspace/DIR", default="/workspace", help="the sandbox directory (default: /workspace)"
    )
    upload.set_defaults(handler=_upload)


def _profile(args: argparse.Namespace, change: str | None = None) -> Profile:
    from duvo_tui.cli.context import UsageError, load_profile, require_writable

    if hasattr(args, "sandbox_id") and not args.sandbox_id.strip():
        raise UsageError("SANDBOX_ID is empty")
    profile = load_profile(args)
    if change:
        require_writable(profile, change)
    return profile


def _sandbox_path(value: str, what: str) -> str:
    from duvo_tui.cli.context import UsageError

    if not value.startswith("/"):
        raise UsageError(f"{what} must be an absolute sandbox path like /workspace/in, not {value!r}")
    if any(part == ".." for part in value.split("/")):
        raise UsageError(f"{what} may not contain '..': {value!r}")
    return value.rstrip("/") or "/"


def _create(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import open_client, run_async
    from duvo_tui.cli.output import emit_json, format_time

    profile = _profile(args, "upload")

    async def go() -> Any:
        async with open_client(profile) as client:
            return await client.create_sandbox()

    sandbox = run_async(go())
    if args.json:
        emit_json(sandbox)
    else:
        print(f"Created sandbox {sandbox.sandbox_id} (expires {format_time(sandbox.expires_at)})")
    return 0


def _ls(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import open_client, run_async
    from duvo_tui.cli.output import emit_json, format_size, print_table

    path = _sandbox_path(args.path, "PATH")
    profile = _profile(args)

    async def go() -> Any:
        async with open_client(profile) as client:
            return await client.list_files(args.sandbox_id, path, urgent=True)

    files = run_async(go())
    if args.json:
        emit_json({"sandbox_id": args.sandbox_id, "path": path, "files": files})
    elif not files:
        print(f"{path} is empty")
    else:
        rows = [
            ("dir" if f.is_dir else "file", "" if f.is_dir else format_size(f.size_bytes), f.path or f.name)
            for f in sorted(files, key=lambda f: (not f.is_dir, f.name))
        ]
        print_table(("TYPE", "SIZE", "PATH"), rows)
    return 0


def _upload(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import UsageError

    args.dest = _sandbox_path(args.dest, "--dest")
    for file in args.files:
        if not file.is_file():
            raise UsageError(f"{file} is not a file")
    profile = _profile(args, "upload")
    from duvo_tui.cli.upload import run_upload

    return run_upload(args, profile)
