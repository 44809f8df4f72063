"""The dashboard's start: the first frame needs only the panes' frames; their widgets, and the bulk of the UI's
code, load right after it. Keys pressed in between do nothing rather than fail."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

from duvo_tui.config import Profile
from duvo_tui.ui.app import make_app
from duvo_tui.ui.panes import Pane
from tests.feed_service import FeedService, wait_until

# Modules the first frame must not wait for (each is tens of milliseconds to import, or more).
HEAVY = (
    "httpx",
    "markdown_it",
    "duvo_tui.api.models",
    "duvo_tui.api.client",
    "duvo_tui.service.service",
    "duvo_tui.ui.hitl.hitl_form",
    "duvo_tui.ui.stream.message_stream",
    "duvo_tui.ui.runs.run_list",
    "duvo_tui.ui.sandbox.sandbox_tree",
    "duvo_tui.ui.dialogs",
    "textual.widgets._markdown",
)


def test_importing_the_app_loads_none_of_the_heavy_modules():
    code = f"import json, sys; import duvo_tui.ui.app; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == []


async def test_keys_before_the_panes_are_filled_do_nothing_and_the_panes_fill_after(monkeypatch):
    release = asyncio.Event()
    original = Pane.populate

    async def held_populate(self: Pane) -> None:
        await release.wait()
        await original(self)

    monkeypatch.setattr(Pane, "populate", held_populate)
    app = make_app(FeedService(), Profile(name="t"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        panes = list(app.screen.query(Pane))
        assert len(panes) == 4 and all(not pane.children for pane in panes)
        assert not app.screen_dashboard.ready
        for key in ("n", "N", "F", "Y", "I", "x", "a", "s", "2", "tab", "4", "1"):
            await pilot.press(key)
        await pilot.pause()
        assert app.is_running and app.screen is app.screen_dashboard  # no dialog opened, nothing failed
        release.set()
        await wait_until(pilot, lambda: app.service_started)
        assert app.screen_dashboard.ready and all(pane.children for pane in panes)
        assert app.focused is not None and app.focused.id == "run-list"
        assert not app.screen.query("#hitl-form")  # the answering form comes with the first request
        await pilot.press("a")  # the commands work now
        await wait_until(pilot, lambda: app.screen is not app.screen_dashboard)
