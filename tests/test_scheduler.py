"""The scheduler's choices, on a hand-driven clock."""

from __future__ import annotations

from duvo_tui.service.scheduler import Job, Scheduler
from tests.settings import scheduler_settings


def drain(s: Scheduler, now: float) -> list[Job]:
    jobs = []
    while (job := s.next_job(now)) is not None:
        jobs.append(job)
    return jobs


def test_the_focused_run_goes_before_overdue_runs():
    s = Scheduler()
    for i in range(5):
        s.add_run(f"r{i}", "running", 0.0)
    s.add_run("focus", "running", 10.0)
    s.focus("focus", 10.0)
    first, second = s.next_job(10.0), s.next_job(10.0)
    assert {first, second} == {Job("status", "focus"), Job("messages", "focus")}
    assert s.next_job(10.0).run_id.startswith("r")


def test_terminal_runs_are_polled_at_the_normal_pace_only_after_a_poke():
    s = Scheduler()
    s.add_run("done", "completed", 0.0)
    assert drain(s, 100.0) == []  # no spare room: a finished run is not looked at
    s.poke("done", 100.0)
    assert drain(s, 100.0) == [Job("status", "done")]
    s.status_done("done", 100.0, "running", changed=True)
    assert drain(s, 100.0 + s.settings.poll.interval) == [Job("status", "done")]
    s.status_done("done", 103.0, "completed", changed=True)
    # Still within the poke window: looked at again at the normal pace, then left to the slow looks.
    assert drain(s, 110.0) == [Job("status", "done")]
    s.status_done("done", 110.0, "completed", changed=False)
    assert drain(s, 1000.0) == []
    assert s.next_job(1000.0, spare=True) == Job("status", "done")
    s.status_done("done", 1000.0, "completed", changed=False)
    assert s.timers["done"].status_due == 1000.0 + s.settings.poll.idle_interval


def test_terminal_runs_are_looked_at_slowly_with_spare_room():
    s = Scheduler(scheduler_settings(idle_interval=60.0))
    s.add_run("done", "completed", 0.0)
    assert s.next_job(59.0, spare=True) is None  # not due yet
    assert s.seconds_until_due(59.0, spare=True) == 1.0
    assert s.seconds_until_due(59.0, limit=5.0) == 5.0  # without spare room it does not count
    assert s.next_job(60.0) is None
    assert s.next_job(60.0, spare=True) == Job("status", "done")
    s.status_done("done", 60.5, "completed", changed=False)
    assert s.timers["done"].status_due == 120.5
    # Resumed elsewhere: the slow look sees it running, and from then on it is polled like any active run.
    assert s.next_job(120.5, spare=True) == Job("status", "done")
    s.status_done("done", 120.5, "running", changed=True)
    assert s.next_job(120.5 + s.settings.poll.interval) == Job("status", "done")


def test_terminal_runs_never_take_a_slot_while_other_jobs_are_due():
    s = Scheduler(scheduler_settings(idle_interval=1.0, interval=1.0, waiting_interval=1.0))
    for i in range(5):
        s.add_run(f"done{i}", "completed", 0.0)
    s.add_run("active", "running", 0.0)
    s.add_run("waiting", "waiting", 0.0)
    s.add_run("focus", "running", 0.0)
    s.focus("focus", 0.0)
    # Far overdue finished runs against jobs that just became due: every other job goes first.
    now = 1000.0
    for run_id in ("active", "waiting", "focus"):
        s.timers[run_id].status_due = now
    s.timers["focus"].messages_due = now
    picked = []
    while (job := s.next_job(now, spare=True)) is not None:
        picked.append(job.run_id)
    assert len(picked) == 9
    assert set(picked[:4]) == {"active", "waiting", "focus"} and picked.count("focus") == 2
    assert sorted(picked[4:]) == [f"done{i}" for i in range(5)]
    # And over time, answers coming back: a finished run's look is chosen only in a step where nothing else is due.
    s = Scheduler(scheduler_settings(idle_interval=0.5, interval=0.3, max_interval=0.3))
    for i in range(20):
        s.add_run(f"done{i}", "completed", 0.0)
    for i in range(4):
        s.add_run(f"r{i}", "running", 0.0)
    now = 0.0
    idle_steps = 0
    while now < 30.0:
        others_due = [
            r
            for r, t in s.timers.items()
            if not r.startswith("done") and t.status_due is not None and t.status_due <= now
        ]
        job = s.next_job(now, spare=True)
        if job is not None and job.run_id.startswith("done"):
            idle_steps += 1
            assert others_due == [], (now, others_due)
            s.status_done(job.run_id, now, "completed", changed=False)
        elif job is not None:
            s.status_done(job.run_id, now, "running", changed=False)
        now = round(now + 0.05, 3)
    assert idle_steps > 0  # the check above ran


def test_a_poked_terminal_run_is_not_held_back_for_spare_room():
    s = Scheduler()
    s.add_run("done", "completed", 0.0)
    s.add_run("active", "running", 0.0)
    s.poke("done", 0.0)
    assert set(drain(s, 0.0)) == {Job("status", "done"), Job("status", "active")}


