"""The upload ledger: an on-disk record of which local files arrived, complete, in which sandbox.

One ledger per (watched folder, sandbox), a JSON-lines file in the state dir. Every record is one line
appended with ``O_APPEND`` and ``fsync``ed before the call returns, so a ``kill -9`` at any moment leaves
every earlier line intact and at most a torn last line, which loading skips. A file is recorded ``done``
only after the server confirmed it; before sending, a ``sending`` line notes the intent (size, mtime,
hash), so that a crash between the server's confirmation and the ``done`` line can be resolved by
looking at the sandbox instead of sending the file again. When the file holds many superseded lines it
is rewritten compactly with :func:`duvo_tui.locations.atomic_write`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from duvo_tui import locations

__all__ = ["HASH_CHUNK", "Ledger", "LedgerEntry", "hash_file", "ledger_path"]

HASH_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class LedgerEntry:
    """What was (or is being) sent: one local file's state and where it went."""

    rel_path: str
    """Path relative to the watched folder, with ``/`` separators."""
    size: int
    mtime_ns: int
    sha256: str
    sandbox_id: str
    server_path: str
    time: float
    status: str = "done"
    """``done`` once the server confirmed it; ``sending`` while it is on its way."""

    def same_file(self, size: int, mtime_ns: int) -> bool:
        """True when a file with this size and mtime is, by its metadata, the one recorded."""
        return self.size == size and self.mtime_ns == mtime_ns


def _json_line(entry: LedgerEntry) -> str:
    """One record as a JSON line; a file name that is not valid UTF-8 (a lone surrogate) as a JSON escape."""
    line = json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(asdict(entry), separators=(",", ":")) + "\n"
    return line


def hash_file(path: Path, chunk: int = HASH_CHUNK) -> str:
    """The sha256 of ``path``, read in chunks (never whole into memory). Raises OSError."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def ledger_path(folder: Path, sandbox_id: str, state_dir: Path | None = None) -> Path:
    """Where the ledger of ``folder`` uploaded into ``sandbox_id`` lives."""
    key = hashlib.sha256(f"{os.path.realpath(folder)}\0{sandbox_id}".encode()).hexdigest()[:20]
    return (state_dir or locations.state_dir()) / "uploads" / f"{key}.jsonl"


class Ledger:
    """The records of one ledger file; reads it once, appends each new record durably."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._done: dict[str, LedgerEntry] = {}
        self._sending: dict[str, LedgerEntry] = {}
        self._lines = 0
        self._load()

    # ------------------------------------------------------------------ reading

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        for line in raw.splitlines():
            try:
                data = json.loads(line)
                entry = LedgerEntry(**data)
            except (ValueError, TypeError):
                continue  # a line torn by a crash, or not ours
            self._lines += 1
            self._apply(entry)
        if self._lines > 2 * (len(self._done) + len(self._sending)) + 100:
            self.compact()

    def _apply(self, entry: LedgerEntry) -> None:
        if entry.status == "done":
            self._done[entry.server_path] = entry
            pending = self._sending.get(entry.server_path)
            if pending is not None and pending.sha256 == entry.sha256:
                del self._sending[entry.server_path]
        elif entry.status == "sending":
            self._sending[entry.server_path] = entry

    def done(self, server_path: str) -> LedgerEntry | None:
        """The last confirmed upload to ``server_path``."""
        return self._done.get(server_path)

    def sending(self, server_path: str) -> LedgerEntry | None:
        """An upload to ``server_path`` that started and was never confirmed (a crash or a failure)."""
        return self._sending.get(server_path)

    def entries(self) -> list[LedgerEntry]:
        """Every confirmed upload."""
        return list(self._done.values())

    def __len__(self) -> int:
        return len(self._done)

    # ------------------------------------------------------------------ writing

    def record(self, entry: LedgerEntry) -> None:
        """Append ``entry`` durably (fsync) and apply it."""
        line = _json_line(entry)
        locations.ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            # Start on a fresh line if a crash left a torn one at the end.
            if os.fstat(fd).st_size and not self._ends_with_newline():
                line = "\n" + line
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        self._lines += 1
        self._apply(entry)

    def _ends_with_newline(self) -> bool:
        try:
            with self.path.open("rb") as handle:
                handle.seek(-1, os.SEEK_END)
                return handle.read(1) == b"\n"
        except OSError:
            return True

    def mark_sending(self, entry: LedgerEntry) -> None:
        """Note that ``entry`` is about to be sent."""
        self.record(LedgerEntry(**{**asdict(entry), "status": "sending", "time": time.time()}))

    def mark_done(self, entry: LedgerEntry) -> None:
        """Note that the server confirmed ``entry``."""
        self.record(LedgerEntry(**{**asdict(entry), "status": "done", "time": time.time()}))

    def compact(self) -> None:
        """Rewrite the file with only the current records (atomically: old file or new, never half)."""
        current = [*self._done.values(), *self._sending.values()]
        text = "".join(_json_line(e) for e in current)
        locations.atomic_write(self.path, text)
        self._lines = len(current)
