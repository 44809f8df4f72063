"""The inbox's order, ages and the next waiting request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from duvo_tui.api.models import HumanRequest
from duvo_tui.ui.hitl.inbox import InboxScreen, entry_text, format_age, inbox_entries, next_waiting

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def _request(run: str, minutes_ago: float | None, title: str = "t") -> HumanRequest:
    created = NOW - timedelta(minutes=minutes_ago) if minutes_ago is not None else None
    return HumanRequest(id=f"req-{run}", run_id=run, title=title, created_at=created)


def test_oldest_first_unknown_times_last_and_next_wraps():
    entries = inbox_entries(
        [_request("b", 1), _request("c", None), _request("a", 90)], lambda run: (f"agent {run}", f"run {run}")
    )
    assert [e.run_id for e in entries] == ["a", "b", "c"]
    assert entries[0].agent == "agent a"
    assert next_waiting(entries, None).run_id == "a"
    assert next_waiting(entries, "a").run_id == "b"
    assert next_waiting(entries, "c").run_id == "a"
    assert next_waiting(entries, "zzz").run_id == "a"
    assert next_waiting([], "a") is None


def test_ages():
    assert format_age(None, NOW) == "?"
    assert format_age(NOW - timedelta(seconds=12), NOW) == "12s"
    assert format_age(NOW - timedelta(minutes=5), NOW) == "5m"
    assert format_age(NOW - timedelta(hours=3), NOW) == "3h"
    assert format_age(NOW - timedelta(days=2), NOW) == "2d"
    assert format_age(NOW + timedelta(minutes=5), NOW) == "0s"  # a clock ahead of ours


def test_rows_show_server_text_literally():
    entries = inbox_entries([_request("a", 3, "[@click=app.quit]Pay[/] \x1b]0;title\x07now")], lambda r: ("[b]x", ""))
    text = entry_text(entries[0], NOW)
    assert "[@click=app.quit]Pay[/] now" in text.plain and "[b]x" in text.plain and "\x1b" not in text.plain


async def test_inbox_screen_by_keys():
    from textual.app import App

    entries = inbox_entries([_request("b", 1), _request("a", 9)], lambda r: (r, ""))
    chosen: list[str | None] = []

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(InboxScreen(entries, now=NOW), chosen.append)

    app = Host()
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("down", "enter")
        await pilot.pause()
        assert chosen == ["b"]
        app.push_screen(InboxScreen([], now=NOW), chosen.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert chosen == ["b", None]
