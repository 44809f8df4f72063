"""One rate budget for every process on this host that uses the same API key.

Dashboards in several tmux panes and CLI scripts on one key share the server's limit. Each process
keeps its own :class:`~duvo_tui.api.budget.RateBudget` (server headers, 429 pauses, the urgent
reserve) and, before a request goes out, also takes a slot in a small state file in the runtime
dir: a log of the send times of every process on the key (wall clock) and the pids that use it.
The file is read and written under an exclusive ``fcntl`` lock, so the check and the count are one
step for all processes together. Its name is a hash of the base URL and the key; the key itself is
never written anywhere.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duvo_tui.api.budget import BudgetSnapshot, RateBudget

__all__ = ["SharedBudgetFile", "SharedBudgetSnapshot", "SharedRateBudget", "budget_file_for", "shared_budget_for"]

log = logging.getLogger(__name__)

MARGIN = 1.0
"""Seconds added to the window in the shared log: a request reaches the server a little after it is
counted here, so two sends a window apart may land in one server window without it. On a busy host (ten
dashboards of ``duvo-tui serve`` starting on two cores) that delay passed half a second."""


@dataclass(frozen=True)
class SharedBudgetSnapshot(BudgetSnapshot):
    """A budget snapshot that also says how many processes share the key's budget."""

    processes: int = 1


def budget_file_for(base_url: str, api_key: str, directory: Path | None = None) -> Path:
    """The state file for this key on this server (named by a hash; the key is not in it)."""
    if directory is None:
        from duvo_tui import locations

        directory = locations.runtime_dir()
    digest = hashlib.sha256(f"{base_url.rstrip('/')}\n{api_key}".encode()).hexdigest()[:24]
    return Path(directory) / f"budget-{digest}.json"


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    except OSError:
        return False
    return True


class SharedBudgetFile:
    """The shared log: ``{"sent": [unix times], "pids": [pids]}`` behind an exclusive file lock."""

    def __init__(self, path: Path, *, wall_clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._wall = wall_clock
        from duvo_tui.locations import ensure_private_dir

        ensure_private_dir(self.path.parent)  # and every folder it makes above it

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = b""
            while chunk := os.read(fd, 65536):
                raw += chunk
            try:
                data = json.loads(raw) if raw else {}
                if not isinstance(data, dict):
                    data = {}
            except ValueError:
                data = {}  # a torn or foreign file: start again rather than fail
            sent = [float(t) for t in data.get("sent", []) if isinstance(t, (int, float))]
            pids = [int(p) for p in data.get("pids", []) if isinstance(p, int)]
            limit, window = data.get("limit"), data.get("window")
            state = {
                "sent": sent,
                "pids": pids,
                "limit": limit if isinstance(limit, int) and limit > 0 else None,
                "window": float(window) if isinstance(window, (int, float)) and 0 < window <= 3600 else None,
            }
            yield state
            body = json.dumps(state).encode()
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, body)
        finally:
            os.close(fd)  # closing releases the lock

    def join(self) -> int:
        """Register this process; returns how many processes share the file."""
        with self._locked() as state:
            state["pids"] = [p for p in state["pids"] if _alive(p) and p != os.getpid()] + [os.getpid()]
            return len(state["pids"])

    def leave(self) -> None:
        """Unregister this process."""
        with self._locked() as state:
            state["pids"] = [p for p in state["pids"] if p != os.getpid() and _alive(p)]

    def try_take(
        self, limit: int, window: float, *, keep: int = 0, learned: bool = True, window_learned: bool = True
    ) -> tuple[float, int]:
        """Count one send when fewer than ``limit - keep`` were sent in the last ``window`` seconds.

        ``learned`` says the caller's ``limit`` came from the server; it is then written for the others,
        and a caller that has not heard from the server yet uses the one written (``window_learned``
        likewise for ``window``). Returns ``(wait,
        processes)``: ``wait`` is 0 when the send was counted, else the seconds until a slot frees up
        (nothing is counted then).
        """
        now = self._wall()
        with self._locked() as state:
            if window_learned:
                # One look at a reset time only shows the window is at least this long (a process that first
                # hears late in a window learns a short one): the longest any process saw is the one to keep.
                window = max(window, state["window"] or 0.0)
                state["window"] = window
            elif state["window"] is not None:
                window = state["window"]
            span = window + MARGIN
            asked = limit
            if learned:
                state["limit"] = limit
            elif state["limit"] is not None:
                limit = min(limit, state["limit"])
            if limit < asked:
                keep = keep * limit // asked  # the reserve is a share of the limit in force, not of a guess
            allowed = max(1, limit - keep) if keep < limit else 1
            sent = sorted(t for t in state["sent"] if now - span < t <= now + span)
            pids = [p for p in state["pids"] if _alive(p)]
            if os.getpid() not in pids:
                pids.append(os.getpid())
            state["pids"] = pids
            if len(sent) < allowed:
                sent.append(now)
                state["sent"] = sent
                return 0.0, len(pids)
            state["sent"] = sent
            blocking = sent[len(sent) - allowed] if allowed > 0 else now
            return max(0.01, blocking + span - now), len(pids)

    def record_limits(self, limit: int, window: float | None) -> None:
        """Write the key's limit (and window) as the server told them, for processes that have not heard yet."""
        with self._locked() as state:
            state["limit"] = max(1, int(limit))
            if window is not None and 0 < window <= 3600:
                state["window"] = max(float(window), state["window"] or 0.0)

    def processes(self) -> int:
        """How many live processes share the file."""
        with self._locked() as state:
            state["pids"] = [p for p in state["pids"] if _alive(p)]
            return max(1, len(state["pids"]))


