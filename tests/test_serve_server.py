"""The served dashboard's rules, one by one, on the real aiohttp server in this process.

A stand-in program takes the dashboard's place where only the number of processes matters (it greets
textual-serve like a Textual app and runs until told to quit); the whole dashboard is served in
``test_serve_access.py`` and ``test_serve_browser.py``.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from duvo_tui.web.auth import LoginThrottle, hash_password
from duvo_tui.web.runner import RunningServer, start, tls_context
from duvo_tui.web.server import DashboardServer, ServeOptions
from tests.serve_support import STAND_IN_DASHBOARD

STAND_IN = shlex.join([sys.executable, "-c", STAND_IN_DASHBOARD])
PASSWORD = "correct horse battery"
PASSWORD_HASH = hash_password(PASSWORD, log_n=10)  # cheap to check in tests; the same code as the real cost


def options(**changes: object) -> ServeOptions:
    values: dict[str, object] = {"command": STAND_IN, "title": "test", "token": "the-token", "max_sessions": 2}
    values.update(changes)
    return ServeOptions(**values)  # type: ignore[arg-type]


class Serving:
    """Starts DashboardServers on free loopback ports (``await serve(options)``) and stops them after the test."""

    def __init__(self) -> None:
        self.running: dict[int, RunningServer] = {}

    async def __call__(self, opts: ServeOptions, ssl_context=None, throttle=None) -> tuple[DashboardServer, str]:
        server = DashboardServer(opts, throttle=throttle or LoginThrottle(base=0.05, ceiling=0.2))
        handle = await start(server, "127.0.0.1", 0, ssl_context=ssl_context)
        self.running[id(server)] = handle
        return server, f"{handle.scheme}://127.0.0.1:{handle.port}"

    async def stop(self, server: DashboardServer) -> None:
        handle = self.running.pop(id(server), None)
        if handle is not None:
            await handle.stop()


@pytest.fixture
async def serve() -> AsyncIterator[Serving]:
    serving = Serving()
    yield serving
    for handle in serving.running.values():
        await handle.stop()
    deadline = time.monotonic() + 10
    while _stand_ins() and time.monotonic() < deadline:  # noqa: ASYNC110 - other processes
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)  # the loop hears of their exit (textual-serve never waits for its processes)


def client(**kwargs: object) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(), **kwargs)  # type: ignore[arg-type]


async def test_with_a_password_the_page_asks_for_it_and_only_the_right_one_gets_a_session(serve) -> None:
    _server, origin = await serve(options(token=None, password_hash=PASSWORD_HASH))
    async with client() as http:
        async with http.get(origin + "/") as response:
            page = await response.text()
            assert response.status == 401
            assert 'type="password"' in page
        async with http.get(origin + "/?token=the-token", allow_redirects=False) as response:
            assert response.status == 403  # no token works when a password is set
        form = {"password": "wrong password"}
        async with http.post(origin + "/login", data=form, headers={"Origin": origin}) as response:
            assert response.status == 403
            assert "Wrong password." in await response.text()
            assert "Set-Cookie" not in response.headers
        form = {"password": PASSWORD}
        async with http.post(
            origin + "/login", data=form, headers={"Origin": "http://evil.example"}, allow_redirects=False
        ) as response:
            assert response.status == 403  # the right password from another site's page: refused
        async with http.post(
            origin + "/login", data=form, headers={"Origin": origin}, allow_redirects=False
        ) as response:
            assert response.status == 303
            cookie = response.cookies["duvo_tui_session"]
            assert cookie["httponly"] and cookie["samesite"] == "Strict"
        async with http.get(origin + "/", cookies={"duvo_tui_session": cookie.value}) as response:
            assert response.status == 200
            assert "textual-terminal" in await response.text()


async def test_failed_logins_are_answered_more_slowly_each_time(serve) -> None:
    throttle = LoginThrottle(base=0.2, ceiling=0.8)
    _server, origin = await serve(options(), throttle=throttle)
    took = []
    async with client() as http:
        for _ in range(3):
            started = time.monotonic()
            async with http.get(origin + "/?token=guess") as response:
                assert response.status == 403
            took.append(time.monotonic() - started)
    assert took[0] >= 0.19 and took[1] >= 0.39 and took[2] >= 0.79, took
    assert throttle.recent_failures() == 3


async def test_past_max_sessions_the_page_says_so_and_no_process_starts(serve) -> None:
    server, origin = await serve(options(max_sessions=2))
    async with client() as http:
        async with http.get(origin + "/?token=the-token", allow_redirects=False) as response:
            cookie = response.cookies["duvo_tui_session"].value
        headers = {"Origin": origin, "Cookie": f"duvo_tui_session={cookie}"}
        first = await http.ws_connect(origin.replace("http", "ws") + "/ws", headers=headers)
        second = await http.ws_connect(origin.replace("http", "ws") + "/ws", headers=headers)
        assert server.open_dashboards == 2
        async with http.get(origin + "/", headers=headers) as response:
            assert response.status == 503
            assert "All 2 sessions are in use" in await response.text()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(origin.replace("http", "ws") + "/ws", headers=headers)
        assert refused.value.status == 503
        assert server.open_dashboards == 2
        await first.close()
        deadline = time.monotonic() + 10
        while server.open_dashboards > 1 and time.monotonic() < deadline:  # noqa: ASYNC110 - the server's count
            await asyncio.sleep(0.05)
        async with http.get(origin + "/", headers=headers) as response:
            assert response.status == 200
        await second.close()


async def test_stopping_the_server_ends_every_dashboard_process(serve) -> None:
    server, origin = await serve(options())
    async with client() as http:
        async with http.get(origin + "/?token=the-token", allow_redirects=False) as response:
            cookie = response.cookies["duvo_tui_session"].value
        headers = {"Origin": origin, "Cookie": f"duvo_tui_session={cookie}"}
        websocket = await http.ws_connect(origin.replace("http", "ws") + "/ws", headers=headers)
        deadline = time.monotonic() + 10
        while not _stand_ins() and time.monotonic() < deadline:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.05)
        running = _stand_ins()
        assert running, "the stand-in dashboard never started"
        await serve.stop(server)
        deadline = time.monotonic() + 10
        while _stand_ins() & running and time.monotonic() < deadline:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.1)
        assert not (_stand_ins() & running)
        assert websocket.closed or (await websocket.receive(timeout=5)).type in (
            aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING,
        )  # fmt: skip


def _stand_ins() -> set[int]:
    """The stand-in dashboards running now, by pid."""
    import psutil

    found = set()
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if any("__GANGLION__" in part for part in cmdline):
            found.add(process.info["pid"])
    return found


async def test_a_reverse_proxy_s_https_makes_the_cookie_secure_and_the_origin_https(serve) -> None:
    _server, origin = await serve(options(behind_proxy=True, allowed_hosts=None))
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "Host": "duvo.example.com"}
    async with client() as http:
        async with http.get(origin + "/?token=the-token", headers=proxied, allow_redirects=False) as response:
            cookie = response.cookies["duvo_tui_session"]
            assert cookie["secure"]
        headers = {**proxied, "Cookie": f"duvo_tui_session={cookie.value}"}
        async with http.get(origin + "/", headers=headers) as response:
            assert 'data-session-websocket-url="wss://duvo.example.com/ws"' in await response.text()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(
                origin.replace("http", "ws") + "/ws", headers={**headers, "Origin": "http://duvo.example.com"}
            )
        assert refused.value.status == 403  # the browser's page is https: a plain-http origin is another site
        websocket = await http.ws_connect(
            origin.replace("http", "ws") + "/ws", headers={**headers, "Origin": "https://duvo.example.com"}
        )
        await websocket.close()


def _self_signed(folder: Path) -> tuple[Path, Path] | None:
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


async def test_under_tls_the_cookie_is_secure_and_the_websocket_is_wss(serve, tmp_path: Path) -> None:
    pair = _self_signed(tmp_path)
    if pair is None:
        pytest.skip("openssl is not installed: no certificate to serve TLS with")
    _server, origin = await serve(options(tls=True), ssl_context=tls_context(*pair))
    assert origin.startswith("https://")
    async with client(connector=aiohttp.TCPConnector(ssl=False)) as http:
        async with http.get(origin + "/?token=the-token", allow_redirects=False) as response:
            cookie = response.cookies["duvo_tui_session"]
            assert cookie["secure"] and cookie["httponly"]
        async with http.get(origin + "/", cookies={"duvo_tui_session": cookie.value}) as response:
            assert f'data-session-websocket-url="{origin.replace("https", "wss")}/ws"' in await response.text()


async def test_a_read_only_server_says_so_on_its_page(serve) -> None:
    _server, origin = await serve(options(read_only=True, title="wall"))
    async with client() as http:
        async with http.get(origin + "/?token=the-token", allow_redirects=False) as response:
            cookie = response.cookies["duvo_tui_session"].value
        async with http.get(origin + "/", cookies={"duvo_tui_session": cookie}) as response:
            assert "<title>wall (read-only) · duvo-tui</title>" in await response.text()


async def test_a_loopback_bind_answers_only_to_loopback_names(serve) -> None:
    _server, origin = await serve(options())
    async with client() as http:
        for host, status in [("localhost:1234", 401), ("[::1]:1234", 401), ("rebind.example", 421), ("a b", 421)]:
            async with http.get(origin + "/", headers={"Host": host}) as response:
                assert response.status == status, host
