"""The upload status widget, driven with Pilot against the emulator: watch status, progress rows, upload by path."""

from __future__ import annotations

import asyncio
import os

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Static

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import WatchFolder
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service.uploads import Uploads
from duvo_tui.ui.bridge import ServiceEvent
from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree
from duvo_tui.ui.sandbox.upload_status import UploadRow, UploadStatus


class Host(App):
    """The sandbox pane's containers, fed the way the dashboard feeds them (service event -> message -> widget)."""

    def __init__(self, uploads_factory, sandbox_id: str) -> None:
        super().__init__()
        self.uploads_factory = uploads_factory
        self.sandbox_id = sandbox_id
        self.listings: list[tuple[str, str]] = []

    def compose(self) -> ComposeResult:
        yield Vertical(id="upload-status")

    async def on_mount(self) -> None:
        self.uploads = self.uploads_factory(lambda event: self.post_message(ServiceEvent(event)))
        widget = UploadStatus(self.uploads.upload, current_sandbox=lambda: self.sandbox_id)
        await self.query_one("#upload-status").mount(widget)
        self.uploads.start()

    async def on_unmount(self) -> None:
        await self.uploads.close()  # the service's part in the dashboard

    def on_service_event(self, message: ServiceEvent) -> None:
        for widget in self.query_one("#upload-status").query("*"):
            handle = getattr(widget, "handle_service_event", None)
            if handle is not None:
                handle(message.service_event)

    def on_sandbox_tree_listing_wanted(self, message: SandboxTree.ListingWanted) -> None:
        self.listings.append((message.sandbox_id, message.path))


async def until(pilot, condition, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await pilot.pause(0.05)


def text_of(app: App, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


async def test_watch_status_rows_and_upload_by_path(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "already.txt").write_text("here before the dashboard opened")
    chosen = tmp_path / "[b]chosen[@click=app.quit].bin"  # a name that would be markup if shown as a str
    chosen.write_bytes(os.urandom(12 * 1024 * 1024))
    with running_emulator(speed=50, rate_limit=5000) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
            watch = [WatchFolder(str(folder), sandbox)]

            def factory(emit):
                return Uploads(client, emit, watch=watch, settle=0.1)

            app = Host(factory, sandbox)
            async with app.run_test(size=(120, 30)) as pilot:
                await until(pilot, lambda: "done 1" in text_of(app, "#watch-lines"))
                (folder / "new.txt").write_text("dropped while open")
                await until(pilot, lambda: "done 2" in text_of(app, "#watch-lines"))
                status = text_of(app, "#watch-lines")
                assert "● watching" in status and "upl0/drop →" in status and sandbox in status
                assert "queued 0 · uploading 0 · done 2 · failed 0" in status

                app.query_one("#upload-path", Input).value = str(chosen)
                await pilot.press("enter")

                def chosen_row():
                    return next((r for r in app.query(UploadRow) if "chosen" in str(r._file_name.render())), None)

                await until(pilot, lambda: chosen_row() is not None and chosen_row().finished)
                row = chosen_row()
                assert str(row._file_name.render()) == "[b]chosen[@click=app.quit].bin"
                assert row.state_text == "done" and row.has_class("-done")
                assert (sandbox, "/workspace") in app.listings

                app.query_one("#upload-path", Input).value = str(tmp_path / "nope.txt")
                await pilot.press("enter")
                await pilot.pause()
                assert "no such file" in text_of(app, "#upload-message")
            root = emu.state.sandboxes[sandbox].root
            names = sorted(p.name for p in root.iterdir())
            assert names == ["[b]chosen[@click=app.quit].bin", "already.txt", "new.txt"]
            assert (root / "[b]chosen[@click=app.quit].bin").read_bytes() == chosen.read_bytes()


async def test_a_failed_upload_shows_failed_and_the_count(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "bad\\name.txt").write_text("refused by the server")
    with running_emulator(speed=50) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            sandbox = (await client.create_sandbox()).sandbox_id

            def factory(emit):
                return Uploads(client, emit, watch=[WatchFolder(str(folder), sandbox)], settle=0.05)

            app = Host(factory, sandbox)
            async with app.run_test(size=(120, 30)) as pilot:
                await until(pilot, lambda: "failed 1" in text_of(app, "#watch-lines"))
                row = app.query_one(UploadRow)
                assert row.state_text == "failed" and row.has_class("-failed")
                assert "400" in str(row.tooltip)


async def test_a_missing_watch_folder_is_said_not_hidden(tmp_path):
    with running_emulator(speed=50) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:

            def factory(emit):
                return Uploads(client, emit, watch=[WatchFolder(str(tmp_path / "gone"), "sbx_1")])

            app = Host(factory, None)
            async with app.run_test(size=(120, 30)) as pilot:
                await until(pilot, lambda: "not watching" in text_of(app, "#watch-lines"))
                assert "does not exist" in text_of(app, "#watch-lines")
                app.query_one("#upload-path", Input).value = __file__
                await pilot.press("enter")
                await pilot.pause()
                assert "Select a run that has a sandbox first" in text_of(app, "#upload-message")
