"""The runs this machine tracks (the dashboard's state folder), as the command line reads and adds to them."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.api.models import Run
    from duvo_tui.config import Profile
    from duvo_tui.service.service import DuvoService

__all__ = ["local_service", "remember", "tracked_runs"]


def local_service(profile: Profile, client: DuvoClient) -> DuvoService:
    """The service over the state dir, its tracked runs loaded but no loop started: the dashboard's local state."""
    from duvo_tui import locations
    from duvo_tui.cli.context import warn_if_state_exposed
    from duvo_tui.service.service import DuvoService, ServiceSettings

    service = DuvoService(
        client, settings=ServiceSettings.from_profile(profile), state_dir=locations.state_dir(), team_id=profile.team_id
    )
    service.store.load()
    warn_if_state_exposed(locations.state_dir())
    return service


def remember(profile: Profile, client: DuvoClient, run: Run) -> None:
    """Track a run started here in the local state, so that the dashboard and ``runs list`` show it."""
    try:
        local_service(profile, client).remember(run)
    except Exception as error:  # the run is started: that must be reported whatever happens to the record
        import sys

        from duvo_tui.text import clean_line

        print(f"duvo-tui: warning: the run was not recorded locally: {clean_line(str(error), 200)}", file=sys.stderr)


async def tracked_runs(profile: Profile, client: DuvoClient, status: str | None) -> list[Run]:
    """The runs tracked on this machine, newest first, each with its status as the server says it now."""
    from duvo_tui.api.errors import NotFoundError
    from duvo_tui.api.status import RunStatus

    tracked = [t.run for t in local_service(profile, client).runs()]
    gate = asyncio.Semaphore(4)

    async def fresh(run: Run) -> Run:
        async with gate:
            try:
                detail = await client.get_run(run.id, urgent=True)
            except NotFoundError:
                return dataclasses.replace(run, status=RunStatus("gone"))
        if detail.run is None:
            return dataclasses.replace(run, status=RunStatus("gone"))
        # The listing's title and agent name are not in GET /v1/runs/{id}; keep what was known.
        known = detail.run
        return dataclasses.replace(known, title=known.title or run.title, agent_name=known.agent_name or run.agent_name)

    runs = list(await asyncio.gather(*(fresh(run) for run in tracked)))
    if status:
        runs = [run for run in runs if run.status == status]
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(runs, key=lambda run: run.created_at or epoch, reverse=True)
