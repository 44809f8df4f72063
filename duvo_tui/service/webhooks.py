"""An optional receiver of signed webhooks: a verified event makes the service look at its run at once.

A small HTTP/1.1 server on asyncio streams (one request per connection), bound to loopback unless a
host is given. Every POST must carry::

    X-Duvo-Event-Id:  evt_...            (deliveries are deduplicated on it)
    X-Duvo-Timestamp: <Unix seconds>     (refused when further than ``tolerance`` from now)
    X-Duvo-Signature: sha256=<hex>       HMAC-SHA256 with the secret over f"{timestamp}.{raw body}"

Unsigned, badly signed or stale deliveries get 401 and change nothing; a replayed event id gets 200
(so the sender stops retrying) and is ignored. The body's ``data.run.id`` names the run to refresh.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["WebhookReceiver", "parse_listen", "sign", "verify"]

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024
_MAX_HEADER_BYTES = 16 * 1024
_SEEN_IDS = 10_000

OnEvent = Callable[[str, str], Any]


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``:PORT`` or ``PORT`` to (host, port); the host defaults to 127.0.0.1. ValueError if bad."""
    text = value.strip()
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"not HOST:PORT: {value!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port out of range: {port}")
    return host, port


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Duvo-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float, tolerance: float = 300.0) -> str | None:
    """None when the delivery is signed with ``secret`` and fresh; otherwise the reason it is refused."""
    if not secret:
        return "no webhook secret is configured"
    signature = headers.get("x-duvo-signature", "")
    timestamp = headers.get("x-duvo-timestamp", "")
    if not signature or not timestamp:
        return "unsigned"
    try:
        sent = float(timestamp)
    except ValueError:
        return "bad timestamp"
    if sent != sent or abs(now - sent) > tolerance:
        return "stale timestamp"
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.strip().encode()):
        return "bad signature"
    return None


class WebhookReceiver:
    """Serves ``POST`` on ``listen`` (``HOST:PORT``); ``on_event(run_id, event_type)`` for each new verified event."""

    def __init__(
        self,
        listen: str,
        secret: str,
        on_event: OnEvent,
        *,
        tolerance: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.host, self.port = parse_listen(listen)
        self.secret = secret
        self.on_event = on_event
        self.tolerance = tolerance
        self.clock = clock
        self.accepted = 0
        self.rejected = 0
        self.duplicates = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._server: asyncio.AbstractServer | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/webhooks"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        sockets = list(self._server.sockets or ())
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, text = await asyncio.wait_for(self._handle(reader), timeout=10.0)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            status, text = 400, "bad request"
        try:
            body = json.dumps({"status": text}).encode()
            head = (
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"content-type: application/json\r\ncontent-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[int, str]:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > _MAX_HEADER_BYTES:
            return 431, "headers too large"
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 2:
            return 400, "bad request line"
        if parts[0] != "POST":
            return 405, "POST only"
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            return 400, "bad content-length"
        if length < 0 or length > MAX_BODY:
            return 413, "body too large"
        body = await reader.readexactly(length) if length else b""
        return self.receive(headers, body)

    def receive(self, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        """Check one delivery (headers lower-cased) and act on it; (HTTP status, short reason)."""
        reason = verify(self.secret, headers, body, now=self.clock(), tolerance=self.tolerance)
        if reason is not None:
            self.rejected += 1
            log.info("webhook refused: %s", reason)
            return 401, reason
        event_id = headers.get("x-duvo-event-id", "")
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            self.rejected += 1
            return 400, "body is not JSON"
        if not isinstance(event, dict):
            self.rejected += 1
            return 400, "body is not an event"
        event_id = event_id or str(event.get("id") or "")
        if not event_id:
            self.rejected += 1
            return 400, "no event id"
        if event_id in self._seen:
            self.duplicates += 1
            return 200, "duplicate"
        self._seen[event_id] = None
        while len(self._seen) > _SEEN_IDS:
            self._seen.popitem(last=False)
        data = event.get("data")
        run = data.get("run") if isinstance(data, dict) else None
        run_id = run.get("id") if isinstance(run, dict) and isinstance(run.get("id"), str) else ""
        self.accepted += 1
        if run_id:
            try:
                self.on_event(run_id, str(event.get("type") or ""))
            except Exception:
                log.exception("webhook handler failed")
        return 200, "ok"
