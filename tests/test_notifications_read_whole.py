"""Every notification the dashboard raises is read whole: at 80x24 a notification has one line on the tab row, and
its title says what happened in full there; at 120x40 the details show under it.

The causes are real: a Notice from the service (a watched folder that does not exist), a run started from the
dialog, a run failing, a stop and a stop of a finished run, a request the server refuses (a run error), a new
sandbox, an upload, a transcript that cannot be saved, a copied run id.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from textual.errors import NoWidget
from textual.geometry import Region
from textual.widgets._toast import Toast

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import WatchFolder
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from duvo_tui.ui.chrome.notify import fits_one_line
from duvo_tui.ui.dialogs import ConfirmScreen, StartRunScreen
from tests.feed_service import wait_until
from tests.screen_reading import screen_lines
from tests.test_ui_dashboard import FAST, demo_profile


@contextlib.asynccontextmanager
async def dashboard(emulator: Any, tmp_path: Any, size: tuple[int, int]) -> AsyncIterator[tuple[Any, Any, Any]]:
    """The dashboard with notifications on, watching a folder that does not exist (the service says so)."""
    client = DuvoClient(emulator.base_url, emulator.api_key)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    profile = demo_profile(emulator, watch=[WatchFolder(str(tmp_path / "gone"), "sbx_1")])
    app = make_app(service, profile, on_close=client.aclose)
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        yield app, pilot, service


def _drawn(app: Any, title: str) -> Toast | None:
    """The notification titled ``title`` when it is drawn."""
    for toast in app.screen.query(Toast):
        if str(toast._notification.title) != title:
            continue
        try:
            if app.screen.find_widget(toast).visible_region:
                return toast
        except NoWidget:
            continue
    return None


def announced(app: Any) -> bool:
    """A waiting request was announced ("A run waits for you", or "2 runs wait for you")."""
    return any("wait" in str(n.title) for n in app._notifications)


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def read_whole(app: Any, pilot: Any, title: str, details: str | None = None) -> None:
    """The notification ``title`` is drawn with its title whole on one line; at 120x40 its details (the
    message, or ``details`` when given, a part of it) are on screen inside it."""
    where = lambda: "\n".join(screen_lines(app))  # noqa: E731
    await wait_until(pilot, lambda: _drawn(app, title) is not None, explain=lambda: f"{title!r} not drawn:\n{where()}")
    assert fits_one_line(title), title
    # Drawn whole on its row (the newest notification at 80x24 is the one drawn there).
    await wait_until(
        pilot, lambda: any(title in line for line in screen_lines(app)), explain=lambda: f"{title!r} cut:\n{where()}"
    )
    if app.size.width < 120:
        return
    toast = _drawn(app, title)
    assert toast is not None
    placed = app.screen.find_widget(toast)
    assert placed.visible_region == placed.region, f"{title!r} is partly hidden:\n{where()}"
    # What the notification draws there, line by line (the screenshot's lines drop runs of blanks).
    inside = "".join(strip.text.lstrip("▌") for strip in toast.render_lines(Region(0, 0, *placed.region.size)))
    wanted = details if details is not None else str(toast._notification.message)
    assert wanted and _squeezed(wanted) in _squeezed(inside), f"{wanted!r} not under {title!r}:\n{where()}"


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_every_notification_reads_whole_at_80x24_and_shows_its_details_at_120x40(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        dash = app.screen_dashboard
        # A Notice from the service: the watched folder does not exist.
        await read_whole(app, pilot, "A folder is not watched", f"{tmp_path / 'gone'} does not exist")

        # A run started from the dialog, named by the list's name for its Assignment.
        app.clear_notifications()
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))
        app.screen.query_one("#agent").value = "quick"
        await pilot.click("#ok")
        await wait_until(pilot, lambda: app.screen is dash)
        await read_whole(app, pilot, "✓ Run started · quick")

        # A run that fails, seen failing.
        app.clear_notifications()
        failing = await service.start_run(emulator.agents["fails"], message="import")
        row = lambda: dash.run_list.row(failing.id)  # noqa: E731
        await wait_until(pilot, lambda: row() is not None and row().run.status == "failed")
        named = f"✗ Run failed · {row().agent}"  # who failed when that fits the line
        await read_whole(app, pilot, named if fits_one_line(named) else "✗ Run failed")

        # A stop, and a stop of a run that has finished.
        waiting = await service.start_run(emulator.agents["approval"], message="pay")
        await wait_until(pilot, lambda: waiting.id in dash.requests)
        await wait_until(pilot, lambda: announced(app))
        app.clear_notifications()
        dash.runs_pane.show(waiting.id)
        dash.select(waiting.id)
        await pilot.press("1", "x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await read_whole(app, pilot, f"Stopping run {waiting.id[:8]}")
        await wait_until(pilot, lambda: dash.run_list.row(waiting.id).run.status == "stopped")
        app.clear_notifications()
        await pilot.press("x")
        await read_whole(app, pilot, "Nothing to stop", f"Run {waiting.id[:8]} has finished (stopped).")

        # A request about a run that the server refuses: a run error.
        refused = await service.start_run(emulator.agents["approval"], message="pay again")
        await wait_until(pilot, lambda: refused.id in dash.requests)
        await wait_until(pilot, lambda: announced(app))
        app.clear_notifications()
        emulator.state.forbid(f"/v1/runs/{refused.id}")
        dash.select(refused.id)
        await read_whole(app, pilot, f"Error on run {refused.id[:8]}")
        emulator.state.clear_faults()

        # A new sandbox, and a file uploaded into it.
        app.clear_notifications()
        dash.action_show_pane(2)
        await pilot.press("plus")
        await read_whole(app, pilot, "New sandbox made")
        app.clear_notifications()
        source = tmp_path / "report.txt"
        source.write_text("made here")
        box = dash.query_one("#upload-path")
        box.value = str(source)
        box.focus()
        await pilot.press("enter")
        await read_whole(app, pilot, "✓ Uploaded report.txt", "report.txt → ")

        # A transcript that cannot be saved, and a copied run id.
        app.clear_notifications()
        blocker = tmp_path / "plain-file"
        blocker.write_text("x")
        dash.messages_pane.save_transcript(str(blocker / "transcript.txt"))
        await read_whole(app, pilot, "Could not save the messages")
        app.clear_notifications()
        await pilot.press("escape", "1", "I")
        await read_whole(app, pilot, "Copied the run id")
