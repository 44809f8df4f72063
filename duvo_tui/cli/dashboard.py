"""``duvo-tui`` (no command): the dashboard for the configured profile; ``duvo-tui demo``: the same on a local
emulator with a few runs going.

Textual, httpx and the service are imported inside the handlers so ``duvo-tui --help`` stays fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = [
    "default_handler",
    "register",
    "register_options",
    "run_dashboard",
    "run_demo",
    "run_until_signalled",
    "webhook_options",
]

EXIT_OK, EXIT_USAGE = 0, 2

WEBHOOK_SECRET_ENV = "DUVO_WEBHOOK_SECRET"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` command (the dashboard itself is the default when no command is given)."""
    parser = subparsers.add_parser(
        "demo",
        help="open the dashboard on a local emulator with a few demo runs",
        description="Start the embedded emulator on a free loopback port, start a few demo runs and open the "
        "dashboard on them. Nothing is left running or written outside a temporary folder.",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="scenario time runs X times faster (default 1)")
    parser.add_argument("--seed", type=int, default=7, help="seed for the scenarios' content (default 7)")
    parser.add_argument("--no-runs", action="store_true", help="start no runs (an empty dashboard)")
    parser.set_defaults(handler=run_demo, full_screen=True)


def register_options(parser: argparse.ArgumentParser) -> None:
    """Add the dashboard's own options (given without a command) to the top-level parser."""
    group = parser.add_argument_group("dashboard options")
    group.add_argument(
        "--webhook-listen",
        metavar="HOST:PORT",
        default=None,
        help="receive signed run webhooks on HOST:PORT (or :PORT on 127.0.0.1); needs a secret",
    )
    group.add_argument(
        "--webhook-secret",
        metavar="SECRET",
        default=None,
        help=f"the secret webhooks are signed with (default: ${WEBHOOK_SECRET_ENV})",
    )


def webhook_options(args: argparse.Namespace, env: Any = None) -> tuple[str | None, str | None]:
    """``(listen, secret)`` from the flags (the secret falls back to ``$DUVO_WEBHOOK_SECRET``).

    ``listen`` is normalised to ``HOST:PORT`` (host 127.0.0.1 unless one is given). Raises
    :class:`~duvo_tui.cli.context.UsageError` for a bad address or a listener without a secret.
    """
    from duvo_tui.cli.context import UsageError
    from duvo_tui.service.webhooks import parse_listen

    environ = os.environ if env is None else env
    listen = getattr(args, "webhook_listen", None)
    secret = getattr(args, "webhook_secret", None) or environ.get(WEBHOOK_SECRET_ENV) or None
    if listen is None:
        return None, secret
    try:
        host, port = parse_listen(listen)
    except ValueError as exc:
        raise UsageError(f"--webhook-listen: {exc}") from None
    if not secret:
        raise UsageError(f"--webhook-listen needs a secret: give --webhook-secret or set {WEBHOOK_SECRET_ENV}")
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}", secret


def _no_key_message(profile: Any, config: Any) -> str:
    from duvo_tui.config import missing_key_hint

    return (
        f"duvo-tui: {missing_key_hint(profile, config)}\n"
        "  for example:  export DUVO_API_KEY=dv_...   (then run duvo-tui again)\n"
        "  or try it first without an account:  duvo-tui demo"
    )


def build_service(
    profile: Any, client: Any, *, webhook_listen: str | None = None, webhook_secret: str | None = None
) -> Any:
    """The polling service for ``profile`` over ``client``, keeping its state in the state dir."""
    from duvo_tui import locations
    from duvo_tui.service.service import DuvoService, ServiceSettings

    settings = ServiceSettings.from_profile(profile)
    if webhook_listen:
        settings.webhook_listen = webhook_listen
        settings.webhook_secret = webhook_secret
    return DuvoService(client, settings=settings, state_dir=locations.state_dir(), team_id=profile.team_id)


def _run_app(
    profile: Any,
    config: Any,
    config_path: Any,
    on_ready: Callable[[Any, Any], Awaitable[None]] | None = None,
    *,
    webhook: tuple[str | None, str | None] = (None, None),
    debug_log: Any = None,
) -> int:
    from duvo_tui.cli.debug_log import shown_path
    from duvo_tui.config import set_theme
    from duvo_tui.ui.app import make_app

    clients: list[Any] = []

    def service_factory() -> Any:
        # Called by the app after its first frame, so httpx and the service load while the screen shows.
        from duvo_tui.api.client import DuvoClient
        from duvo_tui.api.shared_budget import shared_budget_for
        from duvo_tui.readonly_client import guard_client

        budget = shared_budget_for(profile.base_url, profile.api_key)
        client = guard_client(DuvoClient(profile.base_url, profile.api_key, budget=budget), profile)
        clients.append(client)
        return build_service(profile, client, webhook_listen=webhook[0], webhook_secret=webhook[1])

    async def close_client() -> None:
        for client in clients:
            await client.aclose()

    def save_theme(theme: str) -> None:
        set_theme(theme, config_path)

    ready = (lambda svc: on_ready(svc, clients[0])) if on_ready is not None else None
    app = make_app(
        service_factory,
        profile,
        theme=config.theme,
        keymap=config.keys or None,
        save_theme=save_theme,
        on_close=close_client,
        on_ready=ready,
        debug_log=shown_path(debug_log) if debug_log is not None else None,
    )
    return run_until_signalled(app)


