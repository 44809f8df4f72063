"""``duvo-tui serve``: the dashboard in a browser, behind a login (``duvo_tui.web``, the ``web`` extra).

Each browser tab gets its own dashboard process (``python -m duvo_tui --profile NAME``), so every session
reaches the API through the same shared budget as any other duvo-tui process on the key. ``--demo`` starts one
embedded emulator with the demo's runs, shared by every session. The web server's modules are imported only
here, after the options are checked.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import shlex
import sys
from pathlib import Path
from typing import Any

__all__ = ["dashboard_command", "hash_password_command", "register", "run_serve"]

EXIT_OK, EXIT_USAGE = 0, 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``serve`` command."""
    parser = subparsers.add_parser(
        "serve",
        help="serve the dashboard to a browser, behind a login",
        description="Serve the dashboard to a web browser. A login token is printed with the address to open "
        "(or set a password: --hash-password). Every tab runs its own dashboard on the shared rate budget. "
        "Needs the web extra: pip install 'duvo-tui[web]'.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8700, help="port to listen on (default 8700; 0: a free one)")
    parser.add_argument(
        "--max-sessions", type=int, default=4, metavar="N", help="dashboards running at once (default 4)"
    )
    parser.add_argument("--certfile", type=Path, metavar="F", help="TLS certificate chain (PEM)")
    parser.add_argument("--keyfile", type=Path, metavar="F", help="TLS private key (PEM)")
    parser.add_argument(
        "--behind-proxy",
        action="store_true",
        help="a reverse proxy does TLS in front (trust its X-Forwarded-Proto/-For); allows a non-loopback --host",
    )
    parser.add_argument("--demo", action="store_true", help="serve the demo: an embedded emulator with demo runs")
    parser.add_argument("--speed", type=float, default=1.0, help="with --demo: scenario time runs X times faster")
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="read a password and print the [serve] lines that make the server ask for it (nothing is served)",
    )
    parser.set_defaults(handler=run_serve)


def _error(message: str) -> int:
    print(f"duvo-tui: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def dashboard_command(
    *, config: str | Path | None, profile: str, base_url: str | None = None, read_only: bool = False
) -> str:
    """The shell command that runs one served dashboard (the same program, the same profile)."""
    argv = [sys.executable, "-m", "duvo_tui"]
    if config is not None:
        argv += ["--config", str(config)]
    argv += ["--profile", profile]
    if base_url:
        argv += ["--base-url", base_url]
    if read_only:
        argv.append("--read-only")
    return shlex.join(argv)


def hash_password_command(stdin: Any = None) -> int:
    """``--hash-password``: ask for the password twice on a terminal (or read one line), print the config lines."""
    from duvo_tui.web.auth import hash_password

    source = sys.stdin if stdin is None else stdin
    if source.isatty():
        password = getpass.getpass("Password for duvo-tui serve: ")
        if password != getpass.getpass("The same again: "):
            return _error("the two passwords differ; nothing was printed")
    else:
        password = source.readline().rstrip("\r\n")
    if len(password) < 8:
        return _error("the password must have at least 8 characters")
    print("[serve]")
    print(f'password_hash = "{hash_password(password)}"')
    print("# add these lines to config.toml; duvo-tui serve then asks for the password instead of a token",
          file=sys.stderr)  # fmt: skip
    return EXIT_OK


