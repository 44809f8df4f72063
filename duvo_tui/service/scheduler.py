"""Who gets the next request.

The scheduler is plain bookkeeping (no IO, its clock passed in): for every tracked run it knows when
its status and its messages are next due, and for the team listing when the next sweep is due.
:meth:`Scheduler.next_job` picks, among the jobs that are due, the one with the earliest deadline
after a per-class offset, so that:

- the focused run's jobs always go first (strict priority; they are due about once a second);
- sweeps of the team listing keep their fixed pace (one request covers 100 runs);
- a run the sweep showed waiting or finished is fetched next (to read its pending request);
- active runs come before waiting runs, and messages of runs nobody looks at come last;
- nobody starves: an overdue job's deadline keeps getting older until it wins.

The rate budget is spent on change. The focused run's messages and status are fetched about once a
second only while it moves (pending, starting, running, or just after a person acted on it: a post, an
answer, a stop, a refresh: :meth:`poke`); focused and finished or waiting for a person, it is looked at
every ``idle_interval``, or at once when a sweep or a status poll shows it changed. The listing is
swept every ``sweep_interval`` while something moves, something changed lately or a person is at the
keys (:meth:`person_active`), and every ``idle_sweep_interval`` after ``quiet_after`` seconds of none of
that. With more than one page, the first page (the newest runs) is every other sweep; the older pages
take turns in between. A run is polled by itself only when every page was swept since it was last seen
(the listing does not have it).

Intervals adapt: a status poll that saw no change multiplies the run's interval by ``backoff``
(up to ``max_interval``), one that saw a change resets it. A terminal run is polled at the normal
pace only for a while after something that can change it happened here (a posted message, a stop, an
answer: :meth:`poke`); otherwise it is looked at every ``idle_interval`` (someone may post to it
elsewhere, which makes it active again), and only with spare capacity: such a job is chosen only when
no other job is due and the caller says it has room (``next_job(now, spare=True)``). With the team
listing, the sweeps cover terminal runs too, so they are not fetched one by one.
Transient errors back a run off exponentially; they do not touch other runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from duvo_tui.api.status import RunStatus
from duvo_tui.intervals import PollSettings

__all__ = ["Job", "RunTimer", "Scheduler", "SchedulerSettings"]

TEAM_PAGE = 100
"""Runs per team-listing request."""

# Offsets (seconds) added to a job's due time when choosing among due jobs: lower goes first.
_FOCUSED = -1.0e6
_DETAIL = -10.0
_SWEEP = -60.0
_ACTIVE = 0.0
_WAITING = 5.0
_BACKGROUND_MESSAGES = 15.0
_FOCUSED_IN_A_ROW = 2
_SETTLE = 3.0
"""Seconds a run that stopped moving is still followed at the focused pace (its last messages may trail its status)."""


def resting(status: str) -> bool:
    """The run does not change by itself: it is finished, or waits for a person."""
    meaning = RunStatus(status)
    return meaning.is_finished or meaning.is_persons_turn


@dataclass
class SchedulerSettings:
    """Intervals in seconds: a person's (``poll``, the config's ``[poll]`` table) and the scheduler's own."""

    poll: PollSettings = field(default_factory=PollSettings)
    """``min_interval``: messages of the focused run; ``interval``: first interval of an active run, grown while
    nothing changes up to ``max_interval``; ``idle_interval``: a finished run is looked at this often, with spare
    capacity only (it may be resumed elsewhere); ``sweep_interval`` / ``idle_sweep_interval``: between two listing
    pages while something moves, changed lately or a person is at the keys / after ``quiet_after`` seconds of
    none of that."""
    focus_status_interval: float = 1.5
    """Status of the focused run (also fetched at once when its messages show a change)."""
    waiting_interval: float = 10.0
    """First interval of a run waiting for a person (only an answer given elsewhere changes it)."""
    backoff: float = 1.5
    """Interval factor after a poll that saw no change."""
    waiting_sweep_interval: float = 3.0
    """Seconds between two listings of waiting runs (only when the team has more than one page; every
    ``poll.idle_interval`` once quiet)."""
    backlog_gap: float = 0.0
    """Delay before the next page of a backlog (the deadline ordering interleaves it with other runs)."""
    poke_window: float = 30.0
    """How long a terminal run is polled after something that can wake it happened."""
    max_error_backoff: float = 60.0