SIGNAL_EXIT = {"SIGTERM": 0, "SIGHUP": 128 + 1}
"""Exit status after each signal that ends the dashboard cleanly: SIGTERM is a request to stop (a service
manager, ``timeout``, ``kill``): 0. SIGHUP means the terminal went away (or a lost terminal, without one): 129,
as a shell reports a hang-up."""


def exit_status(signum: int) -> int:
    import signal

    return SIGNAL_EXIT.get(signal.Signals(signum).name, 128 + signum)


def run_until_signalled(app: Any) -> int:
    """Run ``app`` until it exits, SIGTERM/SIGHUP arrives or its terminal goes away; then it closes as on ``q``.

    Without this a signal kills the process where it stands: the terminal stays in the alternate screen with
    mouse reporting and raw mode on, and the session and the open drafts are not saved; and a terminal that
    goes away (a dropped SSH connection, a killed tmux session) leaves a process that never ends. Here each asks
    the app to exit, so it unmounts (saving the session and drafts), closes the service and restores the
    terminal; if that has not finished within a few seconds the process ends anyway (see :mod:`.hangup`).
    The exit status is :data:`SIGNAL_EXIT`'s, or 1 when the app failed.
    """
    import asyncio
    import signal

    from duvo_tui.cli.hangup import StopGuard

    guard = StopGuard(app, exit_status)

    async def run() -> Any:
        signals = [getattr(signal, name) for name in SIGNAL_EXIT if hasattr(signal, name)]
        guard.install(asyncio.get_running_loop(), signals)
        try:
            return await app.run_async()
        finally:
            guard.uninstall()

    result = asyncio.run(run())
    if app.return_code and not guard.ended_by:
        return int(app.return_code)  # the app failed (Textual printed why): never report success
    if guard.ended_by:
        return exit_status(guard.ended_by[0])
    return int(result or 0)


def run_dashboard(args: argparse.Namespace) -> int:
    """Open the dashboard for the profile the global options select."""
    from duvo_tui.cli.context import load_config_from_args
    from duvo_tui.cli.secrets import register_secret
    from duvo_tui.config import resolve_profile
    from duvo_tui.ui.session import last_profile

    webhook = webhook_options(args)
    if webhook[1]:
        register_secret(webhook[1])
    config = load_config_from_args(args)
    name = getattr(args, "profile", None) or last_profile(config)  # the profile shown last time
    profile = resolve_profile(config, name, getattr(args, "base_url", None))
    if getattr(args, "read_only", False):
        profile.read_only = True
    if not profile.api_key:
        print(_no_key_message(profile, config), file=sys.stderr)
        return EXIT_USAGE
    register_secret(profile.api_key)
    config_path = getattr(args, "config", None) or config.path
    return _run_app(profile, config, config_path, webhook=webhook, debug_log=getattr(args, "debug_log", None))


default_handler = run_dashboard
"""What bare ``duvo-tui`` runs."""


def run_demo(args: argparse.Namespace) -> int:
    """The dashboard on a fresh local emulator, with demo runs; everything is stopped and removed on exit."""
    from duvo_tui.config import load_config, resolve_profile
    from duvo_tui.demo import DEMO_PROFILE, demo_environment, seed_demo_runs

    if args.speed <= 0:
        print("duvo-tui: error: --speed must be greater than 0", file=sys.stderr)
        return EXIT_USAGE
    with demo_environment(speed=args.speed, seed=args.seed) as env:
        config = load_config(env.config_path)
        profile = resolve_profile(config, DEMO_PROFILE, env={})
        profile.read_only = profile.read_only or bool(getattr(args, "read_only", False))
        agents = env.emulator.agents

        async def seed(service: Any, client: Any) -> None:
            if not args.no_runs:
                await seed_demo_runs(service, client, agents)

        return _run_app(profile, config, env.config_path, on_ready=seed, debug_log=getattr(args, "debug_log", None))
