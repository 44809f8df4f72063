"""``duvo-tui agents list`` and ``duvo-tui whoami``: the Assignments and who the key belongs to.

Also :func:`assignment_choices`, used by ``runs start NAME`` to resolve a name.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duvo_tui.api.account import Agent, Profile
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.config import Profile as ConfigProfile
    from duvo_tui.service.assignments import Choice

__all__ = ["assignment_choices", "register"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``agents list`` and ``whoami``."""
    agents = subparsers.add_parser(
        "agents", help="list the Assignments", description="The team's Assignments (agents) you can start runs of."
    )
    sub = agents.add_subparsers(title="agents commands", dest="agents_command", metavar="COMMAND", required=True)
    list_ = sub.add_parser(
        "list",
        help="list the Assignments",
        description="List the Assignments by name, with their ids, last run and the profile's aliases for them.",
    )
    list_.set_defaults(handler=_list)

    whoami = subparsers.add_parser(
        "whoami", help="who the API key belongs to", description="Show the person the API key belongs to, and the team."
    )
    whoami.set_defaults(handler=_whoami)


async def assignment_choices(client: DuvoClient, profile: ConfigProfile) -> list[Choice]:
    """The Assignments the API lists (with the profile's aliases); only the aliases when it lists none."""
    from duvo_tui.api.errors import ForbiddenError, NotFoundError
    from duvo_tui.service.assignments import choices

    try:
        agents = await client.list_all_agents(urgent=True)
    except (NotFoundError, ForbiddenError):
        agents = []  # a server without the agents listing: aliases and uuids still work
    return choices(agents, profile.agents)


def _list(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import load_profile, open_client, run_async
    from duvo_tui.cli.output import emit_json, format_time, print_table

    profile = load_profile(args)

    async def go() -> list[Agent]:
        async with open_client(profile) as client:
            return await client.list_all_agents(urgent=True)

    agents = run_async(go())
    alias_of: dict[str, list[str]] = {}
    for alias, agent_id in profile.agents.items():
        alias_of.setdefault(agent_id, []).append(alias)
    if args.json:
        emit_json({"total": len(agents), "agents": agents, "aliases": profile.agents})
        return 0
    if not agents:
        print("No Assignments: this key's team has none yet.")
        return 0
    print_table(
        ("NAME", "AGENT ID", "LAST RUN", "ALIAS"),
        [
            (a.label, a.id, format_time(a.last_run_at) if a.last_run_at else "never", ", ".join(alias_of.get(a.id, [])))
            for a in agents
        ],
    )
    return 0


def _whoami(args: argparse.Namespace) -> int:
    from duvo_tui.cli.context import load_profile, open_client, run_async
    from duvo_tui.cli.output import emit_json
    from duvo_tui.text import clean_line

    profile = load_profile(args)

    async def go() -> Profile:
        async with open_client(profile) as client:
            return await client.get_profile(urgent=True)

    me = run_async(go())
    if args.json:
        emit_json({"profile": me, "base_url": profile.base_url, "config_profile": profile.name})
        return 0
    rows = [
        ("Name", me.name),
        ("Email", me.email),
        ("User id", me.id),
        ("Team", me.team_id),
        ("Server", profile.base_url),
        ("Profile", profile.name),
    ]
    for label, value in rows:
        if value:
            print(f"{label:<8} {clean_line(value, 200)}")
    return 0
