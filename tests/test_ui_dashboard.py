"""The dashboard driven with Pilot against the emulator through the real client and the real polling service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from textual.pilot import Pilot

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import DuvoApp, make_app
from duvo_tui.ui.chrome.help_screen import HelpScreen
from duvo_tui.ui.dialogs import ConfirmScreen, StartRunScreen
from duvo_tui.ui.runs.run_list import RunList
from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree
from duvo_tui.ui.stream.message_stream import MessageStream
from tests.feed_service import wait_until
from tests.settings import service_settings

FAST = service_settings(min_interval=0.2, focus_status_interval=0.2, interval=0.3, waiting_interval=0.5)


def demo_profile(emulator: Any, **extra: Any) -> Profile:
    agents = {"invoices": emulator.agents["approval"], "quick": emulator.agents["quick"]}
    return Profile(name="test", base_url=emulator.base_url, api_key=emulator.api_key, agents=agents, **extra)


@contextlib.asynccontextmanager
async def dashboard(
    emulator: Any, tmp_path: Any, size: tuple[int, int] = (120, 40), **app_options: Any
) -> AsyncIterator[tuple[DuvoApp, Pilot, DuvoService]]:
    """The app on a real service over a real client, started and running; closed afterwards."""
    client = DuvoClient(emulator.base_url, emulator.api_key)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    profile = app_options.pop("profile", None) or demo_profile(emulator)
    app = make_app(service, profile, on_close=client.aclose, **app_options)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        yield app, pilot, service


def runs(app: DuvoApp) -> RunList:
    return app.screen_dashboard.query_one(RunList)


def stream(app: DuvoApp) -> MessageStream:
    return app.screen_dashboard.query_one(MessageStream)


async def start_run(service: DuvoService, emulator: Any, scenario: str, message: str, **kw: Any) -> str:
    run = await service.start_run(emulator.agents[scenario], message=message, **kw)
    return run.id


async def type_text(pilot: Pilot, text: str) -> None:
    for char in text:
        await pilot.press(char if char != " " else "space")


async def test_start_runs_from_the_dialog_then_select_filter_and_sort(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        # An unknown agent keeps the dialog open with what was typed.
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))
        await type_text(pilot, "nobody")
        await pilot.press("tab")
        await type_text(pilot, "alpha job")
        await pilot.press("enter")  # one Enter starts (Tab moves between the fields)
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen) and app.screen.error)
        assert "nobody" in app.screen.error and service.runs() == []
        assert app.screen.query_one("#message").value == "alpha job"
        app.screen.query_one("#agent").value = "quick"
        await pilot.click("#ok")
        await wait_until(pilot, lambda: runs(app).total_count == 1)
        first = runs(app).visible_ids[0]
        await wait_until(pilot, lambda: app.screen_dashboard.selected == first)  # the list's highlight reaches the app
        assert service.run(first) is not None
        assert runs(app).row(first).title == "alpha job"
        await wait_until(pilot, lambda: service.run(first).status == "completed" and stream(app).message_count >= 4)
        assert stream(app).message_count == len(service.messages(first))

        second = await start_run(service, emulator, "fails", "beta import")
        await wait_until(pilot, lambda: runs(app).total_count == 2)
        await pilot.press("1", "g")
        top = runs(app).selected_id
        await pilot.press("j")
        assert runs(app).selected_id != top
        await wait_until(pilot, lambda: app.screen_dashboard.selected == runs(app).selected_id)
        await pilot.press("slash")
        await type_text(pilot, "beta")
        await wait_until(pilot, lambda: runs(app).row_count == 1)
        assert runs(app).visible_ids == [second]
        await pilot.press("escape")
        await wait_until(pilot, lambda: runs(app).row_count == 2)
        assert set(runs(app).visible_ids) == {first, second}
        before = runs(app).order_by
        await pilot.press("o")
        assert runs(app).order_by != before


async def test_jump_to_the_waiting_run_then_stop_it_after_confirming(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        waiting = await start_run(service, emulator, "approval", "pay them")
        quick = await start_run(service, emulator, "quick", "ping")
        requests = app.screen_dashboard.requests
        await wait_until(pilot, lambda: service.run(waiting).status == "waiting" and waiting in requests)
        runs(app).select(quick)
        await wait_until(pilot, lambda: app.screen_dashboard.selected == quick)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen_dashboard.selected == waiting)
        assert app.screen_dashboard.active_pane == 3
        shown = str(app.screen_dashboard.query_one("#human-request-view").render())
        assert "Approve payment" in shown
        assert runs(app).row(waiting).pending_request

        await pilot.press("1", "x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")  # the focused button is No
        await pilot.pause(0.3)
        assert service.run(waiting).status == "waiting"
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_until(pilot, lambda: runs(app).row(waiting).run.status == "stopped")


async def test_message_stream_follow_expand_copy_save_search_post_and_literal_markup(emulator, tmp_path):
    hostile = "[@click=app.quit]click me[/] [b]bold[/b] [ @click=app.quit]x"
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        run_id = await start_run(service, emulator, "quick", "ping")
        await wait_until(pilot, lambda: service.run(run_id).status == "completed" and stream(app).message_count >= 4)
        await pilot.press("2")
        view = stream(app)
        # Follow mode: moving up leaves it, G comes back, f toggles.
        assert view.follow
        await pilot.press("k")
        assert not view.follow
        await pilot.press("G")
        assert view.follow and view.cursor == view.message_count - 1
        await pilot.press("f")
        assert not view.follow
        await pilot.press("f")
        # Tool calls expand and collapse.
        index = next(i for i, m in enumerate(service.messages(run_id)) if m.tool_call is not None)
        view.move_cursor(index)
        lines = view.line_count
        await pilot.press("enter")
        assert view.line_count > lines
        await pilot.press("enter")
        assert view.line_count == lines
        # Copy (OSC 52 through the app) and save.
        await pilot.press("y")
        assert "ping" in app.clipboard
        target = tmp_path / "out" / "transcript.txt"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: bool(app.screen.query("#prompt")))
        app.screen.query_one("#prompt").value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, target.exists)
        assert "Hello! Running a quick check." in target.read_text()
        # Search.
        await pilot.press("slash")
        await type_text(pilot, "running a quick")
        assert "Running a quick check" in (view.selected_message().text_content or "")
        await pilot.press("escape")
        assert view.search_query == ""
        # Post a message whose text is markup: it is sent, shown literally, and clicking it does nothing.
        await pilot.press("i")
        app.screen.focused.value = hostile
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(m.text_content == hostile for m in service.messages(run_id)))
        await wait_until(pilot, lambda: hostile in view.transcript())
        await pilot.press("escape", "G")
        await pilot.pause(0.2)
        rendered = [view.render_line(y).text for y in range(view.content_region.height)]
        line_no = next(y for y, text in enumerate(rendered) if "[@click=app.quit]click me[/]" in text)
        assert "[b]bold[/b]" in rendered[line_no]
        await pilot.click(MessageStream, offset=(14, line_no))
        await pilot.click(MessageStream, offset=(14, line_no), times=2)
        await pilot.pause(0.2)
        assert app.is_running and app.return_code is None


async def test_add_a_run_by_id_and_browse_its_sandbox(emulator, tmp_path):
    outside = DuvoClient(emulator.base_url, emulator.api_key)
    async with outside:
        sandbox = await outside.create_sandbox()
        await outside.upload_file(sandbox.sandbox_id, "/workspace/docs/a.txt", b"hello")
        await outside.upload_file(sandbox.sandbox_id, "/workspace/b.csv", b"x,y\n")
        run = await outside.start_run(emulator.agents["quick"], message="elsewhere", sandbox_id=sandbox.sandbox_id)
    async with dashboard(emulator, tmp_path) as (app, pilot, _service):
        # An unknown id is a notification, not a crash.
        await pilot.press("a")
        await wait_until(pilot, lambda: bool(app.screen.query("#prompt")))
        app.screen.query_one("#prompt").value = "00000000-0000-4000-8000-000000000000"
        await pilot.press("enter")
        await wait_until(pilot, lambda: any(n.title == "Could not add the run" for n in app._notifications))
        assert app.is_running and runs(app).row("00000000-0000-4000-8000-000000000000") is None
        await pilot.press("a")
        await wait_until(pilot, lambda: bool(app.screen.query("#prompt")))
        app.screen.query_one("#prompt").value = run.id
        await pilot.press("enter")
        await wait_until(pilot, lambda: runs(app).row(run.id) is not None and app.screen_dashboard.selected == run.id)
        tree = app.screen_dashboard.query_one(SandboxTree)
        await wait_until(pilot, lambda: len(tree.root.children) == 2 and tree.root.children[0].data is not None)
        labels = [str(child.label) for child in tree.root.children]
        assert labels[0] == "docs/" and labels[1].startswith("b.csv") and "4 B" in labels[1]
        tree.root.children[0].expand()
        await wait_until(pilot, lambda: any("a.txt" in str(c.label) for c in tree.root.children[0].children))


async def test_help_palette_theme_and_small_terminal(emulator, tmp_path):
    saved: list[str] = []
    async with dashboard(emulator, tmp_path, size=(80, 24), save_theme=saved.append) as (app, pilot, _service):
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        for description in ("Next waiting", "Start", "Stop", "Filter", "Follow", "Wrap", "Copy", "Save", "Refresh"):
            assert description in text
        await pilot.press("escape")
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Start a run", "Stop the selected run", "Next waiting run", "Save transcript", "Theme"} <= titles
        app.theme = "nord"
        await pilot.pause(0.05)
        assert saved == ["nord"]
        # 80x24: one pane at a time, full width; 1-4 and tab move between them.
        screen = app.screen_dashboard
        assert screen.is_narrow and screen.query_one("#runs-pane").region.width == 80
        await pilot.press("2")
        await pilot.pause(0.1)
        assert screen.query_one("#messages-pane").region.width == 80
        assert screen.query_one("#runs-pane").region.width == 0
        await pilot.press("tab")  # the pane's next control first: the line to write to the run
        await pilot.pause(0.1)
        assert screen.active_pane == 1 and screen.query_one("#post-input").has_focus, app.screen.focused
        await pilot.press("tab")  # then the next pane
        await pilot.pause(0.1)
        assert screen.active_pane == 2 and screen.query_one("#sandbox-pane").region.height > 10
        await pilot.resize_terminal(120, 40)
        await pilot.pause(0.1)
        assert not screen.is_narrow
        assert all(screen.query_one(f"#{p}").region.width > 30 for p in ("runs-pane", "messages-pane", "sandbox-pane"))


async def test_read_only_profile_refuses_to_start(emulator, tmp_path):
    profile = demo_profile(emulator, read_only=True)
    async with dashboard(emulator, tmp_path, profile=profile) as (app, pilot, _service):
        await pilot.press("s")
        await pilot.pause(0.1)
        assert not isinstance(app.screen, StartRunScreen)
        assert any("read-only" in str(n.message) for n in app._notifications)


@pytest.mark.parametrize("argv", [[], ["--profile", "default"]])
def test_bare_command_without_a_key_explains_and_suggests_the_demo(argv, capsys):
    from duvo_tui.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "DUVO_API_KEY" in err and "duvo-tui demo" in err and "Traceback" not in err


def test_waiting_helper_times_out_rather_than_hanging():
    class FakePilot:
        async def pause(self, delay: float) -> None:
            await asyncio.sleep(delay)

    with pytest.raises(AssertionError):
        asyncio.run(wait_until(FakePilot(), lambda: False, within=0.1))  # type: ignore[arg-type]
