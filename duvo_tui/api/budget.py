"""The rate budget: how many requests one API key may still send, and when.

The server allows ``limit`` requests per window (300 a minute) per key and says so in
``x-ratelimit-limit/remaining/reset`` on every response. :class:`RateBudget` keeps its own
count between responses (a sliding log of the requests it let through), trusts the server
when the server knows of fewer remaining requests (another program on the same key), and
makes callers wait instead of sending a request it knows would be refused. After a 429
nothing is let through until ``retry-after`` has passed. A share of each window is kept
for urgent requests (a person is waiting), so background polling cannot starve them.

For a person, :meth:`RateBudget.snapshot` also says what happened: how many requests this
process sent in the last window (a sliding count: it falls when nothing is sent), what the
server last said is left in its own window and when that resets, and how many requests the
server counted that this process did not send (another program on the same key).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

__all__ = ["BudgetSnapshot", "RateBudget"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[Any]]
Listener = Callable[["BudgetSnapshot"], Any]

# A reset timestamp below this is a delta in seconds, not a Unix time.
_UNIX_TIME_FLOOR = 1_000_000_000
# How long a window the server reports may at most last (guards against absurd headers).
_MAX_RESET_SECONDS = 3600.0
# Requests the server may count beyond ours before they are put down to another program: its reset
# header has whole seconds, so where its window began is known only to a second or so.
_OTHERS_SLACK = 3


@dataclass(frozen=True)
class BudgetSnapshot:
    """The budget now: what pacing needs (``used``/``remaining``: the lower of our count and the
    server's, ``resets_in``: when more frees up, ``paused_for``) and what a person needs to see."""

    used: int
    limit: int
    remaining: int
    resets_in: float
    paused_for: float
    recent: int = 0
    """Requests this process sent in the last ``window`` seconds (sliding: falls when nothing is sent)."""
    window: float = 60.0
    """The length of the limit's window, in seconds."""
    server_remaining: int | None = None
    """What the server's headers say is left in its current window (less what was sent since); None when
    it has not said, or its window has ended since."""
    server_resets_in: float | None = None
    """Seconds until the server's window resets, when its headers gave the time."""
    others: int = 0
    """Requests the server counted in its current window that this process did not send."""

    @property
    def paused(self) -> bool:
        return self.paused_for > 0


def _header_float(headers: Mapping[str, str] | Any, name: str) -> float | None:
    if headers is None:
        return None
    try:
        raw = headers.get(name)
    except Exception:  # a headers object that misbehaves is treated as absent
        return None
    if raw is None:
        return None
    try:
        value = float(str(raw).strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value


def _server_time(headers: Mapping[str, str] | Any) -> float | None:
    """The server's clock from the ``date`` header, so a skewed local clock cannot misplace a reset."""
    try:
        raw = headers.get("date") if headers is not None else None
        if not raw:
            return None
        stamp = parsedate_to_datetime(str(raw)).timestamp()
    except Exception:  # absent, malformed or out-of-range dates are all just "unknown"
        return None
    return stamp if stamp >= _UNIX_TIME_FLOOR else None


class RateBudget:
    """Request budget for one API key.

    ``clock`` (monotonic seconds), ``wall_clock`` (Unix seconds) and ``sleep`` can be
    replaced in tests. ``reserve`` is the share of each window kept for urgent callers.
    """

    def __init__(
        self,
        limit: int = 300,
        window: float = 60.0,
        *,
        reserve: float = 0.10,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        self._limit = max(1, int(limit))
        self._window = float(window) if window > 0 else 60.0
        self._window_learned = False
        self._reserve_share = min(max(float(reserve), 0.0), 0.9)
        self._clock: Clock = clock or time.monotonic
        self._wall: Clock = wall_clock or time.time
        self._sleep: Sleep = sleep or asyncio.sleep
        self._sent: deque[float] = deque()
        # The server's view: requests left in its current window, and when that window ends.
        self._server_left: int | None = None
        self._server_reset_at: float | None = None
        self._server_reset_known = False  # the reset came from a header (not assumed)
        self._others = 0
        self._paused_until = 0.0
        self._in_flight = 0
        self._listeners: list[Listener] = []
        self._last_notified: tuple[int | None, ...] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._normal_gate: asyncio.Lock | None = None
        self._urgent_gate: asyncio.Lock | None = None
        self._changed: asyncio.Event | None = None

    def __repr__(self) -> str:
        snap = self.snapshot()
        return f"RateBudget(used={snap.used}, limit={snap.limit}, paused_for={snap.paused_for:.1f})"

    # ----------------------------------------------------------------- reading

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def reserve_share(self) -> float:
        """The share of each window kept for urgent calls (background work paces itself below the rest)."""
        return self._reserve_share

    @property
    def window(self) -> float:
        return self._window

    def snapshot(self) -> BudgetSnapshot:
        """Used / limit / remaining / seconds until the window frees up / seconds of pause left."""
        now = self._clock()
        self._expire(now)
        remaining = self._remaining()
        if self._server_reset_at is not None:
            resets_in = self._server_reset_at - now
        elif self._sent:
            resets_in = self._sent[0] + self._window - now
        else:
            resets_in = 0.0
        server_resets_in = None
        if self._server_reset_at is not None and self._server_reset_known:
            server_resets_in = max(0.0, self._server_reset_at - now)
        return BudgetSnapshot(
            used=self._limit - remaining,
            limit=self._limit,
            remaining=remaining,
            resets_in=max(0.0, resets_in),
            paused_for=max(0.0, self._paused_until - now),
            recent=len(self._sent),
            window=self._window,
            server_remaining=self._server_left,
            server_resets_in=server_resets_in,
            others=self._others,
        )

    def add_listener(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(snapshot)`` whenever used/remaining/limit/pause change. Returns a remover."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    # ----------------------------------------------------------------- sending

    async def acquire(self, urgent: bool = False) -> None:
        """Wait until one request may be sent, then count it.

        Callers are served first come, first served within their class; urgent callers queue
        separately and may use the reserved share, so a queue of background reads never
        holds them up.
        """
        loop = asyncio.get_running_loop()
        if self._normal_gate is None or self._loop is not loop:
            # asyncio primitives belong to one loop; a budget reused by a later loop gets new ones.
            self._loop = loop
            self._changed = None
            self._normal_gate = asyncio.Lock()
            self._urgent_gate = asyncio.Lock()
        gate = self._urgent_gate if urgent else self._normal_gate
        assert gate is not None
        async with gate:
            while True:
                now = self._clock()
                wait = self._wait_time(now, urgent)
                if wait <= 0:
                    self._grant(now)
                    return
                await self._pause(wait)

    def abandon(self) -> None:
        """A request counted by :meth:`acquire` got no response (network error, cancelled)."""
        if self._in_flight > 0:
            self._in_flight -= 1

    def observe(self, status: int, headers: Mapping[str, str] | Any) -> None:
        """Learn from one response: the server's limit, remaining count and reset, and any 429."""
        if self._in_flight > 0:
            self._in_flight -= 1
        now = self._clock()
        wall = _server_time(headers) or self._wall()
        limit = _header_float(headers, "x-ratelimit-limit")
        if limit is not None and limit >= 1:
            self._limit = int(limit)
        remaining = _header_float(headers, "x-ratelimit-remaining")
        reset = _header_float(headers, "x-ratelimit-reset")
        reset_at: float | None = None
        if reset is not None:
            delta = reset - wall if reset >= _UNIX_TIME_FLOOR else reset
            reset_at = now + min(max(delta, 0.0), _MAX_RESET_SECONDS)
        if remaining is not None:
            self._observe_remaining(int(remaining), reset_at, now)
            self._observe_others(int(remaining), reset_at, now)
        if status == 429:
            retry_after = _header_float(headers, "retry-after")
            if retry_after is None:
                # No retry-after: wait for the reported reset, or a short while.
                retry_after = (reset_at - now) if reset_at is not None and reset_at > now else 1.0
            self.pause(min(retry_after, _MAX_RESET_SECONDS))
        self._after_change()

    def pause(self, seconds: float) -> None:
        """Let nothing through for ``seconds`` (after a 429)."""
        if not math.isfinite(seconds) or seconds <= 0:
            return
        until = self._clock() + seconds
        if until > self._paused_until:
            self._paused_until = until
        self._after_change()

    # ----------------------------------------------------------------- internals

    def _reserve_count(self) -> int:
        return min(int(self._limit * self._reserve_share), self._limit - 1)

    def _expire(self, now: float) -> None:
        horizon = now - self._window
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()
        if self._server_reset_at is not None and now >= self._server_reset_at:
            self._server_reset_at = None
            self._server_reset_known = False
            self._server_left = None
            self._others = 0

    def _remaining(self) -> int:
        left = self._limit - len(self._sent)
        if self._server_left is not None:
            left = min(left, self._server_left)
        return max(0, left)

    def _wait_time(self, now: float, urgent: bool) -> float:
        """Seconds until a request of this class may go; 0 when it may go now."""
        self._expire(now)
        keep = 0 if urgent else self._reserve_count()
        waits = [self._paused_until - now]
        allowed = self._limit - keep
        if len(self._sent) >= allowed:
            # The request that must age out of the window before one more fits.
            oldest_blocking = self._sent[len(self._sent) - allowed]
            waits.append(oldest_blocking + self._window - now)
        if self._server_left is not None and self._server_left <= keep and self._server_reset_at is not None:
            waits.append(self._server_reset_at - now)
        return max(waits)

    def _grant(self, now: float) -> None:
        self._sent.append(now)
        # The log never needs more entries than the largest limit seen.
        while len(self._sent) > max(self._limit, 1) * 4:
            self._sent.popleft()
        if self._server_left is not None:
            self._server_left = max(0, self._server_left - 1)
        self._in_flight += 1
        self._after_change(wake=False)

    def _observe_remaining(self, remaining: int, reset_at: float | None, now: float) -> None:
        if reset_at is not None and reset_at <= now:
            return  # a late answer about a window that has already ended
        # Requests still in flight were counted by us but not yet by the server's answer.
        estimate = max(0, remaining - max(0, self._in_flight))
        known = self._server_reset_at
        same_window = reset_at is None or (known is not None and abs(reset_at - known) <= 1.0)
        if self._server_left is not None and same_window:
            # Within one window, trust the server only when it knows of fewer requests left than we do.
            self._server_left = min(self._server_left, estimate)
            if known is None:
                self._server_reset_at = now + self._window  # no reset header: assume a full window
            return
        # A window we had not seen (or a reset that moved): the server's word replaces our estimate.
        self._server_left = estimate
        if reset_at is None:
            self._server_reset_at = now + self._window
            self._server_reset_known = False
            return
        self._server_reset_at = reset_at
        self._server_reset_known = True
        if reset_at - now >= 1.0 and remaining < self._limit:
            self._learn_window(reset_at - now)

    def _observe_others(self, remaining: int, reset_at: float | None, now: float) -> None:
        """How many requests the server counted in its window that we did not send (needs its reset time)."""
        if reset_at is None or reset_at <= now:
            return
        began = reset_at - self._window - 1.0  # a second early: the reset header is rounded up
        ours = sum(1 for sent in self._sent if sent >= began)
        beyond = (self._limit - remaining) - ours
        self._others = beyond if beyond > _OTHERS_SLACK else 0

    def _learn_window(self, seconds: float) -> None:
        """The server's window is at least as long as the time left in a window we just saw begin.

        The first observation replaces the configured length (a server with a short window must
        not be waited for as if it had a long one); later ones can only lengthen it.
        """
        seconds = min(seconds, _MAX_RESET_SECONDS)
        self._window = seconds if not self._window_learned else max(self._window, seconds)
        self._window_learned = True

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` or until the budget changes (a response arrived), whichever is first."""
        if self._changed is None:
            self._changed = asyncio.Event()
        changed = self._changed
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        waker = asyncio.ensure_future(changed.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    def _after_change(self, *, wake: bool = True) -> None:
        if wake and self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()
        if not self._listeners:
            return
        snap = self.snapshot()
        key = (snap.used, snap.limit, snap.remaining, snap.paused, snap.recent, snap.others, snap.server_remaining)
        if key == self._last_notified:
            return
        self._last_notified = key
        for callback in list(self._listeners):
            try:
                callback(snap)
            except Exception:  # a listener's failure must not break a request
                log.exception("budget listener failed")
