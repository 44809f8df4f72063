"""Stream health on screen (live / reconnecting / rate-limited / stale) and a stream gap backfilled."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.api.models import Run
from duvo_tui.config import Profile
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service import events as ev
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from duvo_tui.ui.stream.stream_health import STALE_AFTER, StreamHealth
from tests.feed_service import FeedService, wait_until
from tests.settings import service_settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def health_at(status: str = "running") -> tuple[StreamHealth, Clock]:
    clock = Clock()
    health = StreamHealth(clock=clock, wall=lambda: datetime(2026, 11, 29, 3, 4, 5))
    health.select("run-1", status)
    return health, clock


def test_live_reconnecting_rate_limited_and_back():
    health, clock = health_at()
    assert health.describe() == "live"
    health.observe(ev.ConnectionLost("refused", attempt=3))
    assert health.describe() == "reconnecting (attempt 3)"
    health.observe(ev.ConnectionRestored())
    assert health.describe() == "live"
    health.observe(ev.BudgetChanged(used=10, limit=10, remaining=0, resets_in=5, paused_for=5))
    assert health.describe() == "rate-limited (resumes in 5s)"
    clock.now += 6
    assert health.describe() == "live"


def test_an_active_run_without_news_goes_stale_and_news_makes_it_live():
    health, clock = health_at()
    clock.now += STALE_AFTER + 1
    assert health.describe() == "stale since 03:04:05"
    health.observe(ev.MessagesAppended("run-1", 0, (), 0))
    assert health.describe() == "live"
    health.observe(ev.MessagesAppended("another-run", 0, (), 0))
    clock.now += STALE_AFTER + 1
    assert health.describe().startswith("stale")


def test_a_waiting_or_ended_run_is_never_stale():
    health, clock = health_at("waiting")
    clock.now += 10 * STALE_AFTER
    assert health.describe() == "live"
    health.observe(ev.RunChanged(Run(id="run-1", status="completed")))
    clock.now += 10 * STALE_AFTER
    assert health.describe() == "ended"


@pytest.mark.parametrize("status", ["completed", "failed", "interrupted", "stopped"])
def test_a_finished_run_reads_ended_whatever_its_final_status(status):
    health, clock = health_at("running")
    health.observe(ev.RunChanged(Run(id="run-1", status=status)))
    assert health.describe() == "ended"
    clock.now += 10 * STALE_AFTER
    assert health.describe() == "ended"


@pytest.mark.parametrize("status", ["not_started", "pending", "starting", "running", "something-new"])
def test_a_run_that_should_move_on_its_own_goes_stale_when_silent(status):
    health, clock = health_at(status)
    clock.now += STALE_AFTER + 1
    assert health.describe() == "stale since 03:04:05"


async def test_an_interrupted_run_shows_ended_on_screen_not_live():
    run = Run(id="5e1f0000-0000-4000-8000-000000000002", status="running", title="t")
    service = FeedService([run])
    app = make_app(service, Profile(name="t"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        app.screen_dashboard.select(run.id)
        pane = app.screen_dashboard.query_one("#messages-pane")
        await wait_until(pilot, lambda: str(pane.border_subtitle) == "stream: live")
        service.emit(ev.RunChanged(Run(id=run.id, status="interrupted", title="t"), previous_status="running"))
        await wait_until(pilot, lambda: str(pane.border_subtitle) == "stream: ended")


async def test_the_messages_pane_shows_the_stream_state():
    run = Run(id="5e1f0000-0000-4000-8000-000000000001", status="running", title="t")
    service = FeedService([run])
    app = make_app(service, Profile(name="t"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        app.screen_dashboard.select(run.id)
        pane = app.screen_dashboard.query_one("#messages-pane")
        await wait_until(pilot, lambda: "live" in str(pane.border_subtitle))
        service.emit(ev.ConnectionLost("connection refused", attempt=2))
        await wait_until(pilot, lambda: "reconnecting (attempt 2)" in str(pane.border_subtitle))
        service.emit(ev.ConnectionRestored())
        await wait_until(pilot, lambda: str(pane.border_subtitle).endswith("live"))


async def test_a_gap_in_the_stream_is_backfilled_without_skipping(tmp_path):
    with running_emulator(speed=20, chatty_messages=120) as emu:
        client = DuvoClient(emu.base_url, emu.api_key, max_retries=0)
        fast = service_settings(min_interval=0.1, focus_status_interval=0.2, interval=0.2, max_interval=1.0)
        service = DuvoService(client, fast, state_dir=tmp_path)
        await service.start()
        try:
            run = await service.start_run(emu.agents["chatty"], message="go")
            service.focus(run.id)
            deadline = time.monotonic() + 20
            while len(service.messages(run.id)) < 10:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
            emu.stop()  # the gap: the server is gone while the run keeps talking
            await asyncio.sleep(1.5)
            record = emu.state.runs[run.id]
            assert len(record.messages) > len(service.messages(run.id)), "no gap to backfill"
            emu.restart()
            while record.status not in ("completed", "failed") or len(service.messages(run.id)) < len(record.messages):
                assert time.monotonic() < deadline + 20, (record.status, len(service.messages(run.id)))
                await asyncio.sleep(0.1)
            got = [m.id for m in service.messages(run.id)]
            assert got == [m["id"] for m in record.messages]
        finally:
            await service.close()
            await client.aclose()


async def test_nothing_is_drawn_while_nothing_changes():
    from duvo_tui.bench.idle import IdleService

    service = IdleService(20, 10.0)
    app = make_app(service, Profile(name="t"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        app.screen_dashboard.select(service.selected)
        await pilot.pause(1.0)  # let the first frames settle
        frames: list[object] = []
        original = app._display
        app._display = lambda screen, renderable: (frames.append(renderable), original(screen, renderable))
        await pilot.pause(2.0)
        assert frames == []
        # A change is drawn: the counter does see frames.
        app.screen_dashboard.select(service.runs()[1].id)
        await wait_until(pilot, lambda: frames)


async def test_streaming_messages_costs_no_layout_pass(monkeypatch):
    from textual.widget import Widget

    from duvo_tui.bench.idle import IdleService
    from duvo_tui.ui.stream.message_stream import MessageStream

    service = IdleService(5, 100.0)
    app = make_app(service, Profile(name="t"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        app.screen_dashboard.select(service.selected)
        app.screen_dashboard.action_show_pane(1)
        stream = app.screen_dashboard.query_one(MessageStream)
        await pilot.pause(0.5)
        layouts: list[str] = []
        original = Widget.refresh

        def counting(self, *regions, **kwargs):
            if kwargs.get("layout") and isinstance(self, MessageStream):
                layouts.append("layout")
            return original(self, *regions, **kwargs)

        monkeypatch.setattr(Widget, "refresh", counting)
        before = stream.message_count
        service.start_stream()
        await wait_until(pilot, lambda: stream.message_count >= before + 50)
        assert layouts == []
        assert stream.scroll_y == stream.max_scroll_y  # still following the newest message
