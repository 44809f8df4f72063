"""The header's budget gauge as a person sees it: our requests in the last minute (falling when quiet), the
server's word on what is left, and a mark when another program spends the same key."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from duvo_tui.api.budget import RateBudget
from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.service import DuvoService
from duvo_tui.service import events as ev
from duvo_tui.ui.app import make_app
from duvo_tui.ui.chrome.header import DashboardHeader
from tests.feed_service import FeedService, wait_until
from tests.settings import service_settings

SIZES = [(80, 24), (120, 40)]


def header_text(app) -> str:
    return app.screen_dashboard.query_one(DashboardHeader).render().plain


def our_count(app) -> int | None:
    """The gauge's count of our requests in the last window (``N/300 last ...``), None when not shown."""
    found = re.search(r"(\d+)/300 last", header_text(app))
    return int(found.group(1)) if found else None


def budget(**fields) -> ev.BudgetChanged:
    given = {"used": 0, "limit": 300, "remaining": 300, "resets_in": 0.0, **fields}
    return ev.BudgetChanged(**given)


@pytest.mark.parametrize("size", SIZES)
async def test_the_header_shows_our_count_of_the_last_minute_and_the_servers_word(size):
    service = FeedService()
    app = make_app(service, Profile(name="work"))
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        service.emit(budget(used=12, remaining=288, recent=12, server_remaining=288, server_resets_in=23.2))
        await wait_until(pilot, lambda: "12/300" in header_text(app))
        text = header_text(app)
        assert len(text) <= size[0]
        assert "12/300 last min" in text
        if size[0] >= 120:
            assert "server 288 left, resets 23s" in text
        # Quiet: the count falls, and the server's window ended (nothing it said holds any more).
        service.emit(budget(recent=3))
        await wait_until(pilot, lambda: "3/300 last min" in header_text(app))
        assert "server" not in header_text(app) and "resets" not in header_text(app)


@pytest.mark.parametrize("size", SIZES)
async def test_another_program_on_the_same_key_is_marked_even_at_80_columns(size):
    service = FeedService()
    app = make_app(service, Profile(name="work"))
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        service.emit(budget(used=52, remaining=248, recent=12, server_remaining=248, server_resets_in=40, others=40))
        await wait_until(pilot, lambda: "by others" in header_text(app))
        text = header_text(app)
        assert "12/300 last min" in text and "+40 by others" in text
        assert len(text) <= size[0]
        # The bar shows the key as the server counts it (52 of 300 is about 1 of 8 cells), not only ours.
        assert "▮▯▯▯▯▯▯▯" in text


async def test_no_words_mean_a_count_that_stays_put_while_a_reset_cycles():
    service = FeedService()
    app = make_app(service, Profile(name="work"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        service.emit(budget(used=135, remaining=165, resets_in=59, recent=0))
        await wait_until(pilot, lambda: "0/300" in header_text(app))
        # ``used`` and ``resets_in`` drive pacing, not the gauge: nothing of 135 or 59 s is shown.
        assert "135" not in header_text(app) and "59s" not in header_text(app)


def shows_the_servers_count(app, emulator, others: int) -> bool:
    """True when the header shows the requests the emulator received from us, and what it says is left."""
    received = len(emulator.state.requests_between(0))
    ours, left = received - others, 300 - received
    text = header_text(app)
    return our_count(app) == ours and f"server {left} left" in text and (not others or f"+{others} by" in text)


class ShiftedClock:
    """The monotonic clock, moved forward on demand (a minute passes in an instant)."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.shift


async def test_the_gauge_falls_back_to_zero_a_minute_after_the_dashboard_goes_quiet_and_marks_others(emulator):
    clock = ShiftedClock()
    client = DuvoClient(emulator.base_url, emulator.api_key, budget=RateBudget(clock=clock))
    # No run listing: the only requests are the first one (who the key is) and those made here.
    service = DuvoService(client, service_settings(run_listing=False), state_dir=None)
    app = make_app(service, Profile(name="work"))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.service_started and service.profile is not None)
            sandbox = await service.create_sandbox()
            for _ in range(4):
                await service.list_files(sandbox.sandbox_id)
            # What the gauge says is judged against what the emulator received (one fresh key, one window: every
            # request so far is ours), not against a count fixed in advance that any extra request would upset.
            await wait_until(pilot, lambda: shows_the_servers_count(app, emulator, others=0), within=30)
            assert our_count(app) >= 6  # the first request (who the key is), the sandbox and the four listings
            # A colleague's script on the same key sends 30 requests; our next answer shows the server's count.
            headers = {"Authorization": f"Bearer {emulator.api_key}"}
            async with httpx.AsyncClient(base_url=emulator.base_url, headers=headers) as other:
                for _ in range(30):
                    await other.get(f"/v1/sandboxes/{sandbox.sandbox_id}/files")
            await service.list_files(sandbox.sandbox_id)
            await wait_until(pilot, lambda: shows_the_servers_count(app, emulator, others=30), within=30)
            assert "+30 by others" in header_text(app)
            # A quiet minute: the count falls to zero by itself, and the server's window (and its word) is over.
            received = len(emulator.state.requests_between(0))
            clock.shift += 61.0

            def story() -> str:
                later = emulator.state.requests_between(0)[received:]
                return f"the header says {header_text(app)!r}; requests since the minute passed: {later}"

            await wait_until(pilot, lambda: our_count(app) == 0, within=30, explain=story)
            text = header_text(app)
            assert "by others" not in text and "server" not in text
    finally:
        await client.aclose()
