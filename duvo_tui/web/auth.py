"""Who may use the served dashboard: the login token, password hashes, sessions and the login throttle.

Plain Python (no aiohttp), so each rule is tested alone. A login is either the random token printed at start
or the password whose scrypt hash is in the config (``[serve] password_hash``, made by
``duvo-tui serve --hash-password``). A successful login gives a session: a random id kept in memory only
(a restart logs everyone out) and carried by the browser in an HttpOnly cookie.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "PASSWORD_HASH_PATTERN",
    "LoginThrottle",
    "Sessions",
    "hash_password",
    "new_token",
    "tokens_match",
    "verify_password",
]

log = logging.getLogger("duvo_tui.web")

PASSWORD_HASH_PATTERN = re.compile(
    r"^scrypt\$(?P<log_n>\d{1,2})\$(?P<r>\d{1,2})\$(?P<p>\d{1,2})\$(?P<salt>[A-Za-z0-9_-]{16,})\$(?P<hash>[A-Za-z0-9_-]{32,})$"
)
"""``scrypt$LOG2_N$R$P$SALT$HASH`` (salt and hash in unpadded URL-safe base64)."""

SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P = 15, 8, 1
"""scrypt's cost: 2**15 rounds of 8-block mixing, 32 MiB and ~0.1 s per check on a small server."""


def new_token() -> str:
    """A login token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def tokens_match(given: str, expected: str) -> bool:
    """True when ``given`` is ``expected``, compared in constant time."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, log_n: int, r: int, p: int, length: int) -> bytes:
    n = 2**log_n
    return hashlib.scrypt(
        password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * n * r + 2**20
    )


def hash_password(password: str, *, log_n: int = SCRYPT_LOG_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """The text to store for ``password``: ``scrypt$LOG2_N$R$P$SALT$HASH`` with a fresh random salt."""
    if not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(16)
    return f"scrypt${log_n}${r}${p}${_b64(salt)}${_b64(_scrypt(password, salt, log_n, r, p, 32))}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` is the one ``stored`` (a :func:`hash_password` result) was made from.

    A malformed ``stored`` matches nothing (the config loader refuses one earlier, with a message).
    """
    match = PASSWORD_HASH_PATTERN.match(stored)
    if match is None or not password:
        return False
    log_n, r, p = int(match["log_n"]), int(match["r"]), int(match["p"])
    if not (10 <= log_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16):
        return False
    expected = _unb64(match["hash"])
    try:
        actual = _scrypt(password, _unb64(match["salt"]), log_n, r, p, len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


@dataclass
class _Session:
    created: float
    seen: float


class Sessions:
    """The logged-in browsers: random ids, each valid until it has been idle for ``idle_timeout`` seconds."""

    def __init__(self, idle_timeout: float = 12 * 3600.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle_timeout = idle_timeout
        self._clock = clock
        self._sessions: dict[str, _Session] = {}

    def create(self) -> str:
        """A new session; returns its id (the cookie's value)."""
        self._expire()
        now = self._clock()
        session_id = secrets.token_urlsafe(32)
        self._sessions[session_id] = _Session(created=now, seen=now)
        return session_id

    def check(self, session_id: str | None) -> bool:
        """True for a live session (and it counts as used now); False for a missing, unknown or idle one."""
        if not session_id:
            return False
        self._expire()
        for known, session in self._sessions.items():
            if hmac.compare_digest(known.encode(), session_id.encode("utf-8", "surrogatepass")):
                session.seen = self._clock()
                return True
        return False

    def end(self, session_id: str | None) -> None:
        """Forget a session (logging out)."""
        if session_id:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        self._expire()
        return len(self._sessions)

    def _expire(self) -> None:
        now = self._clock()
        for session_id in [k for k, s in self._sessions.items() if now - s.seen > self.idle_timeout]:
            del self._sessions[session_id]


class LoginThrottle:
    """Slows failed logins down: each failure is answered only after a delay that doubles with every recent
    failure (from anywhere), ``base`` seconds for the first, at most ``ceiling``; failures are answered one at a
    time, so guesses cannot be run in parallel. Each failure is logged with where it came from, never with what
    was tried."""

    def __init__(
        self,
        *,
        base: float = 0.5,
        ceiling: float = 10.0,
        window: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = asyncio.sleep,
    ) -> None:
        self.base = base
        self.ceiling = ceiling
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._failures: deque[float] = deque()
        self._lock = asyncio.Lock()

    def recent_failures(self) -> int:
        """Failures within the last ``window`` seconds."""
        now = self._clock()
        while self._failures and now - self._failures[0] > self.window:
            self._failures.popleft()
        return len(self._failures)

    def delay_for(self, failures: int) -> float:
        """The delay after the ``failures``-th recent failure."""
        return float(min(self.ceiling, self.base * 2.0 ** max(0, failures - 1)))

    async def failed(self, where: str, what: str) -> float:
        """Record a failed login from ``where`` (an address) of kind ``what`` ("token", "password"); wait the
        delay (behind any other failure being answered) and return it."""
        async with self._lock:
            self._failures.append(self._clock())
            count = self.recent_failures()
            delay = self.delay_for(count)
            log.warning(
                "failed login (wrong %s) from %s: %d in the last %d minutes; answered after %.1f s",
                what, where, count, int(self.window // 60), delay,
            )  # fmt: skip
            result = self._sleep(delay)
            if asyncio.iscoroutine(result):
                await result
            return delay
