"""A refused key costs nothing while it stays refused: after the 401 the dashboard asks the server nothing
(however fast it polls otherwise) until the person presses r, which tries the key once; once the server takes
the key, polling resumes and the header names the key's owner."""

from __future__ import annotations

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from tests.test_connection_header import header_line
from tests.test_service import CountingTransport
from tests.test_ui_dashboard import FAST, wait_until

KEY = "dv_revoked_key_0123456789abcdefghijk"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_a_refused_key_is_not_polled_until_r_tries_it_again(emulator, tmp_path, size):
    transport = CountingTransport()
    client = DuvoClient(emulator.base_url, KEY, transport=transport, timeout=5.0)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    app = make_app(service, Profile(name="work", base_url=emulator.base_url, api_key=KEY), on_close=client.aclose)
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_until(pilot, lambda: "key refused" in header_line(app), within=10)
        refused_at = len(transport.sent)
        said = [str(n.message) for n in app._notifications if "refused" in f"{n.title} {n.message}"]
        assert said and "r tries the key again" in said[0], said
        # FAST polls every 0.2-0.5 s: two seconds at that rate would be several requests. None go out, even with
        # a person at the keys.
        for key in ("j", "k", "2", "1"):
            await pilot.press(key)
        await pilot.pause(2.0)
        assert len(transport.sent) == refused_at, transport.sent[refused_at:]
        # r tries the key once, and says so; still refused, the header still says so and polling stays stopped.
        await pilot.press("r")
        await wait_until(pilot, lambda: len(transport.sent) == refused_at + 1)
        await pilot.pause(1.0)
        assert [path for _, path in transport.sent[refused_at:]] == ["/v1/profile"]
        assert "✗ key refused (401): check DUVO_API_KEY" in header_line(app)
        assert any("Trying the API key again" in str(n.message) for n in app._notifications)
        # The key is taken now (made valid on the server): r again, and the dashboard is connected and polls.
        state = emulator.state

        def accept() -> None:
            state.key_teams[KEY] = state.key_teams[emulator.api_key]
            state.key_users[KEY] = state.key_users[emulator.api_key]

        state.call(accept)
        await pilot.press("r")
        await wait_until(pilot, lambda: "Maya Chen" in header_line(app), within=10)
        await wait_until(pilot, lambda: any(path == "/v1/runs" for _, path in transport.sent[refused_at + 1 :]))
        assert "refused" not in header_line(app)
