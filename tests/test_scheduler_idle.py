"""The scheduler spends requests on change: slow when nothing moves, fast when something does (hand-driven clock)."""

from __future__ import annotations

import itertools

from duvo_tui.service.scheduler import TEAM_PAGE, Job, Scheduler
from tests.settings import scheduler_settings

SETTINGS = dict(
    sweep_interval=2.0,
    idle_sweep_interval=12.0,
    quiet_after=20.0,
    idle_interval=60.0,
    min_interval=1.0,
    focus_status_interval=1.5,
)


def listing_scheduler(**overrides) -> Scheduler:
    s = Scheduler(scheduler_settings(**{**SETTINGS, **overrides}))
    s.set_team_listing(True, 0.0)
    return s


def run_for(
    s: Scheduler, start: float, end: float, *, total: int, statuses: dict[str, str], unlisted: tuple[str, ...] = ()
) -> list[tuple[float, Job]]:
    """Answer every job as a quiet server would (nothing changes) from ``start`` to ``end``; the jobs sent.
    The listing holds the runs of ``statuses`` in their order, except those ``unlisted``."""
    sent: list[tuple[float, Job]] = []
    listed = [run_id for run_id in statuses if run_id not in unlisted]
    now = start
    while now < end:
        while (job := s.next_job(now)) is not None:
            sent.append((now, job))
            if job.kind in ("sweep", "waiting_sweep"):
                if job.kind == "sweep":
                    for run_id in listed[job.offset : job.offset + TEAM_PAGE]:
                        s.swept(run_id, now, statuses[run_id], False, needs_detail=False)
                s.sweep_done(job, now, total=total)
            elif job.kind == "status":
                s.status_done(job.run_id, now, statuses[job.run_id], changed=False)
            else:
                s.messages_done(job.run_id, now, got=0, backlog=False)
        now += 0.25
    return sent


def test_a_focused_finished_run_is_looked_at_slowly_and_the_sweeps_slow_down_after_a_quiet_while():
    s = listing_scheduler()
    statuses = {f"r{i}": "completed" for i in range(5)}
    for run_id, status in statuses.items():
        s.add_run(run_id, status, 0.0)
    s.focus("r0", 0.0)
    sent = run_for(s, 0.0, 180.0, total=5, statuses=statuses)
    quiet = [(t, job) for t, job in sent if t >= 60.0]
    # Two minutes of nothing: sweeps every 12 s, and the run in view looked at once a minute.
    sweeps = [t for t, job in quiet if job.kind == "sweep"]
    assert 9 <= len(sweeps) <= 11
    assert all(11.9 <= b - a <= 12.6 for a, b in itertools.pairwise(sweeps))
    looks = [job for _, job in quiet if job.run_id == "r0"]
    assert 1 <= len(looks) <= 3 and all(job.kind == "status" for job in looks)
    assert not [job for _, job in quiet if job.run_id not in (None, "r0")]  # the others are left to the sweeps
    assert len(quiet) / 2.0 <= 12  # requests a minute


def test_a_key_press_or_a_change_makes_the_sweeps_fast_again():
    s = listing_scheduler()
    s.add_run("r0", "completed", 0.0)
    run_for(s, 0.0, 100.0, total=1, statuses={"r0": "completed"})
    assert s._sweep_due - 100.0 > 2.0  # slow by now
    s.person_active(100.0)
    assert s._sweep_due <= 102.0
    sent = run_for(s, 100.0, 115.0, total=1, statuses={"r0": "completed"})
    assert len([job for _, job in sent if job.kind == "sweep"]) >= 6
    # Quiet again: slow again after quiet_after.
    sent = run_for(s, 140.0, 200.0, total=1, statuses={"r0": "completed"})
    assert len([job for _, job in sent if job.kind == "sweep"]) <= 6
    # A sweep shows a change: fast at once.
    s.swept("r0", 200.0, "running", True, needs_detail=False)
    assert s._sweep_due <= 202.0


