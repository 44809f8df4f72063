"""ASGI middleware in front of every API route: latency, rate limit, injected faults, rate-limit headers.

Presigned uploads (``/upload/...``) go to "storage": they only see the latency, never the limit or faults.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from typing import Any

from duvo_tui.emulator.ratelimit import Decision, RateLimiter
from duvo_tui.emulator.state import EmulatorState

__all__ = ["Gate"]

Scope = dict[str, Any]


def _token(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = value.decode("latin-1")
            return text[7:].strip() if text[:7].lower() == "bearer " else text
    return "<anonymous>"


async def _send_json(send: Any, status: int, body: dict, headers: list[tuple[bytes, bytes]]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": raw})


class Gate:
    """Wraps the Starlette app."""

    def __init__(self, app: Any, state: EmulatorState) -> None:
        self.app = app
        self.state = state
        self.limiter = RateLimiter(state.options.rate_limit, state.options.rate_window)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        options = self.state.options
        if options.latency_ms > 0:
            await asyncio.sleep(options.latency_ms / 1000)
        if scope["path"].startswith("/upload/"):
            await self.app(scope, receive, send)
            return

        self.state.count_request(scope.get("method", ""), scope["path"])
        decision = self.limiter.hit(_token(scope))
        injected = self.state.rate_limited_for() or self.state.take_forced_limit()
        if injected > 0:
            retry = max(1, math.ceil(injected))
            decision = Decision(False, decision.limit, 0, time.time() + retry)
        if not decision.allowed:
            headers = [*decision.headers(), (b"retry-after", str(decision.retry_after()).encode())]
            message = "Too many requests; retry after the time in the retry-after header."
            await _send_json(send, 429, {"error": "rate_limited", "message": message}, headers)
            return

        if self.state.is_forbidden(scope["path"]):
            message = "This API key lacks the permission for this request."
            await _send_json(send, 403, {"error": "insufficient_scope", "message": message}, decision.headers())
            return

        status = self.state.take_forced_failure()
        if status is None and options.fault_rate > 0 and self.state.fault_rng.random() < options.fault_rate:
            status = self.state.fault_rng.choice((500, 502))
        if status is not None:
            body = (
                {"error": "upstream_unavailable", "message": "An upstream service is unavailable (injected fault)."}
                if status == 502
                else {"error": "internal_error", "message": "The server failed (injected fault)."}
            )
            await _send_json(send, status, body, decision.headers())
            return

        extra = decision.headers()

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
