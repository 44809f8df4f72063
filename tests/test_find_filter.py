"""The filter key: with a search on, F shows only the matching messages, new ones included; F again, all."""

from __future__ import annotations

from duvo_tui.bench.idle import IdleService
from duvo_tui.bench.stream import synthetic_messages
from duvo_tui.config import Profile
from duvo_tui.service import events as ev
from duvo_tui.ui.app import make_app
from duvo_tui.ui.stream.message_stream import MessageStream
from tests.feed_service import wait_until


def emit(service, event):
    for callback in list(service._callbacks):
        callback(event)


async def test_filter_hides_non_matching_messages_and_lets_matching_new_ones_in():
    service = IdleService(3, 10.0)
    run_id = service.selected
    app = make_app(service, Profile(name="t"))
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        app.screen_dashboard.select(run_id)
        app.screen_dashboard.action_show_pane(1)
        stream = app.screen_dashboard.query_one(MessageStream)
        await wait_until(pilot, lambda: stream.message_count == 40)

        await pilot.press("F")  # no search yet: nothing hidden, and the user is told why
        await wait_until(pilot, lambda: any(n.title == "Search first" for n in app._notifications))
        assert stream.message_count == 40

        stream.set_search("errors in this slice")
        await pilot.press("F")
        await wait_until(pilot, lambda: stream.message_count == 10)

        new = synthetic_messages(40, 4)  # one of the four matches
        service._messages[run_id].extend(new)
        emit(service, ev.MessagesAppended(run_id, 40, tuple(new), 44))
        await wait_until(pilot, lambda: stream.message_count == 11)

        await pilot.press("F")
        await wait_until(pilot, lambda: stream.message_count == 44)
