"""What the budget tells a person: a sliding count of our requests, the server's word, and other programs."""

from __future__ import annotations

import pytest

from tests.test_budget import FakeTime, make_budget


def headers(clock: FakeTime, remaining: int, reset_in: float | None = 60.0, limit: int = 300) -> dict[str, str]:
    given = {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining)}
    if reset_in is not None:
        given["x-ratelimit-reset"] = str(round(clock.wall() + reset_in))
    return given


async def test_the_count_of_our_requests_slides_and_falls_to_zero_when_nothing_is_sent():
    clock = FakeTime()
    budget = make_budget(clock, limit=300, window=60.0)
    for _ in range(10):
        await budget.acquire()
        clock.now += 1.0  # one a second for ten seconds
    assert budget.snapshot().recent == 10
    clock.now += 45.0  # 55 s after the first: all still inside the minute
    assert budget.snapshot().recent == 10
    clock.now += 9.5  # the first five are more than a minute old
    assert budget.snapshot().recent == 5
    clock.now += 6.0
    assert budget.snapshot().recent == 0
    assert budget.snapshot().window == 60.0


async def test_the_servers_remaining_and_reset_are_shown_when_its_headers_give_them_and_forgotten_after_the_reset():
    clock = FakeTime()
    budget = make_budget(clock, limit=300)
    assert budget.snapshot().server_remaining is None
    assert budget.snapshot().server_resets_in is None
    await budget.acquire()
    budget.observe(200, headers(clock, 299, reset_in=60))
    clock.now += 20.0
    snap = budget.snapshot()
    assert snap.server_remaining == 299
    assert snap.server_resets_in == pytest.approx(40.0)
    await budget.acquire()  # what we send counts against the server's window too
    clock.now += 10.0
    snap = budget.snapshot()
    assert snap.server_remaining == 298
    assert snap.server_resets_in == pytest.approx(30.0)
    clock.now += 31.0  # the server's window has ended: what it said no longer holds
    snap = budget.snapshot()
    assert snap.server_remaining is None and snap.server_resets_in is None
    assert snap.recent == 1  # our own count is a sliding minute (the second request, 41 s ago), not the server's window


async def test_a_remaining_without_a_reset_time_is_shown_without_a_made_up_reset():
    clock = FakeTime()
    budget = make_budget(clock, limit=300)
    await budget.acquire()
    budget.observe(200, headers(clock, 299, reset_in=None))
    snap = budget.snapshot()
    assert snap.server_remaining == 299
    assert snap.server_resets_in is None


async def test_requests_the_server_counted_that_we_did_not_send_are_put_down_to_another_program():
    clock = FakeTime()
    budget = make_budget(clock, limit=300, reserve=0.0)
    for _ in range(5):
        await budget.acquire()
    # The server's window began with our first request; it counted 45 requests on this key, we sent 5.
    budget.observe(200, headers(clock, 255, reset_in=60))
    assert budget.snapshot().others == 40
    # The next answer says the other program stopped: the count in this window stays what it was.
    await budget.acquire()
    clock.now += 10.0
    budget.observe(200, headers(clock, 254, reset_in=50))
    assert budget.snapshot().others == 40
    # A new window with nobody else on the key: the mark goes.
    clock.now += 51.0
    assert budget.snapshot().others == 0
    await budget.acquire()
    budget.observe(200, headers(clock, 299, reset_in=60))
    assert budget.snapshot().others == 0


async def test_a_server_count_a_little_ahead_of_ours_is_not_called_another_program():
    clock = FakeTime()
    budget = make_budget(clock, limit=300, reserve=0.0)
    for _ in range(20):
        await budget.acquire()
    # Requests still on their way, a reset rounded to the second: a few either way is noise.
    budget.observe(200, headers(clock, 300 - 23, reset_in=60))
    assert budget.snapshot().others == 0
    budget.observe(200, headers(clock, 300 - 20, reset_in=60))
    assert budget.snapshot().others == 0


async def test_listeners_hear_when_another_program_shows_up():
    clock = FakeTime()
    budget = make_budget(clock, limit=300, reserve=0.0)
    heard = []
    budget.add_listener(heard.append)
    await budget.acquire()
    budget.observe(200, headers(clock, 299, reset_in=60))
    budget.observe(200, headers(clock, 250, reset_in=60))
    assert heard[-1].others == 49
    assert heard[-1].recent == 1
