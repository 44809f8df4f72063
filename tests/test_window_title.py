"""The window title carries the count of pending human requests, and only clean text."""

from __future__ import annotations

from duvo_tui.api.models import HumanRequest
from duvo_tui.config import Profile
from duvo_tui.service import events as ev
from duvo_tui.ui.app import make_app
from duvo_tui.ui.chrome.window_title import WindowTitle, window_title
from tests.feed_service import FeedService, wait_until


def request(run_id: str, request_id: str) -> HumanRequest:
    return HumanRequest(id=request_id, run_id=run_id, type="approval", title="ok?")


def test_title_text():
    assert window_title(0) == "duvo-tui"
    assert window_title(2) == "(2) duvo-tui"
    assert window_title(1, "prod") == "(1) duvo-tui · prod"


def test_a_hostile_label_cannot_reach_the_terminal():
    for label in ("\x1b]2;pwned\x07", "a\x07b\x1b[2Jc", "x\x9d0;evil\x9c", "line\nbreak", "\u2028"):
        title = window_title(3, label)
        assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in title), repr(title)
        assert title.startswith("(3) duvo-tui")


def test_the_terminal_title_is_written_once_per_change():
    titles = WindowTitle()
    assert titles.changed(2) == "(2) duvo-tui"
    assert titles.changed(2) is None  # the terminal shows it already: nothing to write
    assert titles.changed(0) == "duvo-tui"
    assert titles.changed(0, "prod") == "duvo-tui · prod"


async def test_the_title_follows_pending_requests():
    service = FeedService()
    app = make_app(service, Profile(name="t", label="staging"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        assert app.title == "duvo-tui · staging"
        service.emit(ev.HumanRequestAppeared(request("run-1", "r1")))
        service.emit(ev.HumanRequestAppeared(request("run-2", "r2")))
        await wait_until(pilot, lambda: app.title == "(2) duvo-tui · staging")
        service.emit(ev.HumanRequestResolved("run-1", "r1"))
        await wait_until(pilot, lambda: app.title == "(1) duvo-tui · staging")
        service.emit(ev.HumanRequestResolved("run-2", "r2"))
        await wait_until(pilot, lambda: app.title == "duvo-tui · staging")
