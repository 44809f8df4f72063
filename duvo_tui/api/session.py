"""The machinery under :class:`~duvo_tui.api.client.DuvoClient`: one pooled ``httpx.AsyncClient``, the
rate budget, retries and the mapping of every failure to a :class:`~duvo_tui.api.errors.DuvoError`.

Every request waits for the :class:`~duvo_tui.api.budget.RateBudget`, and every response
(success or not) is shown to it. Transient failures (5xx, network, timeouts) are retried with
exponential backoff and full jitter; a 429 makes the budget pause for ``retry-after`` and the
request is sent again; other 4xx are raised at once. The API key never appears in an error.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Self

import httpx

from duvo_tui import __version__
from duvo_tui.api import errors
from duvo_tui.api.budget import RateBudget
from duvo_tui.api.errors import DuvoError, NetworkError, RateLimitedError, UnexpectedResponseError
from duvo_tui.api.sendable import check_body, check_header
from duvo_tui.api.transfer import without_query
from duvo_tui.text import mask_key

__all__ = ["ApiSession", "normalise_base_url"]

_CONNECT_TIMEOUT = 5.0
_UPLOAD_TIMEOUT = 120.0


def normalise_base_url(base_url: str) -> str:
    """``https://api.duvo.ai``, ``…/`` and ``…/v1`` all become ``https://api.duvo.ai``."""
    url = (base_url or "").strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url or "https://api.duvo.ai"


