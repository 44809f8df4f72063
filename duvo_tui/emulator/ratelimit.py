"""A fixed-window request limit per API key.

A key's window opens with its first request and lasts ``window`` seconds; within it at most ``limit``
requests are allowed. Every answer carries the ``x-ratelimit-*`` headers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

__all__ = ["Decision", "RateLimiter"]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(math.ceil(self.reset_at)).encode()),
        ]

    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


class RateLimiter:
    """Counts requests per key in fixed windows."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = max(1, int(limit))
        self.window = float(window)
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, now: float | None = None) -> Decision:
        """Count one request for ``key``."""
        now = time.time() if now is None else now
        start, used = self._windows.get(key, (now, 0))
        if now >= start + self.window:
            start, used = now, 0
        used += 1
        self._windows[key] = (start, used)
        return Decision(used <= self.limit, self.limit, max(0, self.limit - used), start + self.window)
