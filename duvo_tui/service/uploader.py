"""Uploads to a sandbox: direct multipart up to 10 MB, a presigned URL and a streamed PUT above.

At most ``concurrency`` uploads run at once. Direct uploads and requests for upload URLs go through the
client, so they wait for the rate budget; the PUT to storage does not. An expired upload URL is replaced
and the PUT sent again; a 413 on a direct upload switches to the presigned path. Transient failures are
retried with exponential backoff and jitter; a failure that persists (or one retrying cannot fix, such as
an unknown sandbox) is reported with ``UploadFailed(final=True)`` and raised as :class:`UploadError`.
Progress goes out as ``UploadQueued`` / ``UploadProgress`` / ``UploadFinished`` / ``UploadFailed`` events.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duvo_tui.api.errors import DuvoError, LocalFileError, TooLargeError, UploadUrlExpired
from duvo_tui.api.transfer import DIRECT_UPLOAD_LIMIT
from duvo_tui.service import events as ev

__all__ = ["UploadError", "UploadResult", "Uploader", "is_refusal"]

Emit = Callable[[ev.Event], Any]

_ids = itertools.count(1)


@dataclass(frozen=True)
class UploadResult:
    """A file the sandbox confirmed."""

    upload_id: str
    local_path: Path
    sandbox_id: str
    dest_path: str
    size: int
    method: str
    """``direct`` or ``presigned``."""


class UploadError(DuvoError):
    """An upload that failed for good; ``cause`` is the last error, ``upload_id`` the upload's id."""

    def __init__(self, message: str, *, upload_id: str, cause: DuvoError | None = None) -> None:
        super().__init__(message, status=cause.status if cause else None, code=cause.code if cause else None)
        self.upload_id = upload_id
        self.cause = cause

    def __str__(self) -> str:
        return self.message


def is_refusal(error: DuvoError) -> bool:
    """True for errors no retry can fix (unknown or expired sandbox, refused key, bad path, read-only profile).

    Transient errors, an expired upload URL and a local file that changed or vanished are worth another try.
    """
    if isinstance(error, (UploadUrlExpired, LocalFileError)):
        return False
    return not error.transient


def _is_file(path: Path) -> bool:
    return path.is_file()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise LocalFileError(f"cannot read {path}: {exc.strerror or exc}") from None


class _Progress:
    """Turns byte counts into throttled UploadProgress events with a rate and an ETA."""

    def __init__(self, emit: Emit, upload_id: str, size: int, interval: float = 0.1) -> None:
        self.emit, self.upload_id, self.size, self.interval = emit, upload_id, size, interval
        self.started = time.monotonic()
        self.last = 0.0

    def __call__(self, sent: int) -> None:
        now = time.monotonic()
        if sent < self.size and now - self.last < self.interval:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = sent / elapsed
        eta = (self.size - sent) / rate if rate > 0 else None
        self.emit(ev.UploadProgress(self.upload_id, sent, self.size, rate=rate, eta=eta))

    def restart(self) -> None:
        self.started = time.monotonic()
        self.last = 0.0


class Uploader:
    """Uploads files to sandboxes through a :class:`~duvo_tui.api.client.DuvoClient`."""

    def __init__(
        self,
        client: Any,
        emit: Emit | None = None,
        *,
        concurrency: int = 4,
        max_attempts: int = 4,
        backoff_base: float = 1.0,
        max_backoff: float = 30.0,
        url_renewals: int = 3,
        direct_limit: int = DIRECT_UPLOAD_LIMIT,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self.client = client
        self.emit: Emit = emit or (lambda event: None)
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.url_renewals = url_renewals
        self.direct_limit = direct_limit
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._sleep = sleep or asyncio.sleep
        self._random = random.Random()
        self.active = 0
        """Uploads sending right now (holding a slot)."""

    @staticmethod
    def new_id() -> str:
        """A fresh upload id."""
        return f"up-{next(_ids)}"

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.max_backoff, self.backoff_base * (2 ** (attempt - 1)))
        return self._random.uniform(ceiling / 2, ceiling)

    async def upload(
        self,
        local_path: Path,
        sandbox_id: str,
        dest_path: str,
        *,
        upload_id: str | None = None,
        on_start: Callable[[], Any] | None = None,
    ) -> UploadResult:
        """Send ``local_path`` to ``dest_path`` in ``sandbox_id``; the confirmed result or :class:`UploadError`.

        ``on_start`` is called when the upload gets one of the concurrency slots.
        """
        upload_id = upload_id or self.new_id()
        local_path = Path(local_path)
        try:
            size = _size(local_path)
        except LocalFileError as error:
            self.emit(ev.UploadFailed(upload_id, str(local_path), str(error), final=True))
            raise UploadError(str(error), upload_id=upload_id, cause=error) from None
        self.emit(ev.UploadQueued(upload_id, str(local_path), sandbox_id, dest_path, size))
        async with self._slots:
            self.active += 1
            try:
                if on_start is not None:
                    on_start()
                return await self._with_retries(upload_id, local_path, sandbox_id, dest_path)
            finally:
                self.active -= 1

    async def _with_retries(self, upload_id: str, local_path: Path, sandbox_id: str, dest_path: str) -> UploadResult:
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(upload_id, local_path, sandbox_id, dest_path)
            except asyncio.CancelledError:
                raise
            except DuvoError as error:
                missing = isinstance(error, LocalFileError) and not _is_file(local_path)
                final = missing or is_refusal(error) or attempt >= self.max_attempts
                message = f"{local_path.name}: {error}"
                self.emit(ev.UploadFailed(upload_id, str(local_path), message, final=final))
                if final:
                    raise UploadError(message, upload_id=upload_id, cause=error) from None
            await self._sleep(self._backoff(attempt))

    async def _attempt(self, upload_id: str, local_path: Path, sandbox_id: str, dest_path: str) -> UploadResult:
        size = _size(local_path)
        progress = _Progress(self.emit, upload_id, size)
        progress(0)
        method = "direct"
        if size <= self.direct_limit:
            try:
                uploaded = await self.client.upload_file(sandbox_id, dest_path, local_path)
                size = uploaded.size_bytes or size
            except TooLargeError:
                method = "presigned"  # the server's limit is lower than ours: go the other way
        else:
            method = "presigned"
        if method == "presigned":
            await self._presigned(local_path, sandbox_id, dest_path, progress)
        progress(size)
        self.emit(ev.UploadFinished(upload_id, sandbox_id, dest_path, size))
        return UploadResult(upload_id, local_path, sandbox_id, dest_path, size, method)

    async def _presigned(self, local_path: Path, sandbox_id: str, dest_path: str, progress: _Progress) -> None:
        renewals = 0
        while True:
            url = await self.client.create_upload_url(sandbox_id, dest_path)
            progress.restart()
            try:
                await self.client.put_presigned(url.upload_url, local_path, on_progress=progress)
                return
            except UploadUrlExpired:
                if renewals >= self.url_renewals:
                    raise
                renewals += 1  # a fresh URL, and the PUT again from the start