class ApiSession:
    """One API key's connection pool, budget and retry policy; the endpoints are on ``DuvoClient``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        budget: RateBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        *,
        backoff_base: float = 0.5,
        max_backoff: float = 20.0,
        max_rate_wait: float = 120.0,
        user_agent: str | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self._api_key = (api_key or "").strip()
        self.base_url = normalise_base_url(base_url)
        self.budget = budget if budget is not None else RateBudget()
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = max(0.0, float(backoff_base))
        self.max_backoff = max(0.0, float(max_backoff))
        self.max_rate_wait = max(0.0, float(max_rate_wait))
        self._timeout = httpx.Timeout(timeout, connect=min(_CONNECT_TIMEOUT, timeout))
        self._upload_timeout = httpx.Timeout(max(timeout, _UPLOAD_TIMEOUT), connect=min(_CONNECT_TIMEOUT, timeout))
        self._random = random.Random()
        self._sleep = sleep or asyncio.sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=self._timeout,
            headers={"User-Agent": user_agent or f"duvo-tui/{__version__}", "Accept": "application/json"},
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={mask_key(self._api_key)!r})"

    @property
    def masked_key(self) -> str:
        return mask_key(self._api_key)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    # ------------------------------------------------------------------ machinery

    def _check_usable(self) -> None:
        if self._http.is_closed:
            raise DuvoError("the API client is closed")
        if not self._api_key:
            raise errors.AuthError("no API key is configured")
        if not all(33 <= ord(c) < 127 for c in self._api_key):
            raise errors.AuthError("the API key contains characters that cannot be sent (a stray space or quote?)")

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random delay up to base * 2^(attempt-1), capped."""
        ceiling = min(self.max_backoff, self.backoff_base * (2 ** (attempt - 1)))
        return self._random.uniform(0, ceiling)

    def _scrub(self, text: str) -> str:
        if self._api_key and len(self._api_key) >= 4 and self._api_key in text:
            text = text.replace(self._api_key, mask_key(self._api_key))
        return text

    def _scrub_error(self, error: DuvoError) -> DuvoError:
        if self._api_key and (self._api_key in error.message or (error.code and self._api_key in error.code)):
            error.message = self._scrub(error.message)
            error.code = self._scrub(error.code) if error.code else error.code
            error.args = (error.message,)
        return error

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        multipart: Callable[[], dict[str, Any]] | None = None,
        idempotency_key: str | None = None,
        urgent: bool = False,
        request_timeout: httpx.Timeout | None = None,
        retries: int | None = None,
    ) -> Any:
        """Send one logical request, with retries (``retries`` overrides the client's count for transient
        failures); the decoded JSON body (None when empty)."""
        self._check_usable()
        # Text that cannot be encoded is refused here: before the budget, so nothing is sent or spent.
        check_body(json_body)
        check_body(params)
        headers = {"Authorization": f"Bearer {self._api_key}"}
        if idempotency_key:
            check_header("Idempotency-Key", idempotency_key)
            headers["Idempotency-Key"] = idempotency_key
        # Mutations are something a person asked for: they may use the reserved share.
        urgent = urgent or idempotency_key is not None
        attempt = 0
        rate_retries = 0
        while True:
            paused_for = self.budget.snapshot().paused_for
            if paused_for > self.max_rate_wait:
                # Waiting this long in silence would look like a hang; say so instead.
                raise RateLimitedError(
                    f"rate limited: nothing may be sent for another {paused_for:.0f} s", retry_after=paused_for
                )
            await self.budget.acquire(urgent=urgent)
            outcome = await self._send_once(method, path, params, json_body, multipart, headers, request_timeout)
            if isinstance(outcome, _Decoded):
                return outcome.value
            error = outcome
            if isinstance(error, RateLimitedError):
                # The budget has paused itself for retry-after; the next acquire() waits it out.
                if rate_retries >= self.max_retries or error.retry_after > self.max_rate_wait:
                    raise error
                rate_retries += 1
                continue
            if not error.transient or attempt >= (self.max_retries if retries is None else max(0, retries)):
                raise error
            attempt += 1
            await self._sleep(self._backoff(attempt))

    async def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        multipart: Callable[[], dict[str, Any]] | None,
        headers: dict[str, str],
        request_timeout: httpx.Timeout | None,
    ) -> _Decoded | DuvoError:
        """One attempt: the decoded body, or the error to raise or retry. Never raises a non-Duvo error."""
        extra: dict[str, Any] = {}
        if json_body is not None:
            extra["json"] = json_body
        if multipart is not None:
            try:
                extra.update(multipart())
            except DuvoError:
                self.budget.abandon()
                raise
        try:
            try:
                response = await self._http.request(
                    method,
                    path,
                    params=params,
                    headers=headers,
                    timeout=request_timeout if request_timeout is not None else httpx.USE_CLIENT_DEFAULT,
                    **extra,
                )
            finally:
                handle = extra.get("files", {}).get("file", (None, None))[1]
                if hasattr(handle, "close"):
                    handle.close()
        except asyncio.CancelledError:
            self.budget.abandon()
            raise
        except UnicodeEncodeError:
            # The checks in _request catch this first; a value they do not see must still end as a DuvoError.
            self.budget.abandon()
            return errors.InvalidInputError(
                f"{method} {path.split('?')[0]}: the request holds text that is not valid UTF-8"
            )
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            self.budget.abandon()
            return DuvoError(f"cannot use the base URL {self.base_url!r}: it must look like https://api.duvo.ai")
        except httpx.TimeoutException:
            self.budget.abandon()
            return NetworkError(f"timed out waiting for {self.base_url} ({method} {path.split('?')[0]})")
        except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
            self.budget.abandon()
            reason = self._scrub(str(exc) or type(exc).__name__)
            return NetworkError(f"could not reach {self.base_url}: {reason}")
        self.budget.observe(response.status_code, response.headers)
        if response.is_redirect:
            where = without_query(response.headers.get("location", "")) or "elsewhere"
            return errors.ApiError(f"the server redirected to {where}; check the base URL", status=response.status_code)
        if not response.is_success:
            return self._scrub_error(
                errors.error_from_response(response.status_code, response.content, response.headers)
            )
        return self._decode(response)

    def _decode(self, response: httpx.Response) -> _Decoded | DuvoError:
        body = response.content
        if not body.strip():
            return _Decoded(None)
        try:
            return _Decoded(json.loads(body))
        except (ValueError, RecursionError):
            kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
            return UnexpectedResponseError(
                f"the server answered {response.status_code} with something that is not JSON ({kind})",
                status=response.status_code,
            )


class _Decoded:
    """A successful response's JSON value (possibly None), told apart from an error."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