def test_with_the_team_listing_terminal_runs_are_left_to_the_sweeps():
    s = Scheduler(scheduler_settings(idle_interval=1.0, sweep_interval=2.0, idle_sweep_interval=12.0))
    s.set_team_listing(True, 0.0)
    s.add_run("done", "completed", 0.0)
    assert s.next_job(0.0, spare=True) == Job("sweep", offset=0)
    now = 0.1
    while now < 300.0:  # the sweeps see the run: it is never fetched by itself
        s.sweep_done(Job("sweep"), now, total=1)
        s.swept("done", now, "completed", False, needs_detail=False)
        interval = s._sweep_due - now
        assert s.next_job(now + interval - 0.1, spare=True) is None
        now += interval
        assert s.next_job(now, spare=True) == Job("sweep", offset=0)


def test_intervals_back_off_while_nothing_changes_and_tighten_on_change():
    settings = scheduler_settings(interval=2.0, backoff=2.0, max_interval=16.0)
    s = Scheduler(settings)
    s.add_run("r", "running", 0.0)
    now = 0.0
    intervals = []
    for _ in range(5):
        assert s.next_job(now) == Job("status", "r")
        s.status_done("r", now, "running", changed=False)
        intervals.append(s.timers["r"].interval)
        now = s.timers["r"].status_due
    assert intervals == [4.0, 8.0, 16.0, 16.0, 16.0]
    s.next_job(now)
    s.status_done("r", now, "running", changed=True)
    assert s.timers["r"].interval == 2.0


def test_a_backlog_takes_turns_with_other_runs():
    s = Scheduler(scheduler_settings(interval=1.0))
    s.add_run("big", "running", 0.0, follow=True)
    s.next_job(0.0)  # big's status
    s.status_done("big", 0.0, "running", changed=False)
    for i in range(3):
        s.add_run(f"r{i}", "running", 0.5)
    order = []
    now = 1.0
    for _ in range(8):
        job = s.next_job(now)
        order.append(job.run_id)
        if job.kind == "messages":
            s.messages_done(job.run_id, now, got=50, backlog=True)
        else:
            s.status_done(job.run_id, now, "running", changed=False)
        now += 0.1
    assert "big" in order and {"r0", "r1", "r2"} <= set(order)
    assert order.count("big") < len(order)


def test_transient_errors_back_off_one_run_only():
    s = Scheduler(scheduler_settings(interval=1.0))
    s.add_run("bad", "running", 0.0)
    s.add_run("good", "running", 0.0)
    jobs = drain(s, 0.0)
    for job in jobs:
        if job.run_id == "bad":
            s.failed(job, 0.0, transient=True)
        else:
            s.status_done("good", 0.0, "running", changed=True)
    delays = []
    now = 0.0
    for _ in range(3):
        due = s.timers["bad"].status_due
        delays.append(due - now)
        now = due
        job = next(j for j in drain(s, now) if j.run_id == "bad")
        s.failed(job, now, transient=True)
    assert delays[0] < delays[1] < delays[2]
    assert s.timers["good"].status_due == 1.0


def test_with_the_team_listing_sweeps_replace_single_polls_except_waiting_runs():
    s = Scheduler(scheduler_settings(sweep_interval=2.0))
    s.set_team_listing(True, 0.0)
    for i in range(150):
        s.add_run(f"r{i}", "running", 0.0)
    jobs = drain(s, 0.0)
    assert jobs == [Job("sweep", offset=0)]
    s.sweep_done(jobs[0], 0.5, total=150)
    s.swept("r7", 0.5, "waiting", True, needs_detail=True)
    jobs = drain(s, 1.0)
    assert [j for j in jobs if j.kind == "status"] == [Job("status", "r7")]
    assert Job("waiting_sweep") in jobs  # the team is over one page: waiting runs get their own listing
    assert drain(s, 2.5) == [Job("sweep", offset=100)]


def test_a_focused_run_polled_faster_than_the_pace_does_not_starve_the_others():
    s = Scheduler(scheduler_settings(min_interval=0.0, focus_status_interval=0.0))
    s.add_run("other", "pending", 0.0)
    s.add_run("focus", "running", 0.0)
    s.focus("focus", 0.0)
    picked = []
    for step in range(6):
        job = s.next_job(float(step))
        picked.append(job.run_id)
        # The answers come back before the next slot; the focused run is due again at once.
        if job.kind == "status":
            s.status_done(job.run_id, float(step), "running", changed=False)
        else:
            s.timers[job.run_id].in_flight.discard(job.kind)
    assert "other" in picked[:3], picked
    assert picked.count("focus") >= 3, picked


def test_an_in_flight_waiting_listing_is_not_reported_as_due():
    s = Scheduler(scheduler_settings(sweep_interval=2.0))
    s.team_listing = True
    s.team_total = 250  # more than one page: waiting runs get a listing of their own
    s._waiting_sweep_due = 0.0
    s._sweep_due = None
    job = s.next_job(1.0)
    assert job == Job("waiting_sweep")
    # While it is in flight nothing else is due, so the poller must be told to wait, not to look again at once.
    assert s.next_job(1.0) is None
    assert s.seconds_until_due(1.0) > 0
