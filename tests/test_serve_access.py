"""``duvo-tui serve --demo`` with a plain HTTP client: nothing without a session, no websocket from elsewhere.

One served demo for the module (``--max-sessions 1``, so the cap is seen with a real dashboard too).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import aiohttp
import pytest

from tests.serve_support import Served, start_serve

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    handle = start_serve(["--demo", "--max-sessions", "1", "--speed", "4"], tmp_path_factory.mktemp("serve-home"))
    try:
        yield handle
    finally:
        handle.stop()


async def log_in(session: aiohttp.ClientSession, served: Served) -> str:
    """Exchange the printed token for a session cookie; returns the cookie's value."""
    async with session.get(served.url, allow_redirects=False) as response:
        assert response.status == 303
        return response.cookies["duvo_tui_session"].value


async def wait_for_log(served: Served, text: str, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while text not in served.log() and time.monotonic() < deadline:  # noqa: ASYNC110 - a subprocess's stderr
        await asyncio.sleep(0.05)


def ws_url(served: Served) -> str:
    return served.origin.replace("http://", "ws://") + "/ws?width=100&height=30"


async def test_the_token_is_swapped_for_a_strict_http_only_cookie_and_leaves_the_address(served: Served) -> None:
    async with (
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session,
        session.get(served.url, allow_redirects=False) as response,
    ):
        assert response.status == 303
        assert response.headers["Location"] == "/"  # the token is not carried on
        cookie = response.headers["Set-Cookie"]
        assert "duvo_tui_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Strict" in cookie
        assert "Secure" not in cookie  # plain http on loopback: a Secure cookie would never be sent back
        assert served.token not in cookie
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_without_a_session_the_page_says_how_to_log_in_and_nothing_else_is_served(served: Served) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.get(served.base) as response:
            page = await response.text()
            assert response.status == 401
            assert "printed when it started" in page
            assert "textual.js" not in page and "/ws" not in page
        for path in ("/static/js/textual.js", "/download/abc123", "/ws"):
            async with session.get(served.origin + path) as response:
                assert response.status == 401, path
        # A stolen-looking cookie is no session either.
        async with session.get(served.origin + "/download/abc123", cookies={"duvo_tui_session": "forged"}) as response:
            assert response.status == 401


async def test_a_wrong_token_is_refused_slowly_and_logged_without_the_token(served: Served) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        started = time.monotonic()
        async with session.get(served.base + "?token=not-the-token", allow_redirects=False) as response:
            page = await response.text()
            assert response.status == 403
            assert "token is wrong" in page
            assert "Set-Cookie" not in response.headers
        assert time.monotonic() - started >= 0.45  # the throttle's first delay is 0.5 s
    await wait_for_log(served, "failed login")
    assert "failed login (wrong token) from 127.0.0.1" in served.log()
    assert "not-the-token" not in served.log()
    assert served.token not in served.log()


async def test_a_session_reaches_the_page_and_downloads_but_only_known_ones(served: Served) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        cookie = await log_in(session, served)
        cookies = {"duvo_tui_session": cookie}
        async with session.get(served.base, cookies=cookies) as response:
            page = await response.text()
            assert response.status == 200
            assert f'data-session-websocket-url="{ws_url(served).split("?")[0]}"' in page
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        async with session.get(served.origin + "/download/no-such-key", cookies=cookies) as response:
            assert response.status == 404  # past the session check: the key itself is unknown


async def test_another_host_name_is_refused_on_a_loopback_bind(served: Served) -> None:
    # A DNS-rebinding page reaches 127.0.0.1 under its own name: the Host header gives it away.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.get(served.base, headers={"Host": "rebind.example:80"}) as response:
            assert response.status == 421


async def test_the_websocket_is_refused_without_a_session_or_from_a_foreign_origin(served: Served) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        cookie = await log_in(session, served)
        attempts = [
            {"Origin": served.origin},  # no cookie
            {"Origin": served.origin, "Cookie": "duvo_tui_session=forged"},
            {"Origin": "http://evil.example", "Cookie": f"duvo_tui_session={cookie}"},
            {"Origin": served.origin.replace("127.0.0.1", "localhost"), "Cookie": f"duvo_tui_session={cookie}"},
            {"Cookie": f"duvo_tui_session={cookie}"},  # no Origin at all
        ]
        statuses = []
        for headers in attempts:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url(served), headers=headers)
            statuses.append(refused.value.status)
        assert statuses == [401, 401, 403, 403, 403]
    await wait_for_log(served, "foreign origin 'http://evil.example'")
    assert "websocket refused: foreign origin 'http://evil.example'" in served.log()


async def test_a_session_from_the_page_s_origin_gets_a_dashboard_and_the_cap_holds(served: Served) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        cookies = {"duvo_tui_session": await log_in(session, served)}
        headers = {"Origin": served.origin, "Cookie": f"duvo_tui_session={cookies['duvo_tui_session']}"}
        async with session.ws_connect(ws_url(served), headers=headers) as websocket:
            screen = b""
            deadline = time.monotonic() + 90  # a busy host takes its time to start a dashboard
            while b"Runs" not in screen and time.monotonic() < deadline:
                message = await websocket.receive(timeout=deadline - time.monotonic())
                if message.type == aiohttp.WSMsgType.BINARY:
                    screen += message.data
            assert b"Runs" in screen, screen[-2000:]
            # --max-sessions 1: a second tab is told so, and no second dashboard starts.
            async with session.get(served.base, cookies=cookies) as response:
                assert response.status == 503
                assert "All 1 sessions are in use" in await response.text()
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url(served), headers=headers)
            assert refused.value.status == 503
        # Once the tab is closed, its dashboard ends and the page is served again.
        deadline = time.monotonic() + 20
        status = 0
        while time.monotonic() < deadline:
            async with session.get(served.base, cookies=cookies) as response:
                status = response.status
            if status == 200:
                break
            await asyncio.sleep(0.2)
        assert status == 200


def test_the_log_never_holds_the_token(served: Served) -> None:
    log = served.log()
    assert "GET / 303" in log  # the access log is on...
    assert served.token not in log  # ...and names paths only
    assert "token=" not in log
