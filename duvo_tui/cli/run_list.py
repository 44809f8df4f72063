"""``duvo-tui runs list``: the key's runs from the run listing, with each run's Assignment and title.

The listing is ``GET /v1/runs`` (no configuration), or the team's listing when the profile has a
``team_id``. A server without ``/v1/runs`` falls back to the runs tracked on this machine, each fetched now.
A run without an Assignment name gets it from ``GET /v1/agents``; one without a title shows its first
message.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.api.models import Run
    from duvo_tui.config import Profile

__all__ = ["list_runs"]

_FIRST_MESSAGES = 25
"""At most this many runs without a title get their first message fetched (one request each)."""


def list_runs(args: argparse.Namespace, profile: Profile) -> int:
    from duvo_tui.cli.context import open_client, run_async
    from duvo_tui.cli.output import emit_json, format_time, print_table

    async def go() -> tuple[list[Run], int, str, dict[str, str]]:
        from duvo_tui.api.errors import ForbiddenError, NotFoundError
        from duvo_tui.service.listing import RunListing

        async with open_client(profile) as client:
            listing = RunListing(client, profile.team_id)
            try:
                page = await listing.page(status=args.status, urgent=True)
                runs, total, source = list(page.runs), page.total, "team" if profile.team_id else "runs"
            except (NotFoundError, ForbiddenError):
                if profile.team_id:
                    raise  # a configured team the key cannot list is a mistake to show, not to hide
                from duvo_tui.cli.local_state import tracked_runs

                runs = await tracked_runs(profile, client, args.status)
                total, source = len(runs), "local"
            runs = await _with_agent_names(client, profile, runs)
            first = {} if args.json else await _first_messages(client, [r for r in runs if not r.title])
            return runs, total, source, first

    runs, total, source, first = run_async(go())
    if args.json:
        emit_json({"source": source, "total": total, "runs": runs})
        return 0
    if not runs:
        status = f" with status {args.status}" if args.status else ""
        where = {"team": f"in team {profile.team_id}", "local": "tracked on this machine"}.get(source, "for this key")
        print(f"No runs{status} {where}.")
        return 0
    print_table(
        ("RUN", "STATUS", "ASSIGNMENT", "TITLE", "CREATED"),
        [
            (r.id, r.status, r.agent_name or r.agent_id[:8], r.title or first.get(r.id, ""), format_time(r.created_at))
            for r in runs
        ],
    )
    if total > len(runs):
        print(f"({len(runs)} of {total} shown)")
    return 0


async def _with_agent_names(client: DuvoClient, profile: Profile, runs: list[Run]) -> list[Run]:
    """Runs whose listing row had no ``agent_name`` get the name ``GET /v1/agents`` gives (else the alias)."""
    if all(r.agent_name for r in runs):
        return runs
    from duvo_tui.api.errors import DuvoError

    names = {agent_id: alias for alias, agent_id in profile.agents.items()}
    try:
        names.update({a.id: a.name for a in await client.list_all_agents(urgent=True) if a.name})
    except DuvoError:
        pass  # names are a comfort: the ids are still shown
    return [r if r.agent_name else dataclasses.replace(r, agent_name=names.get(r.agent_id)) for r in runs]


async def _first_messages(client: DuvoClient, runs: list[Run]) -> dict[str, str]:
    """Run id -> the text of its first message, for runs without a title (a few at a time)."""
    from duvo_tui.api.errors import DuvoError

    gate = asyncio.Semaphore(4)

    async def first(run: Run) -> tuple[str, str]:
        async with gate:
            try:
                page = await client.list_messages(run.id, limit=1, urgent=True)
            except DuvoError:
                return run.id, ""
        text = next((m.text_content for m in page.messages if m.text_content), "")
        return run.id, text or ""

    return dict(await asyncio.gather(*(first(r) for r in runs[:_FIRST_MESSAGES])))