def test_the_run_in_view_is_polled_about_once_a_second_only_while_it_moves():
    s = listing_scheduler()
    s.add_run("r0", "running", 0.0)
    s.focus("r0", 0.0)
    now, jobs = 0.0, []
    while now < 10.0:
        while (job := s.next_job(now)) is not None:
            jobs.append(job)
            if job.kind == "status":
                s.status_done("r0", now, "running", changed=False)
            elif job.kind == "messages":
                s.messages_done("r0", now, got=1, backlog=False)
            else:
                s.sweep_done(job, now, total=1)
        now += 0.1
    assert len([j for j in jobs if j.kind == "messages"]) >= 9
    # It completes: after a few seconds (its last messages may trail) it is looked at once a minute.
    s.status_done("r0", now, "completed", changed=True)
    sent = run_for(s, now, now + 70.0, total=1, statuses={"r0": "completed"})
    late = [job for t, job in sent if t >= now + 5.0 and job.run_id == "r0"]
    assert 1 <= len(late) <= 2, late


def test_a_sweep_that_shows_the_run_in_view_changed_looks_at_it_at_once():
    s = listing_scheduler()
    s.add_run("r0", "completed", 0.0)
    s.focus("r0", 0.0)
    run_for(s, 0.0, 100.0, total=1, statuses={"r0": "completed"})
    assert s.next_job(100.0) is None
    s.swept("r0", 100.0, "running", True, needs_detail=False)  # someone posted to it elsewhere
    assert set(drain_now(s, 100.0)) >= {Job("status", "r0"), Job("messages", "r0")}


def test_a_person_acting_on_the_run_in_view_polls_it_fast_for_a_while():
    s = listing_scheduler()
    s.add_run("r0", "waiting", 0.0)
    s.focus("r0", 0.0)
    run_for(s, 0.0, 100.0, total=1, statuses={"r0": "waiting"})
    s.poke("r0", 100.0)  # an answer, a post, a stop, a refresh
    sent = run_for(s, 100.0, 110.0, total=1, statuses={"r0": "waiting"})
    assert len([job for _, job in sent if job.run_id == "r0"]) >= 8


def drain_now(s: Scheduler, now: float) -> list[Job]:
    jobs = []
    while (job := s.next_job(now)) is not None:
        jobs.append(job)
    return jobs


def test_with_many_pages_the_newest_is_every_other_sweep_and_the_older_take_turns():
    s = listing_scheduler()
    offsets = []
    now = 0.0
    while len(offsets) < 12:
        for job in drain_now(s, now):
            if job.kind == "sweep":  # (the waiting runs' listing, over one page, is not what this test is about)
                offsets.append(job.offset)
            s.sweep_done(job, now, total=450)
        now += 0.5
    assert offsets == [0, 100, 0, 200, 0, 300, 0, 400, 0, 100, 0, 200]


def test_at_rest_a_thousand_runs_cost_a_few_requests_a_minute_and_none_is_polled_by_itself():
    s = listing_scheduler()
    statuses = {f"r{i}": ("waiting" if i % 25 == 24 else "completed") for i in range(1000)}
    for run_id, status in statuses.items():
        s.add_run(run_id, status, 0.0)
    s.focus("r0", 0.0)
    sent = run_for(s, 0.0, 300.0, total=1000, statuses=statuses)
    quiet = [job for t, job in sent if t >= 120.0]
    assert len(quiet) / 3.0 <= 12, [j.kind for j in quiet]
    assert not [job for job in quiet if job.run_id not in (None, "r0")]


def test_a_run_the_listing_does_not_have_is_polled_by_itself_once_every_page_was_swept():
    s = listing_scheduler()
    statuses = {f"r{i}": "completed" for i in range(150)}
    for run_id, status in statuses.items():
        s.add_run(run_id, status, 0.0)
    s.add_run("elsewhere", "running", 0.0)  # tracked by id; not in this key's listing
    sent = run_for(s, 0.0, 30.0, total=150, statuses={**statuses, "elsewhere": "running"}, unlisted=("elsewhere",))
    polled = [t for t, job in sent if job.run_id == "elsewhere"]
    second_page = next(t for t, job in sent if job.kind == "sweep" and job.offset == 100)
    assert polled and polled[0] >= second_page  # not before both pages were swept
    assert not [job for _, job in sent if job.run_id in statuses]
