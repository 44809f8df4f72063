"""The served dashboard's aiohttp application: textual-serve's ``Server`` behind a login and a session.

textual-serve does the terminal part: ``/ws`` starts one dashboard process per browser tab (its
``AppService``) and relays keys and screen updates; ``/download/{key}`` streams a file the dashboard
delivers; ``/static`` holds its page script. :class:`DashboardServer` keeps those handlers and puts in front
of them:

- a session check on every route, the websocket and downloads included (``/login`` is the only way in);
- the token exchange: ``/?token=T`` sets an HttpOnly, SameSite=Strict cookie (Secure under TLS) and
  redirects to ``/``, so the token leaves the address bar and the history;
- a password login (``POST /login``) when a password hash is configured;
- an Origin check on the websocket (a page of another site cannot drive the dashboard);
- the Host check of a loopback bind (a DNS-rebinding page cannot reach the login);
- ``max_sessions`` dashboards at once: past it the page says so and no process is started;
- headers that keep the page out of frames, referrers and caches.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server, to_int
from yarl import URL

from duvo_tui.web.auth import LoginThrottle, Sessions, tokens_match, verify_password

__all__ = ["COOKIE_NAME", "DashboardServer", "ServeOptions"]

log = logging.getLogger("duvo_tui.web")

COOKIE_NAME = "duvo_tui_session"
TEMPLATES = Path(__file__).resolve().parent / "templates"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_PASSWORD_FORM = 4096
"""Bytes of a login form body; anything longer is refused unread."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
"""Sent with every response: no framing (a framed dashboard could be clicked into approving), no referrer
(the token must not travel in one), nothing cached."""


def content_security_policy(nonce: str) -> str:
    """The page's CSP: scripts from the server (and the page's own, by nonce), no frames, no other origins."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "  # the terminal styles its cells inline
        "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
    )


@dataclass
class ServeOptions:
    """How the dashboard is served."""

    command: str
    """The shell command that runs one dashboard (one per browser tab)."""
    title: str = "duvo-tui"
    """The page's title (the profile's name)."""
    max_sessions: int = 4
    """Dashboards running at once; past it the page says so instead of starting another."""
    token: str | None = None
    """The login token (None when a password is configured)."""
    password_hash: str | None = None
    """The configured password's hash; the page asks for the password when set."""
    tls: bool = False
    """Served over TLS (cookies are Secure)."""
    behind_proxy: bool = False
    """A reverse proxy in front: its X-Forwarded-Proto and X-Forwarded-For are trusted."""
    allowed_hosts: frozenset[str] | None = field(default=LOOPBACK_NAMES)
    """Host names the browser may use (Host header); None: any (a public bind, where the names are unknown)."""
    read_only: bool = False
    """The dashboards refuse every action that changes something."""


