"""Read-only profiles in the dashboard: the header says so, every mutating action is refused with a
notification, nothing reaches the server, and what the user typed is kept."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from textual.pilot import Pilot

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.readonly import ReadOnlyError
from duvo_tui.readonly_client import guard_client
from duvo_tui.service.responder import Submission
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import DuvoApp, make_app
from duvo_tui.ui.chrome.header import DashboardHeader
from duvo_tui.ui.chrome.profile_marks import header_color
from duvo_tui.ui.dialogs import ConfirmScreen, StartRunScreen
from duvo_tui.ui.stream.messages_pane import MessagesPane
from tests.feed_service import wait_until
from tests.settings import service_settings

FAST = service_settings(min_interval=0.2, focus_status_interval=0.2, interval=0.3, waiting_interval=0.3)


def waiting_run(emulator: Any) -> str:
    """Start an approval run with a writable client (in a thread) and wait until it asks a person."""

    async def go() -> str:
        async with DuvoClient(emulator.base_url, emulator.api_key) as client:
            run = await client.start_run(emulator.agents["approval"], message="deploy")
            for _ in range(200):
                detail = await client.get_run(run.id)
                if detail.run and detail.run.status == "waiting":
                    return run.id
                await asyncio.sleep(0.05)
        raise AssertionError("the approval run never waited")

    return asyncio.run(go())


@contextlib.asynccontextmanager
async def read_only_dashboard(
    emulator: Any, tmp_path: Any, **profile_extra: Any
) -> AsyncIterator[tuple[DuvoApp, Pilot, DuvoService]]:
    """The dashboard wired the way ``duvo-tui --read-only`` wires it: a guarded client under the service."""
    profile = Profile(
        name="prod", base_url=emulator.base_url, api_key=emulator.api_key, team_id=emulator.team_id,
        read_only=True, agents={"quick": emulator.agents["quick"]}, **profile_extra,
    )  # fmt: skip
    client = guard_client(DuvoClient(emulator.base_url, emulator.api_key), profile)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state", team_id=emulator.team_id)
    app = make_app(service, profile, on_close=client.aclose)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        yield app, pilot, service


def notified(app: DuvoApp, text: str) -> bool:
    return any(text in n.message and "read-only" in n.message for n in app._notifications)


async def test_header_shows_read_only_label_and_colour(emulator, tmp_path):
    async with read_only_dashboard(emulator, tmp_path, label="PRODUCTION", color="red") as (app, _pilot, _):
        header = app.screen_dashboard.query_one(DashboardHeader)
        text = header.render()
        assert "READ-ONLY" in text.plain and "PRODUCTION" in text.plain
        profile_span = next(s for s in text.spans if text.plain[s.start : s.end].strip() == "PRODUCTION")
        assert "red" in str(profile_span.style)


async def test_an_unusable_colour_is_reported_not_applied(emulator, tmp_path):
    async with read_only_dashboard(emulator, tmp_path, color="[@click=app.quit]red") as (app, _pilot, _):
        assert app.screen_dashboard.query_one(DashboardHeader).profile_color == ""
        assert any("colour" in n.message for n in app._notifications)


def test_header_color_accepts_only_colours():
    assert header_color("red") == "red"
    assert header_color("#FF0000") == "#ff0000"
    for bad in ("bold red", "link https://x", "nonsense", "", None, "red\x1b]0;x\x07"):
        assert header_color(bad) is None


async def test_start_is_refused_before_the_dialog(emulator, tmp_path):
    async with read_only_dashboard(emulator, tmp_path) as (app, pilot, _):
        await pilot.press("s")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, StartRunScreen)
        assert notified(app, "start runs")
        assert len(emulator.state.runs) == 0


async def test_stop_post_and_respond_are_refused(emulator, tmp_path):
    run_id = await asyncio.to_thread(waiting_run, emulator)
    async with read_only_dashboard(emulator, tmp_path) as (app, pilot, service):
        await wait_until(pilot, lambda: service.run(run_id) is not None and service.pending_requests())
        app.screen_dashboard.select(run_id)
        await pilot.pause(0.05)

        await pilot.press("x")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ConfirmScreen)
        assert notified(app, "stop runs")

        pane = app.screen_dashboard.query_one(MessagesPane)
        pane.post_message(MessagesPane.PostRequested(run_id, "please go on"))
        await wait_until(pilot, lambda: notified(app, "post messages"))
        assert app.screen_dashboard.query_one("#post-input").value == "please go on"

        # The answering form sends through the service; the guard refuses and the form hears why.
        request = service.pending_requests()[0]
        outcome = await service.respond(Submission(run_id, request.id, approved=True))
        assert outcome.kind == "failed" and "read-only" in outcome.message
        assert "answer human requests" in outcome.message
        with pytest.raises(ReadOnlyError):
            await service.stop_run(run_id)
        with pytest.raises(ReadOnlyError):
            await service.start_run(emulator.agents["quick"])

    record = emulator.state.runs[run_id]
    assert record.status == "waiting" and record.pending is not None
    assert not any(m.get("role") == "user" and "please go on" in str(m) for m in record.messages)


async def test_uploads_through_the_service_client_are_refused(emulator, tmp_path):
    async with read_only_dashboard(emulator, tmp_path) as (_app, _pilot, service):
        for call in (
            service.client.create_sandbox(),
            service.client.upload_file("sbx", "/workspace/a.txt", b"x"),
            service.client.create_upload_url("sbx", "/workspace/a.txt"),
        ):
            with pytest.raises(ReadOnlyError) as caught:
                await call
            assert caught.value.action == "upload"
    assert len(emulator.state.sandboxes) == 0


async def test_watched_folders_of_a_read_only_profile_are_not_watched_and_it_says_so(emulator, tmp_path):
    from duvo_tui.config import WatchFolder

    folder = tmp_path / "outbox"
    folder.mkdir()
    (folder / "report.csv").write_text("a,b\n")
    watch = [WatchFolder(folder=str(folder), sandbox="sbx-1")]
    async with read_only_dashboard(emulator, tmp_path, watch=watch) as (app, pilot, _):
        await wait_until(pilot, lambda: notified(app, "watch folders"))
        await pilot.pause(0.5)
    assert len(emulator.state.sandboxes) == 0


def focus_story(app: DuvoApp) -> str:
    """Where the keys are, and what the request pane holds (for a failure's message)."""
    pane = app.screen_dashboard.request_pane
    forms = [(form.request, form.display, form.focusable) for form in pane.query("#hitl-form")]
    return f"focused {app.screen.focused!r} on {app.screen!r}; requests {list(pane.requests)}; forms {forms}"


async def test_answering_from_the_request_pane_is_refused(emulator, tmp_path):
    run_id = await asyncio.to_thread(waiting_run, emulator)
    async with read_only_dashboard(emulator, tmp_path) as (app, pilot, service):
        await wait_until(pilot, lambda: any(r.run_id == run_id for r in service.pending_requests()))
        app.screen_dashboard.select(run_id)
        app.screen_dashboard.action_show_pane(3)
        # The form has the keys before a is pressed (on a loaded machine it mounts a moment after the pane shows).
        await wait_until(
            pilot, lambda: getattr(app.screen.focused, "id", None) == "hitl-form", explain=lambda: focus_story(app)
        )
        await pilot.press("a")
        await pilot.pause(0.1)
        await pilot.press("y")
        await wait_until(pilot, lambda: any("read-only" in n.message for n in app._notifications))
    record = emulator.state.runs[run_id]
    assert record.status == "waiting" and record.pending is not None
