"""The run listing sweep: one request reads the status and ``updated_at`` of up to 100 runs.

This is how runs are discovered (started anywhere: the web app, a schedule, a script) and how their status
is kept fresh without a request per run. The listing is ``GET /v1/runs`` (the key's runs, no configuration),
or ``GET /v2/teams/{team}/runs`` when a team id is configured. :class:`RunListing` reads a page;
:class:`Sweep` applies one to the tracked runs, telling the scheduler which runs changed and which need a
closer look (a pending request to read, a precise final status).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from duvo_tui.api.models import Run, RunPage
from duvo_tui.api.status import RunStatus
from duvo_tui.service import events as ev
from duvo_tui.service.scheduler import TEAM_PAGE, Job, Scheduler
from duvo_tui.service.store import RunStore

__all__ = ["RunListing", "Sweep", "listed_status", "merge_run"]


def merge_run(old: Run, new: Run) -> Run:
    """``new`` with what it lacks taken from ``old`` (the listing has no sandbox id; get_run has no title)."""
    return dataclasses.replace(
        new,
        title=new.title or old.title,
        agent_name=new.agent_name or old.agent_name,
        run_number=new.run_number or old.run_number,
        user_id=new.user_id or old.user_id,
        sandbox_id=new.sandbox_id or old.sandbox_id,
        build_id=new.build_id or old.build_id,
        human_in_the_loop_enabled=new.human_in_the_loop_enabled or old.human_in_the_loop_enabled,
    )


def listed_status(known: RunStatus, listed: RunStatus) -> RunStatus:
    """The listing has no ``stopped`` or ``needs_attention``: keep the precise status we know."""
    if listed == RunStatus.INTERRUPTED and known == RunStatus.STOPPED:
        return known
    if listed == RunStatus.RUNNING and known == RunStatus.NEEDS_ATTENTION:
        return known
    return listed


class RunListing:
    """Reads pages of the run listing: ``GET /v1/runs``, or the team's listing when ``team_id`` is given."""

    def __init__(self, client: Any, team_id: str | None = None) -> None:
        self.client = client
        self.team_id = team_id or None

    @property
    def name(self) -> str:
        return "the team listing" if self.team_id else "the run listing"

    async def page(self, *, offset: int = 0, status: str | RunStatus | None = None, urgent: bool = False) -> RunPage:
        """One page of up to :data:`TEAM_PAGE` runs, newest first."""
        if self.team_id:
            page: RunPage = await self.client.list_team_runs(
                self.team_id, limit=TEAM_PAGE, offset=offset, status=status, urgent=urgent
            )
        else:
            page = await self.client.list_runs(limit=TEAM_PAGE, offset=offset, status=status, urgent=urgent)
        return page

    async def probe(self) -> None:
        """Read one run of the listing now: raises (``ForbiddenError`` and the like) when the key may not."""
        if self.team_id:
            await self.client.list_team_runs(self.team_id, limit=1, urgent=True)
        else:
            await self.client.list_runs(limit=1, urgent=True)


class Sweep:
    """Applies listing pages to the tracked runs and the scheduler, emitting what changed."""

    def __init__(
        self, store: RunStore, scheduler: Scheduler, emit: Callable[[ev.Event], None], clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.scheduler = scheduler
        self.emit = emit
        self.clock = clock

    def apply(self, job: Job, page: RunPage) -> None:
        """A listing page: discover new runs, and mark those that changed or wait for a person."""
        now = self.clock()
        for row in page.runs:
            tracked = self.store.get(row.id)
            if tracked is None:
                tracked, _ = self.store.add(row, origin="team", agent_name=row.agent_name)
                self.scheduler.add_run(row.id, row.status, now)
                self.scheduler.swept(row.id, now, row.status, True, needs_detail=row.status == RunStatus.WAITING)
                self.emit(ev.RunAdded(row, agent_name=row.agent_name))
                continue
            old = tracked.run
            status = listed_status(old.status, row.status)
            changed = row.updated_at != old.updated_at or status != old.status
            needs_detail = False
            if changed:
                new = merge_run(old, dataclasses.replace(row, status=status))
                if status != old.status and (status == RunStatus.WAITING or status.is_finished):
                    needs_detail = True  # read the pending request / the precise final status
                if new != old:
                    tracked.run = new
                    if row.agent_name and not tracked.agent_name:
                        tracked.agent_name = row.agent_name
                    self.store.mark_dirty()
                    self.emit(ev.RunChanged(new, previous_status=old.status))
            if status == RunStatus.WAITING and tracked.pending is None:
                needs_detail = True
            if status != RunStatus.WAITING and tracked.pending is not None:
                needs_detail = True
            self.scheduler.swept(row.id, now, status, changed, needs_detail=needs_detail)
        if job.kind == "waiting_sweep" and page.total <= len(page.runs):
            # The complete list of waiting runs: one not on it has stopped waiting, nothing to fetch.
            listed = {row.id for row in page.runs}
            for run_id, timer in self.scheduler.timers.items():
                if timer.needs_detail and run_id not in listed and timer.status == RunStatus.WAITING:
                    timer.needs_detail = False
        self.scheduler.sweep_done(job, now, total=page.total)
