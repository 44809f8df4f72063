"""The service owns the dashboard's files: an upload by path and the watched folders go through it, their events
reach its subscribers, and closing the service stops them. Tracked runs are remembered and forgotten through it too.
Against the emulator, with the real client."""

from __future__ import annotations

import asyncio

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import WatchFolder
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service import events as ev
from duvo_tui.service.service import DuvoService


async def until(condition, within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_an_upload_and_a_watched_folder_go_through_the_service_and_stop_when_it_closes(tmp_path):
    chosen = tmp_path / "chosen.txt"
    chosen.write_text("picked by a person")
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "dropped.txt").write_text("there before the watch")
    with running_emulator(speed=50, rate_limit=5000) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
            service = DuvoService(client, state_dir=None)
            seen: list[ev.Event] = []
            service.subscribe(seen.append)
            assert service.uploads_enabled

            service.upload(chosen, sandbox)
            service.watch([WatchFolder(str(folder), sandbox)])
            finished = lambda: sorted(e.dest_path for e in seen if isinstance(e, ev.UploadFinished))  # noqa: E731
            await until(lambda: finished() == ["/workspace/chosen.txt", "/workspace/dropped.txt"])
            assert any(isinstance(e, ev.WatchStatus) and e.watching for e in seen)

            await service.close()
            (folder / "after.txt").write_text("dropped once the service closed")
            await asyncio.sleep(1.5)  # longer than the watcher's settle time: it would have sent it by now
        root = emu.state.sandboxes[sandbox].root
        assert sorted(p.name for p in root.iterdir()) == ["chosen.txt", "dropped.txt"]


async def test_a_remembered_run_is_in_the_state_file_and_a_forgotten_one_leaves_it(tmp_path):
    with running_emulator(speed=50, rate_limit=5000) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            run = await client.start_run(emu.agents["quick"], message="remember me")
            DuvoService(client, state_dir=tmp_path).remember(run)

            again = DuvoService(client, state_dir=tmp_path)
            again.store.load()
            assert [t.id for t in again.runs()] == [run.id]
            seen: list[ev.Event] = []
            again.subscribe(seen.append)
            again.forget(run.id)
            assert again.runs() == [] and any(isinstance(e, ev.RunRemoved) and e.run_id == run.id for e in seen)
