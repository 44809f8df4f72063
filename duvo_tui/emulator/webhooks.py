"""Signed webhook deliveries for runs started with ``webhook_url``.

Each event is one JSON POST::

    {"id": "evt_<32 hex>", "type": "human_request" | "run_completed" | "run_failed" | "run_interrupted",
     "created_at": "<ISO 8601>", "data": {"run": {<run, as GET /v1/runs/{id}>},
                                          "human_request": {<pending request>} | null}}

Headers:

- ``X-Duvo-Event-Id``: the event id (the same on every retry: receivers dedupe on it);
- ``X-Duvo-Timestamp``: Unix seconds when this attempt was sent (receivers reject stale ones);
- ``X-Duvo-Signature``: ``sha256=<hex>``, the HMAC-SHA256 with the webhook secret over
  ``f"{timestamp}.{raw body}"`` (timestamp as sent in the header, body as the exact bytes received).

A delivery that fails (connection error, timeout or a 5xx answer) is retried up to 4 more times, after
``webhook_backoff`` seconds, doubling each time. A 2xx, 3xx or 4xx answer ends the delivery.
``state.webhook_deliveries`` records every attempt (event id, type, url, attempt, status or error).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from duvo_tui.emulator.state import EmulatorState, RunRecord, iso

__all__ = ["EVENT_TYPES", "MAX_ATTEMPTS", "send_event", "sign"]

EVENT_TYPES = ("human_request", "run_completed", "run_failed", "run_interrupted")
MAX_ATTEMPTS = 5


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Duvo-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def send_event(state: EmulatorState, run: RunRecord, event_type: str) -> None:
    """Queue an event for the run's webhook (nothing when it has none). Call on the server's loop."""
    if not run.webhook_url:
        return
    event = {
        "id": "evt_" + uuid.uuid4().hex,
        "type": event_type,
        "created_at": iso(time.time()),
        "data": {"run": run.run_json(), "human_request": run.pending.pending_json() if run.pending else None},
    }
    body = json.dumps(event, separators=(",", ":")).encode()
    state.spawn(_deliver(state, run.webhook_url, event["id"], event_type, body))


async def _deliver(state: EmulatorState, url: str, event_id: str, event_type: str, body: bytes) -> None:
    import httpx

    delay = state.options.webhook_backoff
    async with httpx.AsyncClient(timeout=10.0) as client:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            timestamp = str(int(time.time()))
            headers = {
                "content-type": "application/json",
                "user-agent": "duvo-emulator-webhooks/1",
                "x-duvo-event-id": event_id,
                "x-duvo-timestamp": timestamp,
                "x-duvo-signature": sign(state.options.webhook_secret, timestamp, body),
            }
            record: dict[str, Any] = {"event_id": event_id, "type": event_type, "url": url, "attempt": attempt}
            try:
                response = await client.post(url, content=body, headers=headers)
                record["status"] = response.status_code
                retry = response.status_code >= 500
            except httpx.HTTPError as exc:
                record["error"] = type(exc).__name__
                retry = True
            state.webhook_deliveries.append(record)
            if not retry or attempt == MAX_ATTEMPTS:
                return
            await asyncio.sleep(delay)
            delay *= 2
