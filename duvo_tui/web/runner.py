"""Binding the served dashboard: the address rules, TLS, the access log, running until stopped.

A loopback address needs nothing more; any other address needs TLS (``--certfile``/``--keyfile``) or
``--behind-proxy`` (a reverse proxy that terminates TLS in front of us). The access log names method, path and
status only: a query string may carry the login token.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from duvo_tui.web.server import DashboardServer

__all__ = ["BindError", "RunningServer", "is_loopback", "serve_until_stopped", "start", "tls_context"]

log = logging.getLogger("duvo_tui.web")


class BindError(Exception):
    """The address cannot be served as asked (a public address without TLS, a certificate that will not load)."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, *, tls: bool, behind_proxy: bool) -> None:
    """BindError when ``host`` is not loopback and neither TLS nor a proxy protects it."""
    if not is_loopback(host) and not tls and not behind_proxy:
        raise BindError(
            f"--host {host} is reachable from other machines: serve it over TLS (--certfile F --keyfile F) or "
            "behind a reverse proxy that does TLS (--behind-proxy); a plain-HTTP public bind is refused"
        )


def tls_context(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2 or later) from a certificate chain and its key; BindError when they do
    not load."""
    for path in (certfile, keyfile):
        if not Path(path).is_file():
            raise BindError(f"cannot read {path}: no such file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as error:
        raise BindError(f"cannot load the certificate {certfile} with the key {keyfile}: {error}") from None
    return context


class PathOnlyAccessLogger(AbstractAccessLogger):
    """``METHOD /path STATUS`` per request: never the query string (it may hold the token) nor cookies."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s (%.0f ms)", request.method, request.path, response.status, time * 1000)


@dataclass
class RunningServer:
    """A started server: where it listens and how to stop it."""

    runner: web.AppRunner
    host: str
    port: int
    scheme: str

    def url(self, token: str | None = None) -> str:
        """The address to open (with the login token as a query when given)."""
        host = self.host
        if host in ("0.0.0.0", "::", ""):
            host = socket.gethostname()
        shown = f"[{host}]" if ":" in host else host
        return f"{self.scheme}://{shown}:{self.port}/" + (f"?token={token}" if token else "")

    async def stop(self) -> None:
        await self.runner.cleanup()


async def start(
    server: DashboardServer, host: str, port: int, *, ssl_context: ssl.SSLContext | None = None
) -> RunningServer:
    """Serve ``server``'s application on ``host:port`` (0: a free port); OSError when the port is taken."""
    runner = web.AppRunner(
        server.make_app(), access_log_class=PathOnlyAccessLogger, handle_signals=False, shutdown_timeout=5.0
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound = runner.addresses[0][1] if runner.addresses else port
    return RunningServer(runner, host, int(bound), "https" if ssl_context else "http")


async def serve_until_stopped(
    server: DashboardServer,
    host: str,
    port: int,
    *,
    ssl_context: ssl.SSLContext | None = None,
    on_started: Callable[[RunningServer], Awaitable[None] | None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, then close every dashboard and stop."""
    running = await start(server, host, port, ssl_context=ssl_context)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    try:
        if on_started is not None:
            result = on_started(running)
            if asyncio.iscoroutine(result):
                await result
        await stop.wait()
        log.info("stopping: closing %d dashboard(s)", server.open_dashboards)
    finally:
        await running.stop()