class SharedRateBudget(RateBudget):
    """A :class:`RateBudget` that also stays within the share of every other process on the same key."""

    def __init__(self, shared: SharedBudgetFile, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shared = shared
        self._processes = shared.join()
        self._limit_learned = False

    @property
    def processes(self) -> int:
        """How many processes shared the budget at the last look."""
        return self._processes

    def snapshot(self) -> SharedBudgetSnapshot:
        snap = super().snapshot()
        return SharedBudgetSnapshot(**dataclasses.asdict(snap), processes=self._processes)

    def observe(self, status: int, headers: Any) -> None:
        try:
            self._limit_learned = self._limit_learned or headers.get("x-ratelimit-limit") is not None
        except Exception:  # headers that misbehave teach nothing
            pass
        super().observe(status, headers)

    async def acquire(self, urgent: bool = False) -> None:
        """Wait for this process's budget, then for a slot in the shared log (counted in both)."""
        while True:
            await super().acquire(urgent)
            keep = 0 if urgent else self._reserve_count()
            try:
                wait, processes = self.shared.try_take(
                    self.limit,
                    self.window,
                    keep=keep,
                    learned=self._limit_learned,
                    window_learned=self._window_learned,
                )
            except OSError as error:  # the runtime dir went away: go on alone rather than stop
                log.warning("shared budget file unusable (%s); this process counts alone", error)
                return
            changed = processes != self._processes
            self._processes = processes
            if wait <= 0:
                if changed:
                    self._after_change()
                return
            self._give_back()
            await self._sleep(wait)

    def share_limits(self) -> bool:
        """Write the limit and window this process learned from the server to the shared file, so that processes
        started later obey them from their first request (before they hear from the server themselves).
        False when nothing was learned yet."""
        if not self._limit_learned:
            return False
        try:
            self.shared.record_limits(self.limit, self.window if self._window_learned else None)
        except OSError as error:
            log.warning("shared budget file unusable (%s)", error)
            return False
        return True

    def _give_back(self) -> None:
        """Undo the local count of a grant the shared log refused."""
        if self._sent:
            self._sent.pop()
        if self._server_left is not None:
            self._server_left += 1
        if self._in_flight > 0:
            self._in_flight -= 1

    def close(self) -> None:
        """Leave the shared file (the process no longer counts as a sharer)."""
        with contextlib.suppress(OSError):
            self.shared.leave()


def shared_budget_for(base_url: str, api_key: str, directory: Path | None = None) -> RateBudget:
    """A budget shared with every process on this host using ``api_key`` at ``base_url``; a plain
    :class:`RateBudget` when the runtime dir cannot be used."""
    try:
        return SharedRateBudget(SharedBudgetFile(budget_file_for(base_url, api_key, directory)))
    except OSError as error:
        log.warning("no shared budget (%s); this process counts alone", error)
        return RateBudget()