@dataclass
class RunTimer:
    """When a run's status and messages are next due."""

    status: str = "unknown"
    status_due: float | None = 0.0
    messages_due: float | None = None
    interval: float = 2.0
    errors: int = 0
    follow: bool = False
    """Messages are fetched for this run (the focused run, and runs focused before)."""
    backlog: bool = False
    swept_at: float = -math.inf
    needs_detail: bool = False
    poked_until: float = -math.inf
    strict_at: float = -math.inf
    """When the focused run's next messages page may jump the queue again (a backlog takes turns)."""
    in_flight: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Job:
    """One request to make: ``status`` / ``messages`` of a run, or a ``sweep`` / ``waiting_sweep`` page."""

    kind: str
    run_id: str | None = None
    offset: int = 0


class Scheduler:
    """The plan of requests. All times are the caller's clock (monotonic seconds)."""

    def __init__(self, settings: SchedulerSettings | None = None) -> None:
        self.settings = settings or SchedulerSettings()
        self.timers: dict[str, RunTimer] = {}
        self.focused: str | None = None
        self.team_listing = False
        self.team_total = 0
        self._sweep_due: float | None = None
        self._sweep_offset = 0
        self._waiting_sweep_due: float | None = None
        self._sweeps_in_flight: set[str] = set()
        self._focused_in_a_row = 0
        self._lively_until = -math.inf
        """Until when the sweeps stay fast after a change or a key press."""
        self._sweep_sent: dict[str, float] = {}
        """When the sweep of each kind in flight (or last) was sent."""
        self._page_swept_at: dict[int, float] = {}
        """When each listing page (by offset) was last requested, for an answer that came."""
        self._covered_since = -math.inf
        """Every page of the listing was requested since this time: a run not seen since is not listed."""
        self._older_offset = TEAM_PAGE

    # ------------------------------------------------------------------ runs

    def add_run(self, run_id: str, status: str, now: float, *, follow: bool = False) -> RunTimer:
        timer = self.timers.get(run_id)
        if timer is None:
            timer = RunTimer(status=status, interval=self._base(status))
            timer.status_due = now + self.settings.poll.idle_interval if RunStatus(status).is_finished else now
            if self.team_listing:
                timer.swept_at = now  # the next sweeps will cover it
            self.timers[run_id] = timer
        if follow and not timer.follow:
            timer.follow = True
            timer.messages_due = now
        return timer

    def remove_run(self, run_id: str) -> None:
        self.timers.pop(run_id, None)
        if self.focused == run_id:
            self.focused = None

    def focus(self, run_id: str | None, now: float) -> None:
        """Make ``run_id`` the focused run: its status and messages are due at once."""
        self.focused = run_id
        timer = self.timers.get(run_id) if run_id else None
        if timer is not None:
            timer.follow = True
            timer.status_due = now
            timer.messages_due = now
            timer.errors = 0

    def unfollow(self, run_id: str) -> None:
        """Stop fetching the messages of ``run_id`` (until it is focused or followed again)."""
        timer = self.timers.get(run_id)
        if timer is not None:
            timer.follow = False
            timer.backlog = False
            timer.messages_due = None

    def poke(self, run_id: str, now: float, *, messages: bool = True) -> None:
        """Something happened that can change the run (a post, a stop, an answer, a webhook): look now."""
        timer = self.timers.get(run_id)
        if timer is None:
            return
        timer.poked_until = now + self.settings.poke_window
        timer.interval = self._base("running")
        timer.status_due = now
        timer.errors = 0
        if messages and timer.follow:
            timer.messages_due = now
        self._liven(now)

    def person_active(self, now: float) -> None:
        """A person is at the keys: sweep at the fast pace for a while."""
        self._liven(now)

    def _liven(self, now: float) -> None:
        """Something changed or a person acted: the sweeps are fast for ``quiet_after`` seconds."""
        self._lively_until = max(self._lively_until, now + self.settings.poll.quiet_after)
        fast = self.settings
        if self._sweep_due is not None:
            sent = self._sweep_sent.get("sweep", -math.inf)
            self._sweep_due = min(self._sweep_due, max(now, sent + fast.poll.sweep_interval))
        if self._waiting_sweep_due is not None:
            sent = self._sweep_sent.get("waiting_sweep", -math.inf)
            self._waiting_sweep_due = min(self._waiting_sweep_due, max(now, sent + fast.waiting_sweep_interval))

    def lively(self, now: float) -> bool:
        """Something moves, changed lately, or a person was at the keys lately."""
        if now < self._lively_until:
            return True
        return any(not resting(timer.status) or now < timer.poked_until for timer in self.timers.values())

    def set_team_listing(self, available: bool, now: float) -> None:
        self.team_listing = available
        if available:
            for timer in self.timers.values():
                timer.swept_at = now
        self._sweep_due = now if available else None
        self._waiting_sweep_due = now if available else None
        if available:
            self._liven(now)  # a first look: fast for a while

    # ------------------------------------------------------------------ choosing

    def next_job(self, now: float, *, spare: bool = False) -> Job | None:
        """The job to send now, or None when nothing is due. The job counts as in flight until reported.

        A finished run's slow look is chosen only when nothing else is due and ``spare`` says the caller
        has room for a request nobody is waiting for.
        """
        best: tuple[float, Job] | None = None
        best_other: tuple[float, Job] | None = None  # the best job that is not the focused run's
        best_idle: tuple[float, Job] | None = None  # the most overdue look at a finished run

        def consider(deadline: float, job: Job) -> None:
            nonlocal best, best_other
            if best is None or deadline < best[0]:
                best = (deadline, job)
            if job.run_id != self.focused and (best_other is None or deadline < best_other[0]):
                best_other = (deadline, job)

        if self._sweep_due is not None and self._sweep_due <= now and "sweep" not in self._sweeps_in_flight:
            consider(self._sweep_due + _SWEEP, Job("sweep", offset=self._sweep_offset))
        if (
            self._waiting_sweep_due is not None
            and self._waiting_sweep_due <= now
            and self.team_total > TEAM_PAGE
            and "waiting_sweep" not in self._sweeps_in_flight
        ):
            consider(self._waiting_sweep_due + _SWEEP, Job("waiting_sweep"))
        for run_id, timer in self.timers.items():
            focused = run_id == self.focused
            due = self._status_due(timer, now, focused)
            if due is not None and due <= now and "status" not in timer.in_flight:
                if self._idle(timer, now, focused):
                    if spare and (best_idle is None or due < best_idle[0]):
                        best_idle = (due, Job("status", run_id))
                elif timer.needs_detail and not focused:
                    # Newest first: a run that just began waiting is likelier to still be waiting.
                    consider(now + _DETAIL + min(now - due, 40.0) * 0.5, Job("status", run_id))
                else:
                    consider(due + self._status_offset(timer, focused), Job("status", run_id))
            mdue = timer.messages_due
            if timer.follow and mdue is not None and mdue <= now and "messages" not in timer.in_flight:
                if focused:
                    offset = _FOCUSED if now >= timer.strict_at else _ACTIVE - 1.0
                else:
                    offset = _BACKGROUND_MESSAGES
                consider(mdue + offset, Job("messages", run_id))
        if best is None:
            best = best_idle  # nothing else is due: a finished run may use the spare slot
        if best is None:
            return None
        job = best[1]
        if job.run_id is not None and job.run_id == self.focused and best_other is not None:
            # The focused run comes first, but takes at most two slots in a row (its status and its messages)
            # while another job is due: when its intervals ask for more than the pace allows, others would starve.
            if self._focused_in_a_row >= _FOCUSED_IN_A_ROW:
                job = best_other[1]
        focused_job = job.run_id is not None and job.run_id == self.focused
        self._focused_in_a_row = self._focused_in_a_row + 1 if focused_job else 0
        if job.kind in ("sweep", "waiting_sweep"):
            self._sweeps_in_flight.add(job.kind)
            self._sweep_sent[job.kind] = now
        elif job.run_id is not None:
            self.timers[job.run_id].in_flight.add(job.kind)
        return job

    def seconds_until_due(self, now: float, limit: float = 5.0, *, spare: bool = False) -> float:
        """How long until some job is due (at most ``limit``); 0 when one is due now.

        Looks at finished runs count only with ``spare`` (as in :meth:`next_job`).
        """
        soonest = now + limit
        if self._sweep_due is not None and "sweep" not in self._sweeps_in_flight:
            soonest = min(soonest, self._sweep_due)
        if (
            self._waiting_sweep_due is not None
            and self.team_total > TEAM_PAGE
            and "waiting_sweep" not in self._sweeps_in_flight
        ):
            soonest = min(soonest, self._waiting_sweep_due)
        for run_id, timer in self.timers.items():
            focused = run_id == self.focused
            due = self._status_due(timer, now, focused)
            if due is not None and "status" not in timer.in_flight and (spare or not self._idle(timer, now, focused)):
                soonest = min(soonest, due)
            if timer.follow and timer.messages_due is not None and "messages" not in timer.in_flight:
                soonest = min(soonest, timer.messages_due)
        return max(0.0, soonest - now)

    def _status_due(self, timer: RunTimer, now: float, focused: bool) -> float | None:
        if timer.status_due is None:
            return None
        if focused or timer.needs_detail or not self.team_listing:
            return timer.status_due
        # With the team listing, a run's status comes from the sweeps; it is polled by itself only
        # when every page was swept since it was last seen (the listing does not have it).
        if timer.swept_at >= self._covered_since:
            return None
        return timer.status_due

    @staticmethod
    def _moving(timer: RunTimer, now: float) -> bool:
        """The run changes by itself, or a person acted on it lately."""
        return not resting(timer.status) or now < timer.poked_until

    @staticmethod
    def _idle(timer: RunTimer, now: float, focused: bool) -> bool:
        """A finished run nobody touched lately: its look waits for spare capacity."""
        finished = RunStatus(timer.status).is_finished
        return not focused and not timer.needs_detail and finished and now >= timer.poked_until

    def _status_offset(self, timer: RunTimer, focused: bool) -> float:
        if focused:
            return _FOCUSED
        if timer.needs_detail:
            return _DETAIL
        return _WAITING if timer.status == RunStatus.WAITING else _ACTIVE

    def _base(self, status: str) -> float:
        return self.settings.waiting_interval if status == RunStatus.WAITING else self.settings.poll.interval

    # ------------------------------------------------------------------ results

    def status_done(self, run_id: str, now: float, status: str, changed: bool) -> None:
        """A status poll of ``run_id`` succeeded; ``changed`` when anything about the run changed."""
        timer = self.timers.get(run_id)
        if timer is None:
            return
        timer.in_flight.discard("status")
        timer.errors = 0
        timer.needs_detail = False
        self._set_status(timer, status, changed, now)
        if changed:
            self._liven(now)
            if timer.follow and timer.messages_due is None:
                timer.messages_due = now  # (a run in view that moves has its messages due already)

    def swept(self, run_id: str, now: float, status: str, changed: bool, *, needs_detail: bool) -> None:
        """The team listing showed ``run_id``; ``needs_detail`` asks for one fetch of the run itself."""
        timer = self.timers.get(run_id)
        if timer is None:
            return
        timer.swept_at = now
        if needs_detail and not timer.needs_detail:
            timer.status_due = now
        # The latest sweep decides: a run that stopped waiting before its turn came needs no fetch any more.
        timer.needs_detail = needs_detail
        if changed:
            at_rest = not self._moving(timer, now)
            self._note_status(timer, status, now)
            timer.status = status
            self._liven(now)
            if run_id == self.focused and at_rest and timer.status_due is not None:
                timer.status_due = min(timer.status_due, now)  # the run in view woke up: its detail now
            if timer.follow and "messages" not in timer.in_flight:
                timer.messages_due = now if timer.messages_due is None else min(timer.messages_due, now)

    def _note_status(self, timer: RunTimer, status: str, now: float) -> None:
        """A run that just stopped moving is followed a few seconds more (its last messages may trail)."""
        if resting(status) and not resting(timer.status):
            timer.poked_until = max(timer.poked_until, now + _SETTLE)

    def _set_status(self, timer: RunTimer, status: str, changed: bool, now: float) -> None:
        settings = self.settings
        if changed or status != timer.status:
            timer.interval = self._base(status)
        else:
            timer.interval = min(settings.poll.max_interval, max(timer.interval, 0.1) * settings.backoff)
        self._note_status(timer, status, now)
        timer.status = status
        run_focused = self.focused is not None and self.timers.get(self.focused) is timer
        if run_focused and self._moving(timer, now):
            timer.status_due = now + settings.focus_status_interval
        elif run_focused:
            # In view but at rest: a slow look (a change shown by a sweep, or a person acting, looks at once).
            slow = settings.poll.idle_interval if self.team_listing or status != RunStatus.WAITING else timer.interval
            timer.status_due = now + slow
        elif RunStatus(status).is_finished and now >= timer.poked_until:
            timer.status_due = now + settings.poll.idle_interval  # a slow look, with spare capacity only
        else:
            timer.status_due = now + timer.interval

    def messages_done(self, run_id: str, now: float, *, got: int, backlog: bool) -> None:
        """A messages page of ``run_id`` came back with ``got`` messages; ``backlog`` when more are waiting."""
        timer = self.timers.get(run_id)
        if timer is None:
            return
        timer.in_flight.discard("messages")
        timer.errors = 0
        timer.backlog = backlog
        focused = run_id == self.focused
        if focused:
            timer.strict_at = now + self.settings.poll.min_interval
        if backlog:
            timer.messages_due = now + self.settings.backlog_gap
        elif focused and self._moving(timer, now):
            timer.messages_due = now + self.settings.poll.min_interval
        else:
            timer.messages_due = None  # fetched again when the run is seen to change
        if got and focused and timer.status_due is not None:
            # New messages often come with a new status: look at it soon.
            timer.status_due = min(timer.status_due, now + 0.2)
        elif got and focused:
            timer.status_due = now + 0.2

    def failed(self, job: Job, now: float, *, transient: bool) -> None:
        """A job failed: back its run off (transient errors grow the delay), or retry a sweep later."""
        if job.kind in ("sweep", "waiting_sweep"):
            self._sweeps_in_flight.discard(job.kind)
            delay = self.settings.poll.sweep_interval * (2 if transient else 5)
            if job.kind == "sweep":
                self._sweep_due = now + delay
            else:
                self._waiting_sweep_due = now + delay
            return
        timer = self.timers.get(job.run_id or "")
        if timer is None:
            return
        timer.in_flight.discard(job.kind)
        timer.errors += 1
        settings = self.settings
        delay = min(settings.max_error_backoff, 0.5 * 2**timer.errors) if transient else settings.poll.max_interval
        if job.kind == "status":
            timer.status_due = now + delay
        else:
            timer.messages_due = now + delay

    def released(self, job: Job) -> None:
        """A job was dropped without an answer (cancelled, or polling paused): it is due again."""
        if job.kind in ("sweep", "waiting_sweep"):
            self._sweeps_in_flight.discard(job.kind)
            return
        timer = self.timers.get(job.run_id or "")
        if timer is not None:
            timer.in_flight.discard(job.kind)

    def sweep_done(self, job: Job, now: float, *, total: int) -> None:
        """A listing page came back; ``total`` is the team's run count."""
        self._sweeps_in_flight.discard(job.kind)
        settings = self.settings
        lively = self.lively(now)
        if job.kind == "waiting_sweep":
            interval = settings.waiting_sweep_interval if lively else settings.poll.idle_interval
            self._waiting_sweep_due = now + interval
            return
        self.team_total = max(0, total)
        self._page_swept_at[job.offset] = self._sweep_sent.get(job.kind, now)
        offsets = range(0, max(self.team_total, 1), TEAM_PAGE)
        self._covered_since = min(self._page_swept_at.get(offset, -math.inf) for offset in offsets)
        # The first page (the newest runs, where things happen) every other sweep; the older ones take turns.
        if job.offset == 0 and self.team_total > TEAM_PAGE:
            if self._older_offset >= self.team_total:
                self._older_offset = TEAM_PAGE
            self._sweep_offset = self._older_offset
        else:
            if job.offset > 0:
                following = job.offset + TEAM_PAGE
                self._older_offset = following if following < self.team_total else TEAM_PAGE
            self._sweep_offset = 0
        self._sweep_due = now + (settings.poll.sweep_interval if lively else settings.poll.idle_sweep_interval)
