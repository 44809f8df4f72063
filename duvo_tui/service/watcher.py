"""A watched folder: every complete, new or changed file in it is uploaded to ``/workspace/<relative path>``.

A file is sent once its size and mtime have stayed the same for ``settle`` seconds. Temporary and partial
files (``*.part``, ``*.tmp``, ``*.crdownload``, ``~`` backups, editor swap files) are skipped, and dotfiles
too unless asked for. A symlink is followed only when it resolves inside the folder. Files the ledger
records as arrived (same size and mtime, or the same content hash) are not sent again. Changes are seen
with ``watchfiles.awatch``; a full scan at start catches what changed while nothing was watching.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import functools
import logging
import os
import posixpath
import stat
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from duvo_tui.api.errors import DuvoError
from duvo_tui.service import events as ev
from duvo_tui.service.ledger import Ledger, LedgerEntry, hash_file, ledger_path
from duvo_tui.service.uploader import Uploader, UploadError

log = logging.getLogger(__name__)

__all__ = ["FolderWatcher", "SyncResult", "WatchSettings", "is_temporary", "skipped"]

Emit = Callable[[ev.Event], Any]

TEMPORARY_PATTERNS = ("*.part", "*.tmp", "*.crdownload", "*~", "*.swp", "*.swx", "*.swo", "#*#", ".#*", "4913")
"""Names of files still being written or owned by an editor (``4913`` is vim's write test)."""


def is_temporary(name: str) -> bool:
    """True for a partial download, a temporary file, a backup or an editor's swap file."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern) for pattern in TEMPORARY_PATTERNS)


def skipped(rel_parts: tuple[str, ...], include_dotfiles: bool = False) -> bool:
    """True when the file at these relative path parts is not to be uploaded."""
    if not rel_parts or is_temporary(rel_parts[-1]):
        return True
    return not include_dotfiles and any(part.startswith(".") for part in rel_parts)


@dataclass
class WatchSettings:
    """How a folder is watched."""

    dest: str = "/workspace"
    """The sandbox directory the folder maps to."""
    include_dotfiles: bool = False
    """Upload files whose name (or a folder's) starts with a dot."""
    settle: float = 1.0
    """Seconds a file's size and mtime must stay the same before it is sent."""
    debounce_ms: int = 200
    """How long watchfiles groups changes before reporting them."""


@dataclass
class SyncResult:
    """What one pass over the folder did."""

    sent: int = 0
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(relative path, message) of each file that could not be uploaded."""

    @property
    def ok(self) -> bool:
        return not self.failed


class FolderWatcher:
    """Uploads a local folder's files into a sandbox and keeps doing it as files appear or change."""

    def __init__(
        self,
        folder: Path,
        sandbox_id: str,
        uploader: Uploader,
        *,
        emit: Emit | None = None,
        settings: WatchSettings | None = None,
        ledger: Ledger | None = None,
        state_dir: Path | None = None,
    ) -> None:
        self.folder = Path(folder).expanduser().absolute()
        self.root = Path(os.path.realpath(self.folder))
        self.sandbox_id = sandbox_id
        self.uploader = uploader
        self.emit: Emit = emit or (lambda event: None)
        self.settings = settings or WatchSettings()
        self.ledger = ledger or Ledger(ledger_path(self.folder, sandbox_id, state_dir))
        self.watching = False
        self.states: dict[str, str] = {}
        """Relative path -> queued, uploading, done or failed."""
        self.failures: dict[str, str] = {}
        self.sent = 0
        self.unchanged = 0
        self.outside_links: set[str] = set()
        self._tasks: dict[str, asyncio.Task[str]] = {}
        self._dirty: set[str] = set()

    # ------------------------------------------------------------------ status

    def counts(self) -> Counter[str]:
        return Counter(self.states.values())

    def _status(self, detail: str = "") -> None:
        counts = self.counts()
        if not detail:
            parts = []
            if self.unchanged:
                parts.append(f"{self.unchanged} already there")
            if self.outside_links:
                parts.append(f"{len(self.outside_links)} link(s) out of the folder skipped")
            detail = ", ".join(parts)
        self.emit(
            ev.WatchStatus(
                str(self.folder),
                self.sandbox_id,
                self.watching,
                queued=counts["queued"],
                uploading=counts["uploading"],
                done=counts["done"],
                failed=counts["failed"],
                detail=detail,
            )
        )

    def _set(self, rel: str, state: str | None) -> None:
        if state is None:
            self.states.pop(rel, None)
        else:
            self.states[rel] = state
        self._status()

    # ------------------------------------------------------------------ paths

    def dest_for(self, rel: str) -> str:
        """The sandbox path of the file at ``rel``."""
        return posixpath.join(self.settings.dest.rstrip("/") or "/", rel)

    def _relative(self, path: Path) -> str | None:
        """``path`` relative to the folder (``/``-separated), or None when it is outside or skipped."""
        try:
            rel = Path(os.path.abspath(path)).relative_to(self.folder)
        except ValueError:
            try:
                rel = Path(os.path.abspath(path)).relative_to(self.root)
            except ValueError:
                return None
        if skipped(rel.parts, self.settings.include_dotfiles):
            return None
        return rel.as_posix()

    def _stat(self, rel: str) -> tuple[int, int] | None:
        """(size, mtime_ns) of a regular file inside the folder, following links only inside it."""
        path = self.folder / rel
        real = os.path.realpath(path)
        if os.path.commonpath([real, str(self.root)]) != str(self.root):
            if rel not in self.outside_links:
                self.outside_links.add(rel)
                self._status()
            return None
        try:
            info = os.stat(real)
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        return info.st_size, info.st_mtime_ns

    def scan(self) -> list[str]:
        """Every eligible file in the folder (relative paths), without entering linked folders."""
        found = []
        for dirpath, dirnames, filenames in os.walk(self.folder, followlinks=False):
            if not self.settings.include_dotfiles:
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            dirnames.sort()
            for name in sorted(filenames):
                rel = self._relative(Path(dirpath) / name)
                if rel is not None:
                    found.append(rel)
        return found

    # ------------------------------------------------------------------ one file

    def schedule(self, path: Path | str) -> asyncio.Task[str] | None:
        """Look at ``path`` (absolute, or relative to the folder) and upload it when it is due."""
        path = Path(path)
        rel = self._relative(path if path.is_absolute() else self.folder / path)
        if rel is None:
            return None
        task = self._tasks.get(rel)
        if task is not None and not task.done():
            self._dirty.add(rel)  # look again once the current pass over it ends
            return task
        task = asyncio.get_running_loop().create_task(self._handle(rel), name=f"upload {rel}")
        self._tasks[rel] = task
        task.add_done_callback(functools.partial(self._forget_task, rel))
        return task

    async def _settled(self, rel: str) -> tuple[int, int] | None:
        """(size, mtime_ns) once they stop changing; None when the file went away or is not eligible."""
        previous = self._stat(rel)
        while previous is not None:
            await asyncio.sleep(self.settings.settle)
            current = self._stat(rel)
            if current == previous:
                return current
            previous = current
        return None

    def _forget_task(self, rel: str, task: asyncio.Task[str]) -> None:
        if self._tasks.get(rel) is task:
            del self._tasks[rel]

    async def _handle(self, rel: str) -> str:
        """Upload ``rel`` if due; returns sent, unchanged, gone or failed."""
        outcome = "gone"
        first = True
        while True:
            self._dirty.discard(rel)
            before = self.states.get(rel)
            self._set(rel, "queued")
            try:
                outcome = await self._once(rel)
            except asyncio.CancelledError:
                self._set(rel, before)
                raise
            except Exception as error:  # a bug, not a refusal: the file is reported failed, never dropped unseen
                log.exception("watch: %s failed unexpectedly", rel)
                message = f"{rel}: unexpected {type(error).__name__}: {error}"
                self.failures[rel] = message
                self.emit(ev.UploadFailed(self.uploader.new_id(), str(self.folder / rel), message, final=True))
                outcome = "failed"
            if outcome == "sent":
                self.sent += 1
                self.failures.pop(rel, None)
                self._set(rel, "done")
            elif outcome == "failed":
                self._set(rel, "failed")
            elif outcome == "unchanged":
                if first:  # a second look after a burst of change events is not news
                    self.unchanged += 1
                self._set(rel, before if before in ("done", "failed") else None)
            else:
                self._set(rel, before if before == "done" else None)
            if rel not in self._dirty:
                return outcome
            first = False

    async def _once(self, rel: str) -> str:
        settled = await self._settled(rel)
        if settled is None:
            return "gone"
        self._dirty.discard(rel)
        size, mtime_ns = settled
        dest = self.dest_for(rel)
        done = self.ledger.done(dest)
        if done is not None and done.same_file(size, mtime_ns):
            return "unchanged"
        path = self._real(rel)
        try:
            digest = await asyncio.to_thread(hash_file, path)
        except OSError as exc:
            if self._stat(rel) is None:
                return "gone"
            message = f"{rel}: cannot read it: {exc.strerror or exc}"  # e.g. no permission: say so, do not drop it
            self.failures[rel] = message
            self.emit(ev.UploadFailed(self.uploader.new_id(), str(path), message, final=True))
            return "failed"
        if self._stat(rel) != settled:
            self._dirty.add(rel)  # changed while it was read: start over
            return "gone"
        entry = LedgerEntry(rel, size, mtime_ns, digest, self.sandbox_id, dest, time.time())
        if done is not None and done.sha256 == digest and done.size == size:
            self.ledger.mark_done(entry)  # touched, not changed
            return "unchanged"
        if await self._arrived_before_crash(entry, done):
            self.ledger.mark_done(entry)
            return "unchanged"
        self.ledger.mark_sending(entry)
        try:
            await self.uploader.upload(path, self.sandbox_id, dest, on_start=lambda: self._set(rel, "uploading"))
        except UploadError as error:
            self.failures[rel] = str(error)
            return "failed"
        if self._stat(rel) != settled:
            self._dirty.add(rel)  # it changed while it was sent: what arrived may be a mix, send it again
            return "gone"
        self.ledger.mark_done(entry)
        return "sent"

    def _real(self, rel: str) -> Path:
        return Path(os.path.realpath(self.folder / rel))

    async def _arrived_before_crash(self, entry: LedgerEntry, done: LedgerEntry | None) -> bool:
        """True when this very content was being sent when the last process died and the sandbox has it.

        The server writes uploads under a temporary name and renames them into place when complete, so a
        file of the right size at the destination is a complete one. That is trusted only when the path's
        previous confirmed upload had another size (otherwise the old file could be mistaken for the new).
        """
        pending = self.ledger.sending(entry.server_path)
        if pending is None or pending.sha256 != entry.sha256 or pending.size != entry.size:
            return False
        if done is not None and done.size == entry.size:
            return False
        directory = posixpath.dirname(entry.server_path) or "/workspace"
        try:
            files = await self.uploader.client.list_files(self.sandbox_id, directory)
        except DuvoError:
            return False
        return any(f.path == entry.server_path and not f.is_dir and f.size_bytes == entry.size for f in files)

    # ------------------------------------------------------------------ passes

    async def _drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def sync(self) -> SyncResult:
        """Upload every file that is missing or changed, then return what happened."""
        sent, unchanged = self.sent, self.unchanged
        for rel in self.scan():
            self.schedule(rel)
        self._status()
        await self._drain()
        failed = [(rel, self.failures.get(rel, "failed")) for rel, state in self.states.items() if state == "failed"]
        result = SyncResult(self.sent - sent, self.unchanged - unchanged, sorted(failed))
        self._status()
        return result

    async def watch(self, stop: asyncio.Event | None = None) -> None:
        """Upload what is missing, then keep uploading new and changed files until ``stop`` is set or cancelled."""
        from watchfiles import Change, awatch

        stop = stop or asyncio.Event()

        def wanted(change: Change, path: str) -> bool:
            return change != Change.deleted

        self.watching = True
        self._status()
        changes = awatch(
            self.folder,
            watch_filter=wanted,
            debounce=self.settings.debounce_ms,
            step=50,
            stop_event=stop,
            rust_timeout=500,
        )
        pending: asyncio.Future[Any] = asyncio.ensure_future(changes.__anext__())
        try:
            await asyncio.sleep(0.05)  # let the watch start before the scan, so nothing falls in between
            for rel in self.scan():
                self.schedule(rel)
            self._status()
            while True:
                batch = await pending
                for _change, raw in batch:
                    self._changed(Path(raw))
                pending = asyncio.ensure_future(changes.__anext__())
        except StopAsyncIteration:
            pass
        finally:
            stop.set()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(pending, 2)  # awatch ends on its own once stop is set
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(changes.aclose(), 2)
            for task in list(self._tasks.values()):
                task.cancel()
            await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
            self.watching = False
            self._status()

    def _changed(self, path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            for rel in self._scan_under(path):
                self.schedule(rel)
        else:
            self.schedule(path)

    def _scan_under(self, directory: Path) -> list[str]:
        """Eligible files under a folder that just appeared (its files may predate its watch)."""
        found = []
        for dirpath, dirnames, filenames in os.walk(directory, followlinks=False):
            dirnames.sort()
            for name in filenames:
                rel = self._relative(Path(dirpath) / name)
                if rel is not None:
                    found.append(rel)
        return found