class DashboardServer(Server):
    """textual-serve's ``Server`` behind a login; :meth:`make_app` builds the aiohttp application."""

    def __init__(
        self,
        options: ServeOptions,
        *,
        sessions: Sessions | None = None,
        throttle: LoginThrottle | None = None,
    ) -> None:
        if options.token is None and options.password_hash is None:
            raise ValueError("a served dashboard needs a token or a password")
        super().__init__(options.command, title=options.title, templates_path=TEMPLATES)
        self.options = options
        self.sessions = sessions or Sessions()
        self.throttle = throttle or LoginThrottle()
        self.open_dashboards = 0
        """Dashboard processes running now (one per connected websocket)."""
        self._websocket_tasks: set[asyncio.Task[Any]] = set()

    # --- the application --------------------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application: textual-serve's routes behind the middlewares, plus the login."""
        app = web.Application(
            middlewares=[self._headers_middleware, self._host_middleware, self._session_middleware],
            client_max_size=MAX_PASSWORD_FORM,
        )
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/login", self.handle_login_page, name="login"),
                web.post("/login", self.handle_password_login),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self._close_dashboards)
        return app

    async def _close_dashboards(self, app: web.Application) -> None:
        """Stop every dashboard (their websocket handlers close the socket and end the process)."""
        for task in list(self._websocket_tasks):
            task.cancel()
        if self._websocket_tasks:
            await asyncio.wait(list(self._websocket_tasks), timeout=10)

    # --- middlewares ------------------------------------------------------------------------------------------

    @web.middleware
    async def _headers_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            error.headers.update(SECURITY_HEADERS)
            raise
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", content_security_policy(secrets.token_urlsafe(8)))
        return response

    @web.middleware
    async def _host_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        allowed = self.options.allowed_hosts
        if allowed is not None:
            try:
                name = (URL(f"http://{request.host}").host or "").strip("[]").lower()
            except ValueError:
                name = ""  # a Host header that is no host name at all
            if name not in allowed:
                log.warning(
                    "refused a request for host %r from %s (not a name of this server)", name, self.peer(request)
                )
                raise web.HTTPMisdirectedRequest(text="This server answers to localhost only.\n")
        return await handler(request)

    @web.middleware
    async def _session_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/login":
            return await handler(request)
        token = request.query.get("token")
        if token is not None and request.path == "/" and request.method == "GET":
            return await self._token_login(request, token)
        if self.sessions.check(request.cookies.get(COOKIE_NAME)):
            return await handler(request)
        if request.path == "/" and request.method == "GET":
            return self._login_page(request, status=401)
        if request.path == "/ws":
            log.warning("websocket refused: no session (from %s)", self.peer(request))
        raise web.HTTPUnauthorized(text="Log in first: open the address duvo-tui serve printed.\n")

    # --- logging in -------------------------------------------------------------------------------------------

    def secure(self, request: web.Request) -> bool:
        """True when the browser talks to us over TLS (ours, or the proxy's when behind one)."""
        if self.options.tls or request.secure:
            return True
        return self.options.behind_proxy and request.headers.get("X-Forwarded-Proto", "").lower() == "https"

    def peer(self, request: web.Request) -> str:
        """Where a request came from (the proxy's X-Forwarded-For when behind one), for the log."""
        if self.options.behind_proxy:
            forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
            if forwarded:
                return forwarded[:64]
        return request.remote or "?"

    def _logged_in(self, request: web.Request) -> web.Response:
        """A new session: the cookie, and a redirect to the dashboard (dropping a token from the address)."""
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(
            COOKIE_NAME,
            self.sessions.create(),
            httponly=True,
            samesite="Strict",
            secure=self.secure(request),
            path="/",
        )
        log.info("logged in: a new session from %s", self.peer(request))
        return response

    async def _token_login(self, request: web.Request, token: str) -> web.StreamResponse:
        expected = self.options.token
        if expected is not None and tokens_match(token, expected):
            return self._logged_in(request)
        await self.throttle.failed(self.peer(request), "token")
        return self._login_page(
            request,
            status=403,
            error="That address's token is wrong. Use the one duvo-tui serve printed (each start prints a new one).",
        )

    async def handle_login_page(self, request: web.Request) -> web.StreamResponse:
        """``GET /login``: the login page (or straight to the dashboard with a session or a token)."""
        token = request.query.get("token")
        if token is not None:
            return await self._token_login(request, token)
        if self.sessions.check(request.cookies.get(COOKIE_NAME)):
            return web.Response(status=303, headers={"Location": "/"})
        return self._login_page(request, status=200)

    async def handle_password_login(self, request: web.Request) -> web.StreamResponse:
        """``POST /login`` with the password form."""
        if not self._origin_allowed(request):
            log.warning(
                "login form refused: foreign origin %r (from %s)", request.headers.get("Origin"), self.peer(request)
            )
            raise web.HTTPForbidden(text="Log in from this server's own page.\n")
        if self.options.password_hash is None:
            raise web.HTTPForbidden(text="No password is set: open the address duvo-tui serve printed.\n")
        form = await request.post()
        password = form.get("password")
        if isinstance(password, str) and password:
            if await asyncio.to_thread(verify_password, password, self.options.password_hash):
                return self._logged_in(request)
        await self.throttle.failed(self.peer(request), "password")
        return self._login_page(request, status=403, error="Wrong password.")

    def _login_page(self, request: web.Request, *, status: int, error: str | None = None) -> web.Response:
        nonce = secrets.token_urlsafe(12)
        context = {
            "title": self.options.title,
            "password": self.options.password_hash is not None,
            "error": error,
            "nonce": nonce,
        }
        response = aiohttp_jinja2.render_template("login.html", request, context, status=status)
        response.headers["Content-Security-Policy"] = content_security_policy(nonce)
        return response

    # --- the dashboard ----------------------------------------------------------------------------------------

    def _origin_allowed(self, request: web.Request) -> bool:
        """True when the request's Origin is this server as the browser sees it (scheme, host and port)."""
        origin = request.headers.get("Origin")
        if not origin or not request.host:
            return False
        scheme = "https" if self.secure(request) else "http"
        try:
            return URL(origin).origin() == URL(f"{scheme}://{request.host}").origin()
        except ValueError:
            return False

    def websocket_url(self, request: web.Request) -> str:
        """The websocket address the page connects to: this server, as the browser reached it."""
        scheme = "wss" if self.secure(request) else "ws"
        return f"{scheme}://{request.host}/ws"

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """``GET /``: the dashboard's page, or a page saying every session is in use."""
        nonce = secrets.token_urlsafe(12)
        context: dict[str, Any] = {
            "title": self.options.title,
            "read_only": self.options.read_only,
            "nonce": nonce,
            "max_sessions": self.options.max_sessions,
        }
        if self.open_dashboards >= self.options.max_sessions:
            response = aiohttp_jinja2.render_template("busy.html", request, context, status=503)
        else:
            context["font_size"] = max(6, min(40, to_int(request.query.get("fontsize", "16"), 16)))
            context["websocket_url"] = self.websocket_url(request)
            response = aiohttp_jinja2.render_template("dashboard.html", request, context)
        response.headers["Content-Security-Policy"] = content_security_policy(nonce)
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """``GET /ws``: one dashboard process for this tab (textual-serve's handler), after the Origin check and
        within ``max_sessions``."""
        if not self._origin_allowed(request):
            log.warning(
                "websocket refused: foreign origin %r (from %s)", request.headers.get("Origin"), self.peer(request)
            )
            raise web.HTTPForbidden(text="This websocket only serves this server's own page.\n")
        if self.open_dashboards >= self.options.max_sessions:
            log.warning("websocket refused: %d dashboards already running (--max-sessions)", self.open_dashboards)
            raise web.HTTPServiceUnavailable(text=f"All {self.options.max_sessions} sessions are in use.\n")
        self.open_dashboards += 1
        task = asyncio.current_task()
        if task is not None:
            self._websocket_tasks.add(task)
        log.info(
            "dashboard started for %s (%d of %d)", self.peer(request), self.open_dashboards, self.options.max_sessions
        )
        try:
            return await super().handle_websocket(request)
        finally:
            self.open_dashboards -= 1
            if task is not None:
                self._websocket_tasks.discard(task)
            log.info("dashboard closed (%d still running)", self.open_dashboards)