def _check_options(args: argparse.Namespace) -> str | None:
    """What is wrong with the options (one line), or None."""
    from duvo_tui.web.runner import check_bind

    if args.max_sessions < 1:
        return "--max-sessions must be at least 1"
    if not 0 <= args.port <= 65535:
        return "--port must be between 0 and 65535"
    if (args.certfile is None) != (args.keyfile is None):
        return "--certfile and --keyfile go together"
    if args.speed <= 0:
        return "--speed must be greater than 0"
    try:
        check_bind(args.host, tls=args.certfile is not None, behind_proxy=args.behind_proxy)
    except Exception as error:
        return str(error)
    return None


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    for name in ("duvo_tui.web", "aiohttp.access", "textual-serve"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
        logger.propagate = False


def run_serve(args: argparse.Namespace) -> int:
    """Check the options, then serve the configured profile's dashboard (or the demo's) until stopped."""
    if args.hash_password:
        return hash_password_command()
    from duvo_tui.web import MISSING_EXTRA_HINT, missing_requirements

    missing = missing_requirements()
    if missing:
        return _error(f"serving needs {', '.join(missing)}, which this install lacks; {MISSING_EXTRA_HINT}")
    problem = _check_options(args)
    if problem:
        return _error(problem)
    from duvo_tui.web.runner import BindError, tls_context

    try:
        ssl_context = tls_context(args.certfile, args.keyfile) if args.certfile else None
    except BindError as error:
        return _error(str(error))
    if args.demo:
        return _serve_demo(args, ssl_context)
    return _serve_profile(args, ssl_context)


def _serve_profile(args: argparse.Namespace, ssl_context: Any) -> int:
    from duvo_tui.cli.context import load_config_from_args
    from duvo_tui.cli.secrets import register_secret
    from duvo_tui.config import missing_key_hint, resolve_profile

    config = load_config_from_args(args)
    profile = resolve_profile(config, getattr(args, "profile", None), getattr(args, "base_url", None))
    read_only = profile.read_only or bool(getattr(args, "read_only", False))
    if not profile.api_key:
        return _error(missing_key_hint(profile, config))
    register_secret(profile.api_key)
    asyncio.run(_learn_the_limit(profile))
    command = dashboard_command(
        config=getattr(args, "config", None),
        profile=profile.name,
        base_url=getattr(args, "base_url", None),
        read_only=read_only,
    )
    title = profile.label or profile.name
    return _serve(args, ssl_context, command, title, read_only, config.serve.password_hash)


def _serve_demo(args: argparse.Namespace, ssl_context: Any) -> int:
    from duvo_tui.config import load_config
    from duvo_tui.demo import DEMO_PROFILE, demo_environment

    read_only = bool(getattr(args, "read_only", False))
    with demo_environment(speed=args.speed) as env:
        asyncio.run(_seed_demo(env))
        password_hash = None
        if getattr(args, "config", None):
            from duvo_tui.cli.context import load_config_from_args

            password_hash = load_config_from_args(args).serve.password_hash
        load_config(env.config_path)  # the demo's own config must load before any session tries it
        command = dashboard_command(config=env.config_path, profile=DEMO_PROFILE, read_only=read_only)
        note = f"demo API (the embedded emulator, shared by every session): {env.emulator.base_url}"
        return _serve(args, ssl_context, command, "demo", read_only, password_hash, note=note)


async def _learn_the_limit(profile: Any) -> None:
    """One request on the key before any dashboard starts.

    The server's answer tells the key's rate limit, which goes into the shared budget so that every dashboard
    obeys it from its first request: ten tabs opened at once would otherwise each start from a guess. A key the
    API refuses stops ``serve`` here (exit status 1, the API's message) rather than in every tab.
    """
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.api.shared_budget import shared_budget_for

    budget = shared_budget_for(profile.base_url, profile.api_key)
    try:
        async with DuvoClient(profile.base_url, profile.api_key, budget=budget) as client:
            await client.get_profile()  # who the key is: a cheap read on the key
        _share_and_leave(budget)
    finally:
        close = getattr(budget, "close", None)
        if close is not None:
            close()  # this process sends nothing more: it no longer shares the budget


def _share_and_leave(budget: Any) -> None:
    share = getattr(budget, "share_limits", None)  # a plain RateBudget when the runtime dir is unusable
    if share is not None:
        share()


class _RunStarter:
    """What the demo's seeding needs of a service (``start_run``), straight over a client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def start_run(self, agent_id: str, message: str | None = None, sandbox_id: str | None = None) -> Any:
        return await self.client.start_run(agent_id, message=message, sandbox_id=sandbox_id)


async def _seed_demo(env: Any) -> None:
    """Start the demo's runs once; every session's dashboard finds them in the team's run listing."""
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.api.shared_budget import shared_budget_for
    from duvo_tui.demo import seed_demo_runs

    emulator = env.emulator
    budget = shared_budget_for(emulator.base_url, emulator.api_key)
    try:
        async with DuvoClient(emulator.base_url, emulator.api_key, budget=budget) as client:
            await seed_demo_runs(_RunStarter(client), client, emulator.agents)
        _share_and_leave(budget)
    finally:
        close = getattr(budget, "close", None)
        if close is not None:
            close()  # this process sends nothing more: it no longer shares the budget


def _serve(
    args: argparse.Namespace,
    ssl_context: Any,
    command: str,
    title: str,
    read_only: bool,
    password_hash: str | None,
    *,
    note: str | None = None,
) -> int:
    from duvo_tui.web.auth import new_token
    from duvo_tui.web.runner import RunningServer, is_loopback, serve_until_stopped
    from duvo_tui.web.server import LOOPBACK_NAMES, DashboardServer, ServeOptions

    token = None if password_hash else new_token()
    allowed_hosts = LOOPBACK_NAMES | {args.host.strip("[]").lower()} if is_loopback(args.host) else None
    options = ServeOptions(
        command=command,
        title=title,
        max_sessions=args.max_sessions,
        token=token,
        password_hash=password_hash,
        tls=ssl_context is not None,
        behind_proxy=args.behind_proxy,
        allowed_hosts=frozenset(allowed_hosts) if allowed_hosts is not None else None,
        read_only=read_only,
    )
    server = DashboardServer(options)
    _setup_logging()

    def started(running: RunningServer) -> None:
        shown = f"{title} (read-only)" if read_only else title
        print(f"duvo-tui serve: the dashboard of {shown!r}, at most {args.max_sessions} session(s) at once")
        if token:
            print(f"  open: {running.url(token)}")
            print("  (each browser that opens it gets a session cookie, and the token leaves its address bar)")
        else:
            print(f"  open: {running.url()}  and log in with the password of [serve] in the config")
        if args.behind_proxy:
            print("  behind a proxy: give people the proxy's https address, with the same ?token=...")
        if note:
            print(f"  {note}")
        print("Press Ctrl+C to stop.", flush=True)

    try:
        asyncio.run(serve_until_stopped(server, args.host, args.port, ssl_context=ssl_context, on_started=started))
    except OSError as error:
        return _error(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}")
    return EXIT_OK
