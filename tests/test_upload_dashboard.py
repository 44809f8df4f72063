"""The real dashboard on the real service: the profile's watched folder is uploaded, shown, and the tree refreshes."""

from __future__ import annotations

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile, WatchFolder
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree
from duvo_tui.ui.sandbox.upload_status import UploadStatus
from tests.feed_service import wait_until
from tests.settings import service_settings

FAST = service_settings(min_interval=0.2, focus_status_interval=0.2, interval=0.3, waiting_interval=0.5)


async def test_the_profiles_watched_folder_is_uploaded_while_the_dashboard_is_open(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "first.csv").write_text("a,b\n")
    with running_emulator(speed=50, rate_limit=5000) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as outside:
            sandbox = (await outside.create_sandbox()).sandbox_id
            run = await outside.start_run(emu.agents["quick"], message="files", sandbox_id=sandbox)
        client = DuvoClient(emu.base_url, emu.api_key)
        service = DuvoService(client, FAST, state_dir=tmp_path / "state")
        profile = Profile(
            name="test", base_url=emu.base_url, api_key=emu.api_key, watch=[WatchFolder(str(folder), sandbox)]
        )
        app = make_app(service, profile, on_close=client.aclose)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_until(pilot, lambda: app.service_started and bool(app.query(UploadStatus)))
            widget = app.query_one(UploadStatus)
            await wait_until(pilot, lambda: "done 1" in str(widget.query_one("#watch-lines").render()))
            await pilot.press("a")  # add the run by id: it is selected and its sandbox shown
            await wait_until(pilot, lambda: bool(app.screen.query("#prompt")))
            app.screen.query_one("#prompt").value = run.id
            await pilot.press("enter")
            await wait_until(pilot, lambda: app.screen_dashboard.selected == run.id)
            tree = app.screen_dashboard.query_one(SandboxTree)
            await wait_until(pilot, lambda: tree.sandbox_id == sandbox)
            await wait_until(pilot, lambda: any("first.csv" in str(c.label) for c in tree.root.children))
            (folder / "second.csv").write_text("c,d\n")
            await wait_until(pilot, lambda: "done 2" in str(widget.query_one("#watch-lines").render()))
            # The tree lists /workspace again when the file lands: no key pressed.
            await wait_until(pilot, lambda: any("second.csv" in str(c.label) for c in tree.root.children))
        root = emu.state.sandboxes[sandbox].root
        assert sorted(p.name for p in root.iterdir()) == ["first.csv", "second.csv"]
