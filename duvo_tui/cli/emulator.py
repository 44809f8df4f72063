"""``duvo-tui emulator``: serve the local Duvo API emulator in the foreground."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["register", "run"]

EXIT_OK, EXIT_API, EXIT_USAGE = 0, 1, 2


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``emulator`` command."""
    parser = subparsers.add_parser(
        "emulator",
        help="serve a local Duvo API emulator (demo and test backend)",
        description="Serve a local server that behaves like the Duvo Public API, with scripted demo agents.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port to listen on; 0 picks a free one (default 8787)")
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept this key (repeatable; "
        "the first belongs to --team-id, each further key to a team of its own); default: a demo key",
    )
    parser.add_argument(
        "--admin-key",
        action="append",
        dest="admin_keys",
        metavar="KEY",
        help="accept this key as a superadmin of --team-id's team: GET /v1/runs lists every run (repeatable)",
    )
    parser.add_argument("--team-id", metavar="ID", help="team uuid of the first key (default: a fixed demo team)")
    parser.add_argument("--seed", type=int, default=0, help="seed for scenario output and faults (default 0)")
    parser.add_argument("--speed", type=float, default=1.0, help="scenario time runs X times faster (default 1)")
    parser.add_argument("--rate-limit", type=int, default=300, metavar="N", help="requests per minute per key")
    parser.add_argument("--fault-rate", type=float, default=0.0, metavar="F", help="share of requests answered 500/502")
    parser.add_argument("--latency-ms", type=int, default=0, metavar="N", help="delay added to every request")
    parser.add_argument("--webhook-secret", metavar="S", help="secret that signs webhook deliveries")
    parser.add_argument("--print-agents", action="store_true", help="print the scenario agents and exit")
    parser.set_defaults(handler=run)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    from duvo_tui.emulator.state import DEFAULT_TEAM_ID, DEFAULT_WEBHOOK_SECRET

    if args.speed <= 0:
        raise ValueError("--speed must be greater than 0")
    if not 0.0 <= args.fault_rate <= 1.0:
        raise ValueError("--fault-rate must be between 0 and 1")
    if args.rate_limit < 1:
        raise ValueError("--rate-limit must be at least 1")
    if args.latency_ms < 0:
        raise ValueError("--latency-ms must not be negative")
    if not 0 <= args.port <= 65535:
        raise ValueError("--port must be between 0 and 65535")
    options = {
        "team_id": args.team_id or DEFAULT_TEAM_ID,
        "seed": args.seed,
        "speed": args.speed,
        "rate_limit": args.rate_limit,
        "fault_rate": args.fault_rate,
        "latency_ms": args.latency_ms,
        "webhook_secret": args.webhook_secret or DEFAULT_WEBHOOK_SECRET,
    }
    if args.api_keys:
        options["api_keys"] = list(args.api_keys)
    if args.admin_keys:
        options["admin_keys"] = list(args.admin_keys)
    return options


def run(args: argparse.Namespace) -> int:
    """Print the agents, or serve until Ctrl-C."""
    from duvo_tui.emulator.scenarios import build_agents

    as_json = bool(getattr(args, "json", False))
    agents = [{"id": a.id, "name": a.name, "scenario": a.scenario, "key": a.key} for a in build_agents()]
    if args.print_agents:
        if as_json:
            print(json.dumps(agents))
        else:
            for agent in agents:
                print(f"{agent['id']}  {agent['name']:<36} {agent['key']}")
        return EXIT_OK
    try:
        options = _options(args)
    except ValueError as error:
        print(f"duvo-tui: error: {error}", file=sys.stderr)
        return EXIT_USAGE

    import asyncio

    from duvo_tui.emulator.server import bind_socket, serve_forever
    from duvo_tui.emulator.state import DEFAULT_API_KEY, EmulatorOptions
    from duvo_tui.emulator.world import World

    try:
        sock = bind_socket(args.host, args.port)
    except OSError as error:
        print(f"duvo-tui: error: cannot listen on {args.host}:{args.port}: {error.strerror}", file=sys.stderr)
        return EXIT_API
    state = World(EmulatorOptions(**options))
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{host}:{port}"
    key = state.options.api_keys[0]

    def announce() -> None:
        # Printed once uvicorn handles Ctrl-C itself, so whoever reads this may send SIGINT at once.
        if as_json:
            info = {"base_url": base_url, "api_key": key, "team_id": state.key_teams[key], "agents": agents}
            print(json.dumps(info), flush=True)
        else:
            _print_banner(base_url, key, key == DEFAULT_API_KEY, state.key_teams[key], agents)

    try:
        asyncio.run(serve_forever(state, sock, args.host, on_ready=announce))
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _print_banner(base_url: str, key: str, demo_key: bool, team_id: str, agents: list[dict[str, Any]]) -> None:
    from duvo_tui.text import mask_key

    # The demo key is public (it is in the source); a key given on the command line is the user's and is masked.
    shown = key if demo_key else mask_key(key)
    usable = key if demo_key else "YOUR_KEY"
    first = agents[0]["name"]
    lines = [
        f"Duvo API emulator on {base_url}",
        f"API key: {shown}" + ("" if demo_key else " (as given with --api-key)"),
        f"Team:    {team_id}",
        "Agents:",
        *(f"  {a['id']}  {a['name']:<36} ({a['key']})" for a in agents),
        f'Try:     DUVO_API_KEY={usable} duvo-tui runs start "{first}" --base-url {base_url}',
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)
