"""DuvoService: the one facade the UI and the CLI use.

It owns the tracked runs (:mod:`store`), the plan of requests (:mod:`scheduler`), the polling loop
(:mod:`poller`) and, when enabled, the webhook receiver (:mod:`webhooks`). Subscribers get every
:mod:`events` event as a plain callback on the service's loop; a callback that raises is logged and
does not stop the service. Commands (start, track, post, respond, stop) go out as urgent requests,
which use the budget's reserved share, and make the run they touch due for a look at once.

A command-line follower, for example::

    service = DuvoService(client, state_dir=None)          # no state file: nothing persists
    service.subscribe(lambda e: isinstance(e, MessagesAppended) and print_messages(e.messages))
    await service.start()
    await service.track(run_id)
    service.focus(run_id)                                   # status + new messages about once a second
    ... wait until service.run(run_id).run.status.is_finished ...
    await service.close()

and ``runs list``: ``await service.start(); runs = await service.sync_once(status)``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from duvo_tui import locations
from duvo_tui.api.account import Agent, Profile
from duvo_tui.api.models import HumanRequest, Message, Run, Sandbox, SandboxFile
from duvo_tui.api.status import RunStatus
from duvo_tui.service import events as ev
from duvo_tui.service.drafts import DraftStore
from duvo_tui.service.poller import Poller, merge_run
from duvo_tui.service.responder import Outcome, Submission, answer
from duvo_tui.service.scheduler import TEAM_PAGE, Job, Scheduler, SchedulerSettings
from duvo_tui.service.store import RunStore, TrackedRun, state_file_for

if TYPE_CHECKING:
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.config import Profile as ConfigProfile
    from duvo_tui.config import WatchFolder
    from duvo_tui.service.uploads import Uploads

__all__ = ["DuvoService", "ServiceSettings", "TrackedRun"]

log = logging.getLogger(__name__)

Subscriber = Callable[[ev.Event], Any]

_BUDGET_TICK = 1.0
"""Seconds between two looks at what time alone changes in the budget (the sliding count, the reset)."""


@dataclass
class ServiceSettings:
    """How the service polls and listens: the scheduler's intervals and these."""

    schedule: SchedulerSettings = dataclasses.field(default_factory=SchedulerSettings)
    """The intervals the scheduler plans requests with (a person's ``[poll]`` among them)."""
    concurrency: int = 3
    """Requests in flight at once."""
    save_interval: float = 2.0
    """The tracked runs are written to disk at most this often."""
    team_id: str | None = None
    """List runs with this team's listing instead of ``GET /v1/runs``; DuvoService(team_id=...) wins."""
    run_listing: bool = True
    """Discover runs and sweep their status with the run listing. False: only the runs tracked here are
    polled, one by one (what happens anyway when a server does not offer the listing)."""
    webhook_listen: str | None = None
    """``HOST:PORT`` to receive signed webhooks on (off when None; loopback unless a host is given)."""
    webhook_secret: str | None = None
    """The secret the webhooks are signed with (required to accept any)."""
    webhook_url: str | None = None
    """The URL given to runs started here (default: ``http://HOST:PORT/webhooks`` of the listener)."""
    webhook_tolerance: float = 300.0
    """Webhooks whose timestamp is further from now than this are refused."""
    max_held_messages: int | None = 25_000
    """The most messages held in memory across all runs (None: no bound). Past it, the messages of the
    runs looked at least recently are dropped (never the focused run's) and paged in again when focused.
    25,000 is six times what the 20-minute soak held (151 runs) and, at the ~6 KB a message of the
    emulator's ``chatty`` scenario costs (large tool arguments), about 160 MB at worst."""

    @classmethod
    def from_profile(cls, profile: ConfigProfile) -> ServiceSettings:
        """Settings from a config profile: its ``[poll]`` intervals (each bound kept) and its ``team_id``."""
        return cls(schedule=SchedulerSettings(poll=profile.poll.ordered()), team_id=profile.team_id)


