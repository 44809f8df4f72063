"""The sandbox pane shows the selected run's sandbox, or one the person chooses by id (c) or makes (+); a chosen
one stays while other runs are selected, and uploads go to it."""

from __future__ import annotations

from duvo_tui.api.client import DuvoClient
from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree
from tests.test_ui_dashboard import dashboard, demo_profile, runs, wait_until


def tree_of(app) -> SandboxTree:
    return app.screen_dashboard.query_one(SandboxTree)


async def choose(app, pilot, text: str) -> None:
    app.screen_dashboard.action_show_pane(2)
    await wait_until(pilot, lambda: app.focused is tree_of(app))
    await pilot.press("c")
    await wait_until(pilot, lambda: bool(app.screen.query("#prompt")))
    app.screen.query_one("#prompt").value = text
    await pilot.press("enter")
    await wait_until(pilot, lambda: not app.screen.query("#prompt"))


async def test_choose_a_sandbox_by_id_keep_it_across_runs_then_go_back(emulator, tmp_path):
    async with DuvoClient(emulator.base_url, emulator.api_key) as outside:
        own = await outside.create_sandbox()
        other = await outside.create_sandbox()
        await outside.upload_file(other.sandbox_id, "/workspace/chosen.txt", b"picked")
        first = await outside.start_run(emulator.agents["quick"], message="one", sandbox_id=own.sandbox_id)
        second = await outside.start_run(emulator.agents["quick"], message="two")
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        for run in (first, second):
            await service.track(run.id)
        await wait_until(pilot, lambda: runs(app).total_count == 2)
        runs(app).select(first.id)
        await wait_until(pilot, lambda: tree_of(app).sandbox_id == own.sandbox_id)

        await choose(app, pilot, other.sandbox_id)
        tree = tree_of(app)
        assert tree.chosen and tree.sandbox_id == other.sandbox_id
        await wait_until(pilot, lambda: any("chosen.txt" in str(c.label) for c in tree.root.children))
        assert "chosen" in str(tree.root.label)
        runs(app).select(second.id)  # another run: the chosen sandbox stays
        await wait_until(pilot, lambda: app.screen_dashboard.selected == second.id)
        assert tree.sandbox_id == other.sandbox_id

        await choose(app, pilot, "")  # nothing typed: back to the selected run's (it has none)
        assert not tree.chosen and tree.sandbox_id is None
        runs(app).select(first.id)
        await wait_until(pilot, lambda: tree.sandbox_id == own.sandbox_id)


async def test_a_bad_or_unknown_sandbox_id_is_said_and_nothing_breaks(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, _service):
        await choose(app, pilot, "../../etc passwd")
        await wait_until(
            pilot, lambda: any(n.title == "Not a sandbox id" and "etc passwd" in n.message for n in app._notifications)
        )
        assert not tree_of(app).chosen
        await choose(app, pilot, "sb_does_not_exist")
        tree = tree_of(app)
        await wait_until(pilot, lambda: any("could not list" in str(c.label) for c in tree.root.children))
        assert app.is_running and tree.chosen


async def test_make_a_new_sandbox_and_upload_into_it(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, _service):
        app.screen_dashboard.action_show_pane(2)
        await wait_until(pilot, lambda: app.focused is tree_of(app))
        await pilot.press("plus")
        tree = tree_of(app)
        await wait_until(pilot, lambda: tree.chosen and tree.sandbox_id is not None)
        made = tree.sandbox_id
        assert any(made in n.message and n.title == "New sandbox made" for n in app._notifications)
        await wait_until(pilot, lambda: any("(empty)" in str(c.label) for c in tree.root.children))
        # Uploads go to the sandbox shown: the new one.
        source = tmp_path / "report.txt"
        source.write_text("made here")
        box = app.screen_dashboard.query_one("#upload-path")
        box.value = str(source)
        box.focus()
        await pilot.press("enter")
        await wait_until(pilot, lambda: any("report.txt" in str(c.label) for c in tree.root.children))
        async with DuvoClient(emulator.base_url, emulator.api_key) as outside:
            names = [f.name for f in await outside.list_files(made, "/workspace")]
        assert names == ["report.txt"]


async def test_a_read_only_profile_may_not_make_sandboxes(emulator, tmp_path):
    profile = demo_profile(emulator, read_only=True)
    async with dashboard(emulator, tmp_path, profile=profile) as (app, pilot, _service):
        app.screen_dashboard.action_show_pane(2)
        await wait_until(pilot, lambda: app.focused is tree_of(app))
        await pilot.press("plus")
        await wait_until(pilot, lambda: any("read-only" in str(n.message) for n in app._notifications))
        assert tree_of(app).sandbox_id is None and not tree_of(app).chosen
