"""Serving the emulator with uvicorn: in a background thread (tests, demo) or in the foreground (CLI).

The background server keeps one event loop in its thread for its whole life: ``restart()`` closes the
listening socket and opens it again on the same port while runs keep playing, as a real server blip would.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn

from duvo_tui.emulator.app import build_app
from duvo_tui.emulator.state import EmulatorState

__all__ = ["BackgroundServer", "bind_socket", "serve_forever"]


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (0 = a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP: asyncio only turns Nagle off (TCP_NODELAY) on accepted sockets whose proto is
    # IPPROTO_TCP, and with Nagle on every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _config(app: Any, host: str) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
    )


class BackgroundServer:
    """The emulator on a loopback port, served from a daemon thread."""

    def __init__(self, state: EmulatorState, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = state
        self.host = host
        self.port = port
        self.app = build_app(state)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="duvo-emulator", daemon=True)
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Future | None = None
        self.state.loop = self._loop

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        server = uvicorn.Server(_config(self.app, self.host))
        self._server = server
        self._serving = asyncio.run_coroutine_threadsafe(server.serve(sockets=[sock]), self._loop)
        ready = asyncio.run_coroutine_threadsafe(self._wait_started(server), self._loop)
        ready.result(10)

    @staticmethod
    async def _wait_started(server: uvicorn.Server) -> None:
        while not server.started:  # noqa: ASYNC110 (uvicorn offers no event for this)
            await asyncio.sleep(0.005)

    def stop_serving(self) -> None:
        """Close the port (runs keep going on the loop)."""
        if self._server is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(Exception):
            self._serving.result(10)
        self._server = None

    def restart(self) -> None:
        """Stop serving and serve again on the same port."""
        self.stop_serving()
        self.start()

    def close(self) -> None:
        """Stop serving, cancel the runs, end the thread, delete the sandbox files."""
        self.stop_serving()
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.state.shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        if not self._loop.is_running():
            self._loop.close()
        self.state.loop = None
        self.state.remove_files()


async def serve_forever(
    state: EmulatorState, sock: socket.socket, host: str, on_ready: Callable[[], None] | None = None
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C / SIGTERM); ``on_ready()`` once requests are served."""
    state.loop = asyncio.get_running_loop()
    server = uvicorn.Server(_config(build_app(state), host))

    async def announce() -> None:
        await BackgroundServer._wait_started(server)
        if on_ready is not None:
            on_ready()

    announcer = asyncio.get_running_loop().create_task(announce())
    try:
        await server.serve(sockets=[sock])
    finally:
        announcer.cancel()
        await state.shutdown()
        state.remove_files()
