"""Copy over SSH: OSC 52 through the app, and always a fallback file the notification names."""

from __future__ import annotations

from duvo_tui.bench.idle import IdleService
from duvo_tui.config import Profile
from duvo_tui.text import clean
from duvo_tui.ui.app import make_app
from duvo_tui.ui.chrome.clipboard import copy_text, curl_command, fallback_file
from duvo_tui.ui.stream.message_layout import message_plain_text
from duvo_tui.ui.stream.message_stream import MessageStream
from tests.feed_service import wait_until

KEY = "dv_live_secret_0123456789abcdef"


def test_curl_command_never_holds_the_key_and_quotes_the_url():
    command = curl_command("https://api.duvo.ai/", "5e1f0000-0000-4000-8000-000000000001")
    assert command == (
        'curl -sS -H "Authorization: Bearer $DUVO_API_KEY" '
        "https://api.duvo.ai/v1/runs/5e1f0000-0000-4000-8000-000000000001"
    )
    assert "'" in curl_command("http://h/x;rm -rf", "id")  # shell metacharacters end up quoted


async def test_run_id_curl_page_and_message_are_copied_with_a_fallback_file():
    service = IdleService(3, 10.0)
    run_id = service.selected
    profile = Profile(name="t", base_url="http://127.0.0.1:9", api_key=KEY)
    app = make_app(service, profile)
    async with app.run_test(size=(140, 40), notifications=True) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        app.screen_dashboard.select(run_id)
        app.screen_dashboard.action_show_pane(1)
        await pilot.pause(0.2)

        await pilot.press("I")
        await wait_until(pilot, lambda: app.clipboard == run_id)
        assert fallback_file().read_text() == run_id
        assert any(str(fallback_file()) in n.message for n in app._notifications)

        await pilot.press("C")
        await wait_until(pilot, lambda: app.clipboard.startswith("curl"))
        assert run_id in app.clipboard and "$DUVO_API_KEY" in app.clipboard and KEY not in app.clipboard
        assert fallback_file().read_text() == app.clipboard

        await pilot.press("Y")
        await wait_until(pilot, lambda: "Step" in app.clipboard)
        assert app.clipboard.count("\n") >= 5

        stream = app.screen_dashboard.query_one(MessageStream)
        expected = clean(message_plain_text(stream.selected_message()))
        await pilot.press("y")  # the selected message, from the stream
        await wait_until(pilot, lambda: app.clipboard == expected)
        assert fallback_file().read_text() == expected


async def test_copied_text_carries_no_terminal_escapes():
    class FakeApp:
        clipboard = ""
        notes: list[str] = []

        def copy_to_clipboard(self, text):
            self.clipboard = text

        def notify(self, message, **kwargs):
            self.notes.append(message)

    app = FakeApp()
    path = copy_text(app, "ok\x1b]52;c;cHduZWQ=\x07\x1b[2Jdone", "text")
    assert "\x1b" not in app.clipboard and "\x07" not in app.clipboard
    assert path is not None and "\x1b" not in path.read_text()
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