def _budget_shown(event: ev.BudgetChanged) -> tuple[Any, ...]:
    """What of the budget a person sees (whole seconds): a new event only when one of these changes."""
    resets = None if event.server_resets_in is None else math.ceil(event.server_resets_in)
    return (
        event.used,
        event.limit,
        event.remaining,
        math.ceil(event.paused_for),
        event.processes,
        event.recent,
        event.server_remaining,
        resets,
        event.others,
    )


class DuvoService:
    """Keeps the tracked runs fresh within the rate budget and tells subscribers what changed."""

    def __init__(
        self,
        client: DuvoClient,
        settings: ServiceSettings | None = None,
        state_dir: Path | None = None,
        team_id: str | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.settings = settings or ServiceSettings()
        self.team_id = team_id or self.settings.team_id
        account = self.team_id or getattr(client, "masked_key", "") or ""
        path = state_file_for(state_dir, getattr(client, "base_url", ""), account) if state_dir else None
        self.store = RunStore(path)
        self.drafts: DraftStore | None = DraftStore(state_dir) if state_dir else None
        """Answers in progress, kept until the server confirmed them (None: nothing persists)."""
        self.scheduler = Scheduler(self.settings.schedule)
        self.clock = clock
        self.poller = Poller(
            client,
            self.store,
            self.scheduler,
            self._emit,
            team_id=self.team_id,
            concurrency=self.settings.concurrency,
            clock=clock,
            max_held=self.settings.max_held_messages,
        )
        self.webhooks: Any = None
        self._subscribers: list[Subscriber] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._key_retry: asyncio.Task[None] | None = None
        self._remove_budget_listener: Callable[[], None] | None = None
        self._budget_shown: tuple[Any, ...] | None = None
        self._started = False
        self.profile: Profile | None = None
        self._assignments: list[Agent] | None = None
        """Who the key belongs to, once the server said (``GET /v1/profile``)."""
        self._uploads: Uploads | None = None
        """Files chosen by path and the watched folders: made when first asked for, closed with the service."""

    # ------------------------------------------------------------------ events

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, event: ev.Event) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:  # a subscriber's bug must not stop the service
                log.exception("event subscriber failed on %s", type(event).__name__)

    def _on_budget(self, snap: Any) -> None:
        event = ev.BudgetChanged(
            used=snap.used,
            limit=snap.limit,
            remaining=snap.remaining,
            resets_in=snap.resets_in,
            paused_for=snap.paused_for,
            processes=getattr(snap, "processes", 1),
            recent=getattr(snap, "recent", 0),
            window=getattr(snap, "window", 60.0),
            server_remaining=getattr(snap, "server_remaining", None),
            server_resets_in=getattr(snap, "server_resets_in", None),
            others=getattr(snap, "others", 0),
        )
        shown = _budget_shown(event)
        if shown == self._budget_shown:
            return
        self._budget_shown = shown
        self._emit(event)

    async def _budget_loop(self) -> None:
        """Tell subscribers about the budget as time alone changes it: the count of recent requests falls
        as they age out, the server's reset counts down. Nothing is emitted while nothing shown changes."""
        budget = self.client.budget
        while True:
            await asyncio.sleep(_BUDGET_TICK)
            self._on_budget(budget.snapshot())

    # ------------------------------------------------------------------ life

    async def start(self) -> None:
        """Load the tracked runs, start polling (and the webhook receiver when configured)."""
        if self._started:
            return
        self._started = True
        self.store.load()
        if self.store.path is not None:
            exposed = locations.state_exposure(self.store.path.parent)
            if exposed:
                self._emit(ev.Notice(exposed, level="warning", title="Saved state readable by others"))
        now = self.clock()
        for tracked in self.store.all():
            self.scheduler.add_run(tracked.id, tracked.status, now)
            if tracked.status == RunStatus.WAITING or tracked.status.is_finished:
                # Look once: things may have moved while duvo-tui was not running.
                self.scheduler.poke(tracked.id, now, messages=False)
        # The run listing finds runs started anywhere and sweeps their status (no team id needed).
        if self.settings.run_listing:
            self.scheduler.set_team_listing(True, now)
        budget = getattr(self.client, "budget", None)
        watch_budget = budget is not None and hasattr(budget, "add_listener")
        if budget is not None and watch_budget:
            self._remove_budget_listener = budget.add_listener(self._on_budget)
        if self.settings.webhook_listen:
            from duvo_tui.service.webhooks import WebhookReceiver

            self.webhooks = WebhookReceiver(
                self.settings.webhook_listen,
                self.settings.webhook_secret or "",
                on_event=self._on_webhook,
                tolerance=self.settings.webhook_tolerance,
            )
            await self.webhooks.start()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self.poller.run()),
            loop.create_task(self._save_loop()),
            loop.create_task(self._identify()),
        ]
        if watch_budget:
            self._tasks.append(loop.create_task(self._budget_loop()))

    async def close(self) -> None:
        """Stop every loop and write the tracked runs."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.poller.cancel_jobs()
        if self.webhooks is not None:
            await self.webhooks.close()
            self.webhooks = None
        if self._remove_budget_listener is not None:
            self._remove_budget_listener()
            self._remove_budget_listener = None
        if self._uploads is not None:
            await self._uploads.close()
            self._uploads = None
        if self._started:
            self.store.save()
        self._started = False

    async def _identify(self) -> None:
        """The first request: who the key is (the header's connection state follows its outcome)."""
        from duvo_tui.service.identity import identify

        def refused() -> bool:
            news = not self.poller.auth_failed
            self.poller.auth_failed = True
            return news

        self.profile = await identify(
            self.client, self._emit, on_auth_failed=refused, can_read_runs=self.poller.listing.probe
        )

    async def _save_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.save_interval)
            if self.store.dirty:
                self.store.save()

    # ------------------------------------------------------------------ reading

    def runs(self) -> list[TrackedRun]:
        return self.store.all()

    def run(self, run_id: str) -> TrackedRun | None:
        return self.store.get(run_id)

    def messages(self, run_id: str) -> list[Message]:
        tracked = self.store.get(run_id)
        return list(tracked.messages) if tracked else []

    def pending_requests(self) -> list[HumanRequest]:
        return self.store.pending_requests()

    def budget_snapshot(self) -> Any:
        return self.client.budget.snapshot()

    @property
    def webhook_url(self) -> str | None:
        """The URL runs started here are given, when the receiver is on."""
        if self.settings.webhook_url:
            return self.settings.webhook_url
        return self.webhooks.url if self.webhooks is not None else None

    # ------------------------------------------------------------------ commands

    def focus(self, run_id: str | None) -> None:
        """Poll ``run_id`` first (status and messages about once a second); None to focus nothing."""
        if run_id is not None and run_id not in self.store:
            return
        if run_id is not None:
            self.store.touch(run_id)
        self.scheduler.focus(run_id, self.clock())
        self.poller.wake()

    def follow(self, run_id: str) -> None:
        """Fetch the messages of ``run_id`` too (at low priority), without focusing it."""
        tracked = self.store.get(run_id)
        if tracked is not None:
            self.scheduler.add_run(run_id, tracked.status, self.clock(), follow=True)
            self.poller.wake()

    def _add(self, run: Run, origin: str, agent_name: str | None = None) -> TrackedRun:
        known = self.store.get(run.id)
        previous = known.run if known is not None else None
        if agent_name and not run.agent_name:
            # Kept on the run itself: later answers (a detail without names) are merged over it.
            run = dataclasses.replace(run, agent_name=agent_name)
        tracked, added = self.store.add(run, origin=origin, agent_name=run.agent_name)
        if previous is not None:
            # Already listed (the sweep found it first): what this answer adds (a sandbox id) must reach the screen.
            tracked.run = merge_run(previous, run)
            if tracked.run != previous:
                self.store.mark_dirty()
                self._emit(ev.RunChanged(tracked.run, previous_status=previous.status))
        now = self.clock()
        if origin == "started":
            self.store.touch(run.id)
        # Runs started here are few and someone is interested: their messages are fetched too.
        self.scheduler.add_run(run.id, run.status, now, follow=origin == "started")
        self.scheduler.poke(run.id, now)
        if added:
            self._emit(ev.RunAdded(tracked.run, agent_name=tracked.agent_name))
        self.poller.wake()
        return tracked

    def track_ids(self, run_ids: list[str]) -> int:
        """Track runs by id without fetching them now (the scheduler will); returns how many were new."""
        now = self.clock()
        added = 0
        for run_id in run_ids:
            if run_id in self.store:
                continue
            self.store.add(Run(id=run_id), origin="added")
            self.scheduler.add_run(run_id, "unknown", now)
            added += 1
        self.poller.wake()
        return added

    async def start_run(self, agent_id: str, message: str | None = None, sandbox_id: str | None = None) -> Run:
        """Start a run (with this receiver's webhook URL when webhooks are on) and track it."""
        # The name first (kept after the first time): the run is tracked the moment it starts, named.
        name = await self._agent_name(agent_id)
        run = await self.client.start_run(
            agent_id, message=message, sandbox_id=sandbox_id, webhook_url=self.webhook_url
        )
        self._add(run, "started", name if run.agent_id in ("", agent_id) else None)
        return run

    async def _agent_name(self, agent_id: str) -> str | None:
        """The Assignment's name from the kept listing (fetched once); None when unknown or not listed."""
        try:
            agents = await self.assignments()
        except Exception:  # a nicety: without it the run is tracked unnamed until the next sweep names it
            return None
        return next((a.name for a in agents if a.id == agent_id and a.name), None)

    async def track(self, run_id: str) -> Run:
        """Fetch ``run_id`` and track it. NotFoundError when the server has no such run."""
        from duvo_tui.api.errors import NotFoundError

        detail = await self.client.get_run(run_id, urgent=True)
        if detail.run is None:
            raise NotFoundError("no run with this id", status=404)
        tracked = self._add(detail.run, "added")
        self.poller.apply_detail(detail.run.id, detail, poll=False)
        name = None if tracked.run.agent_name else await self._agent_name(detail.run.agent_id)
        if name and not tracked.run.agent_name:
            previous = tracked.run
            tracked.run = dataclasses.replace(previous, agent_name=name)
            tracked.agent_name = tracked.agent_name or name
            self.store.mark_dirty()
            self._emit(ev.RunChanged(tracked.run, previous_status=previous.status))
        return tracked.run

    def remember(self, run: Run, origin: str = "started") -> None:
        """Track ``run`` as it is known (nothing is fetched now) and write the state file: the command line
        records a run it started so that the dashboard and ``runs list`` show it."""
        self._add(run, origin)
        self.store.save()

    def forget(self, run_id: str) -> None:
        """Stop tracking ``run_id`` (it is forgotten, not stopped)."""
        self.poller.drop_run(run_id, "removed")

    # ------------------------------------------------------------------ files

    @property
    def uploads_enabled(self) -> bool:
        """Files can be sent (not over a read-only client)."""
        return not self.client.read_only

    def upload(self, path: Path, sandbox_id: str, dest_dir: str = "/workspace") -> None:
        """Upload a file a person chose into ``dest_dir``; what becomes of it comes as ``Upload*`` events."""
        self._files().upload(path, sandbox_id, dest_dir)

    def watch(self, folders: Sequence[WatchFolder]) -> None:
        """Upload what lands in ``folders`` until the service closes (``WatchStatus`` and ``Upload*`` events)."""
        self._files().add_folders(folders)

    def _files(self) -> Uploads:
        from duvo_tui.service.uploads import Uploads

        self._uploads = self._uploads or Uploads(self.client, self._emit)
        return self._uploads

    async def stop_run(self, run_id: str) -> Any:
        result = await self.client.stop_run(run_id)
        self._poke(run_id)
        return result

    async def post_message(self, run_id: str, text: str, *, idempotency_key: str | None = None) -> Message:
        message = await self.client.post_message(run_id, text, idempotency_key=idempotency_key)
        self._poke(run_id)
        return message

    async def respond(self, submission: Submission) -> Outcome:
        """Answer a human request: drafts, the Idempotency-Key and the client's retries inside; one outcome.

        Once the server took the answer the request is resolved (``answered_here``); when it was closed
        meanwhile, the run is looked at again."""
        outcome = await answer(self.client.respond, submission, self.drafts)
        run_id, request_id = submission.run_id, submission.request_id
        if outcome.ok:
            tracked = self.store.get(run_id)
            if tracked is not None and tracked.pending is not None and tracked.pending.id == request_id:
                tracked.pending = None
                self.store.mark_dirty()
            self._emit(ev.HumanRequestResolved(run_id, request_id, answered_here=True))
        if outcome.final:
            self._poke(run_id)
        return outcome

    async def create_sandbox(self) -> Sandbox:
        """A new sandbox (a person asked for it: urgent)."""
        return await self.client.create_sandbox()

    async def list_files(self, sandbox_id: str, path: str = "/workspace") -> list[SandboxFile]:
        """A sandbox directory listing (a person is waiting: urgent)."""
        return await self.client.list_files(sandbox_id, path, urgent=True)

    async def sync_once(self, status: str | None = None) -> list[TrackedRun]:
        """Bring the tracked runs up to date now (a person is waiting: urgent requests); for one-shot commands.

        Every page of the run listing is read (``status`` filters it) and its runs are tracked; when the
        server does not offer the listing, each tracked run is fetched instead.
        """
        from duvo_tui.api.errors import ForbiddenError, NotFoundError

        if self.settings.run_listing and (self.scheduler.team_listing or not self._started):
            offset = 0
            try:
                while True:
                    page = await self.poller.listing.page(offset=offset, status=status, urgent=True)
                    self.poller.apply_sweep(Job("sweep", offset=offset), page)
                    offset += TEAM_PAGE
                    if not page.runs or offset >= page.total:
                        break
                return self.runs()
            except (NotFoundError, ForbiddenError):
                self.scheduler.set_team_listing(False, self.clock())
        for tracked in self.store.all():
            try:
                detail = await self.client.get_run(tracked.id, urgent=True)
            except NotFoundError:
                self.poller.drop_run(tracked.id, "the server no longer has this run")
                continue
            self.poller.apply_detail(tracked.id, detail, poll=False)
        return self.runs()

    async def assignments(self) -> list[Agent]:
        """The Assignments the key can start runs of (``GET /v1/agents``, every page), fetched once and kept.

        A server without the listing gives none (aliases and uuids still work)."""
        from duvo_tui.api.errors import ForbiddenError, NotFoundError

        if self._assignments is None:
            try:
                self._assignments = await self.client.list_all_agents(urgent=True)
            except (NotFoundError, ForbiddenError):
                self._assignments = []
        return list(self._assignments)

    def person_active(self) -> None:
        """A person is at the keys: look for changes at the fast pace for a while."""
        self.scheduler.person_active(self.clock())
        self.poller.wake()

    def refresh(self, run_id: str) -> None:
        """Look at ``run_id`` now (e.g. a webhook said it changed)."""
        self._poke(run_id)

    @property
    def key_refused(self) -> bool:
        """The server refused the key (401): nothing is polled until :meth:`retry_key` finds it taken."""
        return self.poller.auth_failed

    def retry_key(self) -> None:
        """Try the refused key again (one request); polling resumes once the server takes it."""
        if self._key_retry is not None and not self._key_retry.done():
            return
        self._key_retry = asyncio.get_running_loop().create_task(self._retry_key())
        self._tasks.append(self._key_retry)

    async def _retry_key(self) -> None:
        from duvo_tui.service.identity import identify_again

        profile, refused = await identify_again(self.client, self._emit, self.poller.listing.probe)
        self.profile = profile or self.profile
        if not refused:
            self._emit(ev.ConnectionRestored())  # the refusal is over (a late "connected" does not say so)
            self.poller.resume_after_auth()

    def _poke(self, run_id: str) -> None:
        if run_id in self.store:
            self.scheduler.poke(run_id, self.clock())
            self.poller.wake()

    def _on_webhook(self, run_id: str, event_type: str) -> None:
        self._poke(run_id)
