"""Find inside the stream: n/N move between matches while a search is on, and mean their usual
(next waiting run, inbox) otherwise."""

from __future__ import annotations

from duvo_tui.bench.idle import IdleService
from duvo_tui.config import Profile
from duvo_tui.ui.app import make_app
from duvo_tui.ui.stream.message_stream import MessageStream
from tests.feed_service import wait_until


async def open_stream(pilot, app, service):
    await wait_until(pilot, lambda: app.service_started)
    app.screen_dashboard.select(service.selected)
    app.screen_dashboard.action_show_pane(1)
    stream = app.screen_dashboard.query_one(MessageStream)
    await wait_until(pilot, lambda: stream.has_focus and stream.message_count == 40)
    return stream


async def test_n_and_shift_n_move_between_matches():
    service = IdleService(3, 10.0)
    app = make_app(service, Profile(name="t"))
    async with app.run_test(size=(140, 40)) as pilot:
        stream = await open_stream(pilot, app, service)
        stream.set_search("errors in this slice")  # every fourth message says it
        await pilot.pause(0.05)
        first = stream.cursor
        assert first % 4 == 0
        await pilot.press("n")
        await wait_until(pilot, lambda: stream.cursor == (first + 4) % 40)
        await pilot.press("n")
        await wait_until(pilot, lambda: stream.cursor == (first + 8) % 40)
        await pilot.press("N")
        await wait_until(pilot, lambda: stream.cursor == (first + 4) % 40)
        assert app.screen_dashboard.selected == service.selected  # n did not jump to a waiting run


async def test_without_a_search_n_jumps_to_the_next_waiting_run():
    service = IdleService(3, 10.0)
    waiting = next(r.id for r in service.runs() if r.status == "waiting")
    app = make_app(service, Profile(name="t"))
    async with app.run_test(size=(140, 40)) as pilot:
        stream = await open_stream(pilot, app, service)
        assert stream.search_query == ""
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen_dashboard.selected == waiting)
