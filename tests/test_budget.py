"""The rate budget: never more than ``limit`` per window, retry-after honoured, server headers trusted."""

from __future__ import annotations

import asyncio
import email.utils
import math

import pytest

from duvo_tui.api.budget import BudgetSnapshot, RateBudget

WALL_START = 1_800_000_000.0


class FakeTime:
    """A clock that only moves when someone sleeps on it; ``wall`` is the same clock in Unix seconds."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        return WALL_START + (self.now - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def make_budget(clock: FakeTime, **options) -> RateBudget:
    return RateBudget(clock=clock, wall_clock=clock.wall, sleep=clock.sleep, **options)


def max_in_any_window(times: list[float], window: float) -> int:
    """The largest number of grants that fall in one half-open interval [t, t + window)."""
    times = sorted(times)
    best = 0
    for i, start in enumerate(times):
        count = sum(1 for t in times[i:] if t < start + window)
        best = max(best, count)
    return best


async def test_concurrent_callers_never_exceed_the_limit_in_any_window():
    clock = FakeTime()
    budget = make_budget(clock, limit=10, window=60.0, reserve=0.0)
    granted: list[float] = []

    async def caller() -> None:
        await budget.acquire()
        granted.append(clock())

    await asyncio.wait_for(asyncio.gather(*(caller() for _ in range(50))), timeout=5)
    assert len(granted) == 50
    assert max_in_any_window(granted, 60.0) == 10
    # Fifty requests at ten a minute take (at least) four further windows.
    assert max(granted) - min(granted) >= 4 * 60.0


async def test_urgent_and_normal_callers_together_never_exceed_the_limit():
    clock = FakeTime()
    budget = make_budget(clock, limit=10, window=60.0, reserve=0.2)
    granted: list[tuple[float, bool]] = []

    async def caller(urgent: bool) -> None:
        await budget.acquire(urgent=urgent)
        granted.append((clock(), urgent))

    await asyncio.wait_for(asyncio.gather(*(caller(i % 3 == 0) for i in range(45))), timeout=5)
    assert len(granted) == 45
    assert max_in_any_window([t for t, _ in granted], 60.0) <= 10
    # Normal callers alone never use the reserved share (2 of 10).
    assert max_in_any_window([t for t, urgent in granted if not urgent], 60.0) <= 8


async def test_a_full_window_frees_up_as_old_requests_age_out():
    clock = FakeTime()
    budget = make_budget(clock, limit=3, window=10.0, reserve=0.0)
    for _ in range(3):
        await budget.acquire()
    assert budget.snapshot().remaining == 0
    start = clock()
    await budget.acquire()
    assert clock() - start == pytest.approx(10.0)
    clock.now += 10.0
    snap = budget.snapshot()
    assert snap.used == 0 and snap.remaining == 3


async def test_reserve_is_kept_for_urgent_callers():
    clock = FakeTime()
    frozen = asyncio.Event()

    async def never_wakes(seconds: float) -> None:
        await frozen.wait()

    budget = RateBudget(limit=10, window=60.0, reserve=0.2, clock=clock, wall_clock=clock.wall, sleep=never_wakes)
    for _ in range(8):
        await asyncio.wait_for(budget.acquire(), timeout=1)
    waiting_normal = asyncio.create_task(budget.acquire())
    await asyncio.sleep(0.01)
    assert not waiting_normal.done(), "a normal caller may not take the reserved share"
    # Urgent callers get the two reserved requests at once, past the queued normal caller.
    await asyncio.wait_for(budget.acquire(urgent=True), timeout=1)
    await asyncio.wait_for(budget.acquire(urgent=True), timeout=1)
    assert budget.snapshot().remaining == 0
    waiting_urgent = asyncio.create_task(budget.acquire(urgent=True))
    await asyncio.sleep(0.01)
    assert not waiting_urgent.done(), "not even an urgent caller goes past the limit"
    waiting_normal.cancel()
    waiting_urgent.cancel()
    await asyncio.gather(waiting_normal, waiting_urgent, return_exceptions=True)


async def test_after_a_429_nothing_is_sent_until_retry_after_has_passed():
    clock = FakeTime()
    budget = make_budget(clock, limit=300)
    await budget.acquire()
    budget.observe(429, {"retry-after": "7", "x-ratelimit-remaining": "0"})
    snap = budget.snapshot()
    assert snap.paused_for == pytest.approx(7.0)
    assert snap.paused
    start = clock()
    await budget.acquire(urgent=True)
    assert clock() - start >= 7.0


async def test_a_429_without_retry_after_waits_for_the_reported_reset():
    clock = FakeTime()
    budget = make_budget(clock)
    await budget.acquire()
    budget.observe(429, {"x-ratelimit-reset": str(int(clock.wall() + 12))})
    start = clock()
    await budget.acquire(urgent=True)
    assert clock() - start >= 12.0


async def test_server_remaining_lower_than_ours_is_trusted():
    clock = FakeTime()
    budget = make_budget(clock, limit=300, reserve=0.0)
    await budget.acquire()
    # Another program on the same key has used most of the window.
    budget.observe(
        200, {"x-ratelimit-limit": "300", "x-ratelimit-remaining": "3", "x-ratelimit-reset": str(clock.wall() + 30)}
    )
    snap = budget.snapshot()
    assert snap.remaining == 3
    assert snap.used == 297
    assert snap.resets_in == pytest.approx(30.0)
    for _ in range(3):
        await budget.acquire()
    assert clock.sleeps == []
    start = clock()
    await budget.acquire()
    assert clock() - start >= 30.0


async def test_server_remaining_higher_than_ours_does_not_raise_the_estimate_within_a_window():
    clock = FakeTime()
    budget = make_budget(clock, limit=10, reserve=0.0)
    reset = str(clock.wall() + 50)
    await budget.acquire()
    budget.observe(200, {"x-ratelimit-remaining": "4", "x-ratelimit-reset": reset})
    await budget.acquire()
    # A late response that saw more headroom does not undo what we know.
    budget.observe(200, {"x-ratelimit-remaining": "9", "x-ratelimit-reset": reset})
    assert budget.snapshot().remaining == 3


async def test_responses_still_in_flight_are_not_counted_twice_or_forgotten():
    clock = FakeTime()
    budget = make_budget(clock, limit=100, reserve=0.0)
    reset = str(clock.wall() + 60)
    for _ in range(3):
        await budget.acquire()
    # The server answered the first of three; the other two are still on their way.
    budget.observe(200, {"x-ratelimit-remaining": "99", "x-ratelimit-reset": reset})
    assert budget.snapshot().remaining == 97
    budget.observe(200, {"x-ratelimit-remaining": "98", "x-ratelimit-reset": reset})
    budget.observe(200, {"x-ratelimit-remaining": "97", "x-ratelimit-reset": reset})
    assert budget.snapshot().remaining == 97


async def test_server_limit_header_replaces_the_configured_limit():
    clock = FakeTime()
    budget = make_budget(clock, limit=300)
    await budget.acquire()
    budget.observe(200, {"x-ratelimit-limit": "60", "x-ratelimit-remaining": "59"})
    snap = budget.snapshot()
    assert snap.limit == 60
    assert snap.remaining == 59


async def test_a_new_server_window_replaces_the_old_estimate():
    clock = FakeTime()
    budget = make_budget(clock, limit=100, reserve=0.0)
    await budget.acquire()
    budget.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(clock.wall() + 5)})
    assert budget.snapshot().remaining == 0
    await budget.acquire()  # waits for the reset
    assert clock() >= 1005.0
    budget.observe(200, {"x-ratelimit-remaining": "99", "x-ratelimit-reset": str(clock.wall() + 60)})
    # The server's count for its new window (our request after the reset is in it), not the old one's.
    assert budget.snapshot().remaining == 99


async def test_a_short_server_window_is_learned_so_callers_do_not_wait_a_minute():
    clock = FakeTime()
    budget = make_budget(clock, reserve=0.0)  # configured for 300 a minute
    await budget.acquire()
    budget.observe(
        200, {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "9", "x-ratelimit-reset": str(clock.wall() + 2)}
    )
    granted = [clock()]
    for _ in range(25):
        await budget.acquire()
        granted.append(clock())
    assert max_in_any_window(granted, 2.0) <= 10
    assert granted[-1] - granted[0] < 10.0, "waited as if the window were a minute long"


async def test_the_servers_date_header_corrects_a_skewed_local_clock():
    clock = FakeTime()
    budget = make_budget(clock, limit=10)
    await budget.acquire()
    server_now = clock.wall() - 100  # the local clock runs 100 s ahead
    date = email.utils.formatdate(server_now, usegmt=True)
    budget.observe(200, {"date": date, "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(server_now) + 30)})
    assert budget.snapshot().resets_in == pytest.approx(30.0, abs=1.0)


async def test_a_reset_given_as_seconds_rather_than_a_timestamp_is_understood():
    clock = FakeTime()
    budget = make_budget(clock, limit=10, reserve=0.0)
    await budget.acquire()
    budget.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "20"})
    assert budget.snapshot().resets_in == pytest.approx(20.0)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-ratelimit-limit": "lots", "x-ratelimit-remaining": "-5", "x-ratelimit-reset": "soon", "retry-after": "x"},
        {"x-ratelimit-limit": "nan", "x-ratelimit-remaining": "inf", "x-ratelimit-reset": "1e400"},
        {"x-ratelimit-limit": "0", "retry-after": "-1"},
        {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"},
        None,
        {},
    ],
)
async def test_nonsense_headers_never_raise_and_keep_the_budget_usable(headers):
    clock = FakeTime()
    budget = make_budget(clock, limit=10)
    await budget.acquire()
    budget.observe(429, headers)
    budget.observe(200, headers)
    snap = budget.snapshot()
    assert snap.limit >= 1
    assert 0 <= snap.remaining <= snap.limit
    assert math.isfinite(snap.resets_in) and math.isfinite(snap.paused_for)
    await asyncio.wait_for(budget.acquire(urgent=True), timeout=2)


async def test_listeners_hear_about_changes_and_cannot_break_the_budget():
    clock = FakeTime()
    budget = make_budget(clock, limit=10, reserve=0.0)
    heard: list[BudgetSnapshot] = []

    def broken(snapshot: BudgetSnapshot) -> None:
        raise RuntimeError("listener bug")

    budget.add_listener(broken)
    remove = budget.add_listener(heard.append)
    await budget.acquire()
    await budget.acquire()
    budget.observe(429, {"retry-after": "3"})
    assert [s.used for s in heard[:2]] == [1, 2]
    assert heard[-1].paused
    count = len(heard)
    remove()
    await budget.acquire(urgent=True)
    assert len(heard) == count


async def test_a_cancelled_waiter_does_not_block_the_next_one():
    clock = FakeTime()
    frozen = asyncio.Event()

    async def frozen_sleep(seconds: float) -> None:
        await frozen.wait()

    budget = RateBudget(limit=1, reserve=0.0, clock=clock, wall_clock=clock.wall, sleep=frozen_sleep)
    await budget.acquire()
    waiter = asyncio.create_task(budget.acquire())
    await asyncio.sleep(0.01)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    clock.now += 61
    await asyncio.wait_for(budget.acquire(), timeout=1)


async def test_a_waiter_wakes_early_when_a_response_frees_the_budget():
    clock = FakeTime()
    frozen = asyncio.Event()

    async def frozen_sleep(seconds: float) -> None:
        await frozen.wait()

    budget = RateBudget(limit=100, reserve=0.0, clock=clock, wall_clock=clock.wall, sleep=frozen_sleep)
    await budget.acquire()
    budget.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(clock.wall() + 30)})
    waiter = asyncio.create_task(budget.acquire())
    await asyncio.sleep(0.01)
    assert not waiter.done()
    clock.now += 31  # the window ended; the next response says so
    budget.observe(200, {"x-ratelimit-remaining": "100", "x-ratelimit-reset": str(clock.wall() + 60)})
    await asyncio.wait_for(waiter, timeout=1)


def test_snapshot_of_a_fresh_budget():
    clock = FakeTime()
    snap = make_budget(clock, limit=300).snapshot()
    assert snap == BudgetSnapshot(used=0, limit=300, remaining=300, resets_in=0.0, paused_for=0.0)
    assert "used=0" in repr(make_budget(clock))


def test_a_budget_works_again_in_a_new_event_loop():
    budget = RateBudget(limit=5)
    asyncio.run(budget.acquire())
    asyncio.run(budget.acquire())
    assert budget.snapshot().used == 2


async def test_a_reset_that_moves_earlier_is_believed():
    clock = FakeTime()
    budget = make_budget(clock, limit=100, reserve=0.0)
    await budget.acquire()
    budget.observe(200, {"x-ratelimit-remaining": "98", "x-ratelimit-reset": str(clock.wall() + 60)})
    # The server now says: nothing left, but only for one more second (a restarted server, a short block).
    budget.observe(429, {"retry-after": "1", "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(clock.wall() + 1)})
    start = clock()
    await budget.acquire()
    assert 1.0 <= clock() - start < 5.0


async def test_a_late_answer_about_an_ended_window_is_ignored():
    clock = FakeTime()
    budget = make_budget(clock, limit=100, reserve=0.0)
    await budget.acquire()
    budget.observe(200, {"x-ratelimit-remaining": "90", "x-ratelimit-reset": str(clock.wall() + 60)})
    budget.observe(200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(clock.wall() - 5)})
    assert budget.snapshot().remaining == 90
