"""The dashboard posting text that is not valid UTF-8 (a pasted lone surrogate): a notification says which field
holds it, the draft stays in the box, and nothing reaches the server."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.service.service import DuvoService, ServiceSettings
from duvo_tui.ui.app import make_app

FAST = ServiceSettings(focus_interval=0.2, focus_status_interval=0.2, active_interval=0.3, waiting_interval=0.5)


async def wait_until(pilot: Pilot, condition: Callable[[], Any], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the dashboard")
        await pilot.pause(0.05)


@pytest.mark.parametrize(
    ("draft", "note"),
    [
        (b"caf\xff".decode("utf-8", "surrogateescape"), "(the byte 0xFF at character 4)"),
        ("hi \ud83d", "(a lone surrogate U+D83D at character 4)"),
    ],
    ids=["invalid-byte", "lone-surrogate"],
)
async def test_posting_unencodable_text_notifies_and_keeps_the_draft(emulator, tmp_path, draft, note):
    client = DuvoClient(emulator.base_url, emulator.api_key)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    profile = Profile(name="test", base_url=emulator.base_url, api_key=emulator.api_key)
    app = make_app(service, profile, on_close=client.aclose)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        run = await service.start_run(emulator.agents["quick"], message="ping")
        await wait_until(pilot, lambda: service.run(run.id) is not None and service.run(run.id).status == "completed")
        app.select_run(run.id)
        await pilot.press("2", "i")
        box = app.screen.focused
        assert box is not None and box.id == "post-input"
        sent_before = len(emulator.state.runs[run.id].messages)

        box.value = draft
        await pilot.press("enter")
        expected = f"Not sent: message: contains bytes that are not valid UTF-8 {note}"
        await wait_until(pilot, lambda: any(n.message == expected for n in app._notifications))

        assert next(n for n in app._notifications if n.message == expected).severity == "error"
        assert box.value == draft  # what the user typed is kept
        await pilot.pause(0.3)
        assert len(emulator.state.runs[run.id].messages) == sent_before
        assert app.is_running
