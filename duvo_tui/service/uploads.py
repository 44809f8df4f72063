"""The dashboard's uploads: files chosen by path, and the profile's watched folders while it is open.

One :class:`~duvo_tui.service.uploader.Uploader` (so one concurrency limit) serves both. Everything that
happens is told through events (``Upload*``, ``WatchStatus``, ``Notice``); nothing here raises to the UI.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from duvo_tui.service import events as ev
from duvo_tui.service.uploader import Uploader, UploadError
from duvo_tui.service.watcher import FolderWatcher, WatchSettings

__all__ = ["Uploads"]


class Uploads:
    """Uploads for one client; ``watch`` is a list of config ``WatchFolder`` (folder, sandbox, dest)."""

    def __init__(
        self,
        client: Any,
        emit: Callable[[ev.Event], Any],
        *,
        watch: Sequence[Any] = (),
        state_dir: Path | None = None,
        concurrency: int = 4,
        settle: float = 1.0,
    ) -> None:
        self.emit = emit
        self.uploader = Uploader(client, emit, concurrency=concurrency)
        self._state_dir = state_dir
        self._settle = settle
        self.watchers = [self._watcher(entry) for entry in watch]
        self._stop = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()

    def _watcher(self, entry: Any) -> FolderWatcher:
        dest = getattr(entry, "dest", "/workspace") or "/workspace"
        return FolderWatcher(
            Path(str(entry.folder)).expanduser(),
            entry.sandbox,
            self.uploader,
            emit=self.emit,
            settings=WatchSettings(dest=dest, settle=self._settle),
            state_dir=self._state_dir,
        )

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start(self) -> None:
        """Start watching every configured folder."""
        for watcher in self.watchers:
            self._spawn(self._watch(watcher))

    def add_folders(self, watch: Sequence[Any]) -> None:
        """Watch these folders too, from now on."""
        for entry in watch:
            watcher = self._watcher(entry)
            self.watchers.append(watcher)
            self._spawn(self._watch(watcher))

    async def _watch(self, watcher: FolderWatcher) -> None:
        if not watcher.folder.is_dir():
            detail = "the folder does not exist"
            self.emit(ev.WatchStatus(str(watcher.folder), watcher.sandbox_id, False, detail=detail))
            self.emit(ev.Notice(f"{watcher.folder} does not exist", level="warning", title="A folder is not watched"))
            return
        try:
            await watcher.watch(self._stop)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the watch must say why it stopped, never vanish
            detail = f"stopped: {error}"
            self.emit(ev.WatchStatus(str(watcher.folder), watcher.sandbox_id, False, detail=detail))
            self.emit(ev.Notice(f"Watching {watcher.folder} {detail}", level="error", title="A folder watch stopped"))

    def upload(self, path: Path, sandbox_id: str, dest_dir: str = "/workspace") -> asyncio.Task[Any]:
        """Upload one file chosen by a person into ``dest_dir``; the outcome comes as events."""
        dest = posixpath.join(dest_dir.rstrip("/") or "/", Path(path).name)
        return self._spawn(self._upload(Path(path), sandbox_id, dest))

    async def _upload(self, path: Path, sandbox_id: str, dest: str) -> None:
        with contextlib.suppress(UploadError):  # already reported as UploadFailed(final=True)
            await self.uploader.upload(path, sandbox_id, dest)

    async def close(self) -> None:
        """Stop watching and cancel uploads in flight (the ledgers say what arrived)."""
        self._stop.set()
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=3)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
