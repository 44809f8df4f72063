"""The polling loop: takes jobs from the scheduler at a pace the rate budget allows and applies the answers.

One loop dispatches; each job runs as its own task (a few at a time, so network latency does not cap
the request rate). The loop paces itself below the budget's non-reserved share (a token bucket), so
requests rarely queue inside the budget, the focused run's next job never waits behind a queue of
background ones, and the reserved share stays free for what a person asks for. While the budget is
paused (a 429) nothing is dispatched; the loop sleeps until the pause ends.

Failures: a transient error backs off that run only; a network error means the server is gone:
``ConnectionLost`` is emitted and the loop probes with one job at a time, slower and slower, until an
answer comes (``ConnectionRestored``). A 401 stops polling and emits ``AuthFailed``. A run the server
no longer has (``run: null`` or 404) is dropped with ``RunRemoved``. Discovery and the status of most runs
come from the run listing (:mod:`duvo_tui.service.listing`); a 404/403/422 on it means the server does not
offer it: polling falls back to one run at a time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from duvo_tui.api.errors import (
    AuthError,
    DuvoError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    ValidationError,
)
from duvo_tui.api.models import MessagePage, RunDetail, RunPage
from duvo_tui.api.status import RunStatus
from duvo_tui.service import events as ev
from duvo_tui.service.listing import RunListing, Sweep, merge_run
from duvo_tui.service.scheduler import Job, Scheduler
from duvo_tui.service.store import RunStore, TrackedRun

if TYPE_CHECKING:
    from duvo_tui.api.budget import RateBudget
    from duvo_tui.api.client import DuvoClient

__all__ = ["MESSAGE_PAGE", "Poller", "merge_run"]

log = logging.getLogger(__name__)

MESSAGE_PAGE = 50
"""Messages per request (the API's maximum)."""

_SAFETY = 0.92  # pace a little under the allowed rate: other clocks, other processes
_PROBE_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
_BUCKET = 2.0  # the pacing token bucket's size: at most two requests back to back

Emit = Callable[[ev.Event], None]


class Poller:
    """Runs the scheduler's jobs against ``client`` and turns the answers into store updates and events."""

    def __init__(
        self,
        client: DuvoClient,
        store: RunStore,
        scheduler: Scheduler,
        emit: Emit,
        *,
        team_id: str | None = None,
        concurrency: int = 3,
        clock: Callable[[], float] = time.monotonic,
        max_held: int | None = None,
    ) -> None:
        self.client = client
        self.max_held = max_held
        """The most messages held across all runs (None: no bound); see :meth:`bound_held`."""
        self.store = store
        self.scheduler = scheduler
        self.emit = emit
        self.team_id = team_id
        self.listing = RunListing(client, team_id)
        self.sweep = Sweep(store, scheduler, emit, clock)
        self.concurrency = max(1, concurrency)
        self.clock = clock
        self.auth_failed = False
        self.disconnected = False
        self.connection_attempts = 0
        self.requests_sent = 0
        self._wake = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._tokens = _BUCKET
        self._tokens_at = clock()
        self._probe_index = 0

    # ------------------------------------------------------------------ control

    def wake(self) -> None:
        """Something became due earlier than planned: look at the scheduler again now."""
        self._wake.set()

    def resume_after_auth(self) -> None:
        """The key was fixed: poll again."""
        self.auth_failed = False
        self.wake()

    async def cancel_jobs(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        """Dispatch jobs until cancelled."""
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive anything; one bad step is logged and skipped
                log.exception("polling step failed")
                await asyncio.sleep(1.0)

    async def _step(self) -> None:
        if self.auth_failed:
            await self._sleep_or_wake(3600.0)
            return
        budget = self.client.budget
        snap = budget.snapshot()
        if snap.paused_for > 0:
            await asyncio.sleep(snap.paused_for + 0.01)  # a 429: nothing goes out until retry-after
            return
        limit_in_flight = 1 if self.disconnected else self.concurrency
        if len(self._tasks) >= limit_in_flight:
            self._slot_free.clear()
            await self._slot_free.wait()
            return
        now = self.clock()
        spare = False
        if self.disconnected:
            delay = self._probe_delay()
            await asyncio.sleep(delay)
            now = self.clock()
        else:
            reserve = int(snap.limit * budget.reserve_share)
            if snap.remaining <= reserve + len(self._tasks):
                await self._sleep_or_wake(min(max(snap.resets_in, 0.05), 1.0))
                return
            wait = self._pace_wait(now, budget)
            if wait > 0:
                await asyncio.sleep(wait)
                return
            # Room for a look nobody waits for (a finished run): a full bucket (the next due job still finds a
            # token), a free connection slot after it, and the budget above the reserve with some to spare.
            spare = (
                self._tokens >= _BUCKET
                and len(self._tasks) < max(1, limit_in_flight - 1)
                and snap.remaining > reserve + len(self._tasks) + 2
            )
        job = self.scheduler.next_job(now, spare=spare)
        if job is None:
            wait = self.scheduler.seconds_until_due(now, spare=spare)
            if (
                not spare
                and not self.disconnected
                and self._tokens < _BUCKET
                and self.scheduler.seconds_until_due(now, spare=True) == 0
            ):
                # A finished run's look is due and waits for spare room: look again once the bucket is full
                # (a finished job wakes the loop too).
                wait = min(wait, (_BUCKET - self._tokens) / self._rate(budget))
            await self._sleep_or_wake(wait)
            return
        self._take_token()
        task = asyncio.get_running_loop().create_task(self._execute(job))
        self._tasks.add(task)
        task.add_done_callback(self._job_finished)

    def _job_finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slot_free.set()
        self._wake.set()  # its answer may have made something due at once (the next page of a backlog)

    async def _sleep_or_wake(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)  # always yield: a step that finds nothing to send must not spin the loop
            return
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel that arrives as the event is
        # set, and the loop then outlives service.close() (which waits for it forever).
        try:
            async with asyncio.timeout(seconds):
                await self._wake.wait()
        except TimeoutError:
            pass
        self._wake.clear()

    def _rate(self, budget: RateBudget) -> float:
        """Background requests a second: the budget's share that is not reserved for urgent calls, less a margin."""
        return max(0.05, budget.limit * (1 - budget.reserve_share) * _SAFETY / max(budget.window, 1.0))

    def _pace_wait(self, now: float, budget: RateBudget) -> float:
        rate = self._rate(budget)
        self._tokens = min(_BUCKET, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / rate

    def _take_token(self) -> None:
        self._tokens -= 1.0
        self.requests_sent += 1

    def _probe_delay(self) -> float:
        delay = _PROBE_DELAYS[min(self._probe_index, len(_PROBE_DELAYS) - 1)]
        self._probe_index += 1
        return delay

    # ------------------------------------------------------------------ one job

    async def _execute(self, job: Job) -> None:
        try:
            if job.kind == "status":
                detail = await self.client.get_run(job.run_id or "")
                self._connected()
                self.apply_detail(job.run_id or "", detail)
            elif job.kind == "messages":
                await self._fetch_messages(job)
            else:
                status = RunStatus.WAITING if job.kind == "waiting_sweep" else None
                page = await self.listing.page(offset=job.offset, status=status)
                self._connected()
                self.apply_sweep(job, page)
        except asyncio.CancelledError:
            self.scheduler.released(job)
            raise
        except DuvoError as error:
            self._failed(job, error)
        except Exception:
            log.exception("polling job %s failed", job)
            self.scheduler.failed(job, self.clock(), transient=True)

    async def _fetch_messages(self, job: Job) -> None:
        tracked = self.store.get(job.run_id or "")
        if tracked is None:
            self.scheduler.released(job)
            return
        offset = tracked.held
        page = await self.client.list_messages(tracked.id, limit=MESSAGE_PAGE, offset=offset)
        self._connected()
        self.apply_messages(tracked.id, offset, page)

    def _failed(self, job: Job, error: DuvoError) -> None:
        now = self.clock()
        if isinstance(error, AuthError):
            self.scheduler.released(job)
            if not self.auth_failed:
                self.auth_failed = True
                self.emit(ev.AuthFailed(str(error)))
            return
        if isinstance(error, NetworkError):
            self.scheduler.released(job)
            self.connection_attempts += 1
            self.disconnected = True
            retry_in = _PROBE_DELAYS[min(self._probe_index, len(_PROBE_DELAYS) - 1)]
            self.emit(ev.ConnectionLost(error.message, attempt=self.connection_attempts, retry_in=retry_in))
            return
        if isinstance(error, RateLimitedError):
            self.scheduler.released(job)  # the budget is paused; the loop waits it out
            return
        self._connected()  # the server answered, even if with an error
        if job.kind in ("sweep", "waiting_sweep"):
            if isinstance(error, (NotFoundError, ForbiddenError, ValidationError)):
                log.info("%s is not available (%s); polling runs one by one", self.listing.name, error)
                self.scheduler.released(job)
                self.scheduler.set_team_listing(False, now)
                return
            self.scheduler.failed(job, now, transient=error.transient)
            return
        if isinstance(error, NotFoundError) and job.kind == "status":
            self.scheduler.released(job)
            self.drop_run(job.run_id or "", "the server no longer has this run")
            return
        self.scheduler.failed(job, now, transient=error.transient)
        if not error.transient and job.run_id:
            self.emit(ev.RunError(job.run_id, str(error)))

    def _connected(self) -> None:
        self._probe_index = 0
        if self.disconnected:
            self.disconnected = False
            self.connection_attempts = 0
            self.emit(ev.ConnectionRestored())

    # ------------------------------------------------------------------ applying answers

    def drop_run(self, run_id: str, reason: str) -> None:
        tracked = self.store.remove(run_id)
        self.scheduler.remove_run(run_id)
        if tracked is None:
            return
        if tracked.pending is not None:
            self.emit(ev.HumanRequestResolved(run_id, tracked.pending.id))
        self.emit(ev.RunRemoved(run_id, reason))

    def apply_detail(self, run_id: str, detail: RunDetail, *, poll: bool = True) -> None:
        """A ``GET /v1/runs/{id}`` answer: update the run and its pending request, emitting what changed."""
        now = self.clock()
        tracked = self.store.get(run_id)
        if tracked is None:
            if poll:
                self.scheduler.released(Job("status", run_id))
            return
        if detail.run is None:
            self.drop_run(run_id, "the server no longer has this run")
            return
        old = tracked.run
        new = merge_run(old, detail.run)
        changed = new != old
        if changed:
            tracked.run = new
            self.store.mark_dirty()
            self.emit(ev.RunChanged(new, previous_status=old.status))
        self._set_pending(tracked, detail)
        if poll:
            self.scheduler.status_done(run_id, now, new.status, changed)

    def _set_pending(self, tracked: TrackedRun, detail: RunDetail) -> None:
        request = detail.pending_human_request
        current = tracked.pending
        if request is not None and (current is None or current.id != request.id):
            if current is not None:
                self.emit(ev.HumanRequestResolved(tracked.id, current.id))
            tracked.pending = request
            self.store.mark_dirty()
            self.emit(ev.HumanRequestAppeared(request))
        elif request is None and current is not None:
            tracked.pending = None
            self.store.mark_dirty()
            self.emit(ev.HumanRequestResolved(tracked.id, current.id))

    def apply_messages(self, run_id: str, offset: int, page: MessagePage) -> None:
        """A messages page fetched at ``offset``: append what is new, exactly once and in order."""
        now = self.clock()
        tracked = self.store.get(run_id)
        if tracked is None:
            return
        if tracked.held != offset or page.offset != offset:
            # Not the page we asked for (the run was reset meanwhile, or the server ignored the offset).
            self.scheduler.messages_done(run_id, now, got=0, backlog=tracked.held < page.total)
            return
        new = page.messages
        start = tracked.held
        if new:
            tracked.messages.extend(new)
        if page.total != tracked.message_total:
            tracked.message_total = page.total
            self.store.mark_dirty()
        if new:
            self.emit(ev.MessagesAppended(run_id, start, tuple(new), max(page.total, tracked.held)))
        backlog = bool(new) and tracked.held < page.total
        self.scheduler.messages_done(run_id, now, got=len(new), backlog=backlog)
        if new:
            self.bound_held()

    def bound_held(self) -> list[str]:
        """Drop the messages of the runs looked at least recently (never the focused run's) while more
        than ``max_held`` are held; a dropped run is no longer followed, so it is not fetched again
        until it is focused (and then paged in from the start). Returns the ids dropped."""
        if self.max_held is None:
            return []
        dropped = self.store.drop_messages(self.max_held, keep=self.scheduler.focused)
        for run_id in dropped:
            self.scheduler.unfollow(run_id)
        if dropped:
            log.debug("dropped the messages of %d runs (bound %d)", len(dropped), self.max_held)
        return dropped

    def apply_sweep(self, job: Job, page: RunPage) -> None:
        """A listing page: discover new runs, and mark those that changed or wait for a person (:class:`Sweep`)."""
        self.sweep.apply(job, page)
