"""The watched folder against the emulator: files arrive complete, once; temporary files and links out stay home."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.emulator.sandbox_store import list_tree
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service import events as ev
from duvo_tui.service.ledger import Ledger, ledger_path
from duvo_tui.service.uploader import Uploader
from duvo_tui.service.watcher import FolderWatcher, WatchSettings, is_temporary, skipped

SETTLE = 0.25


@pytest.fixture
def emu():
    with running_emulator(speed=50, rate_limit=20000) as handle:
        yield handle


def sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def server_files(emu, sandbox_id: str) -> dict[str, tuple[int, str]]:
    """Sandbox path -> (size, sha256) of what the emulator holds on disk."""
    root = emu.state.sandboxes[sandbox_id].root
    return {path: (size, sha(root / path[len("/workspace/") :])) for path, size in list_tree(root)}


def uploads_seen(emu, kind: str = "/files") -> int:
    """Logical uploads the emulator accepted (each carries its own Idempotency-Key)."""
    return sum(1 for key in emu.state.idempotency if key[1] == "POST" and key[2].endswith(kind))


async def wait_for(condition, within: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


def make_watcher(client, folder: Path, sandbox_id: str, events: list | None = None, **settings) -> FolderWatcher:
    emit = events.append if events is not None else None
    uploader = Uploader(client, emit, concurrency=4, backoff_base=0.05, max_backoff=0.2)
    return FolderWatcher(folder, sandbox_id, uploader, emit=emit, settings=WatchSettings(settle=SETTLE, **settings))


def write_random(path: Path, size: int, chunk: int = 1 << 20) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        left = size
        while left:
            n = min(chunk, left)
            handle.write(os.urandom(n))
            left -= n


def test_temporary_and_hidden_names():
    for name in ("a.part", "b.tmp", "c.crdownload", "notes.txt~", ".notes.txt.swp", "x.swx", "4913", "#draft#"):
        assert is_temporary(name), name
    for name in ("report.pdf", "data.csv", "partial.txt", "tmp.txt"):
        assert not is_temporary(name), name
    assert skipped((".hidden",))
    assert skipped(("sub", ".git", "config"))
    assert not skipped((".hidden",), include_dotfiles=True)
    assert not skipped(("sub", "file.txt"))


async def test_many_small_files_and_a_big_one_all_arrive_intact(emu, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    events: list = []
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        watcher = make_watcher(client, folder, sandbox, events)
        task = asyncio.create_task(watcher.watch())
        await asyncio.sleep(0.3)
        expected = {}
        for i in range(200):
            path = folder / f"batch{i % 5}" / f"file{i:03}.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(os.urandom(100 + i * 37))
            expected[f"/workspace/batch{i % 5}/file{i:03}.txt"] = path
        big = folder / "big" / "video.bin"
        write_random(big, 60 * 1024 * 1024)
        expected["/workspace/big/video.bin"] = big
        await wait_for(lambda: watcher.counts()["done"] == 201, within=30)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    held = server_files(emu, sandbox)
    assert set(held) == set(expected)
    for dest, path in expected.items():
        assert held[dest] == (path.stat().st_size, sha(path)), dest
    assert uploads_seen(emu, "/files") == 200
    assert uploads_seen(emu, "/upload-urls") == 1
    finished = [e for e in events if isinstance(e, ev.UploadFinished)]
    assert len(finished) == 201
    status = [e for e in events if isinstance(e, ev.WatchStatus)][-1]
    assert (status.done, status.failed, status.watching) == (201, 0, False)
    assert len(Ledger(ledger_path(folder, sandbox))) == 201


async def test_slow_writer_is_uploaded_once_and_complete(emu, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        watcher = make_watcher(client, folder, sandbox)
        task = asyncio.create_task(watcher.watch())
        await asyncio.sleep(0.3)
        path = folder / "slow.log"
        chunks = [os.urandom(4096) for _ in range(8)]
        with path.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                handle.flush()
                await asyncio.sleep(SETTLE / 3)
        await wait_for(lambda: watcher.counts()["done"] == 1)
        await asyncio.sleep(SETTLE * 3)  # nothing more goes out afterwards
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert server_files(emu, sandbox) == {"/workspace/slow.log": (8 * 4096, sha(path))}
    assert uploads_seen(emu) == 1


async def test_temporary_hidden_files_and_links_out_of_the_folder_stay_home(emu, tmp_path):
    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the sandbox")
    outside_dir = tmp_path / "private"
    outside_dir.mkdir()
    (outside_dir / "key.pem").write_text("no")
    for name in ("movie.part", "x.tmp", "dl.crdownload", "notes.txt~", ".notes.txt.swp", "4913", "#draft#", ".env"):
        (folder / name).write_text("skip me")
    (folder / ".cache").mkdir()
    (folder / ".cache" / "blob").write_text("skip me")
    (folder / "link-out.txt").symlink_to(outside)
    (folder / "dir-out").symlink_to(outside_dir)
    (folder / "sub" / "real.txt").write_text("real")
    (folder / "link-in.txt").symlink_to(folder / "sub" / "real.txt")
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        watcher = make_watcher(client, folder, sandbox)
        result = await watcher.sync()
    assert result.ok and result.sent == 2
    assert sorted(server_files(emu, sandbox)) == ["/workspace/link-in.txt", "/workspace/sub/real.txt"]
    assert watcher.outside_links == {"link-out.txt"}


async def test_dotfiles_are_sent_when_configured(emu, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / ".env").write_text("A=1")
    (folder / "x.tmp").write_text("still skipped")
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        result = await make_watcher(client, folder, sandbox, include_dotfiles=True).sync()
    assert result.sent == 1
    assert sorted(server_files(emu, sandbox)) == ["/workspace/.env"]


async def test_unchanged_files_are_not_sent_again_touched_or_restarted(emu, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    for i in range(5):
        (folder / f"f{i}.txt").write_text(f"content {i}")
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        first = await make_watcher(client, folder, sandbox).sync()
        assert (first.sent, first.unchanged) == (5, 0)
        os.utime(folder / "f0.txt", None)  # touched: same content, new mtime
        (folder / "f1.txt").write_text("changed content")
        second = await make_watcher(client, folder, sandbox).sync()
        third = await make_watcher(client, folder, sandbox).sync()
    assert (second.sent, second.unchanged) == (1, 4)
    assert (third.sent, third.unchanged) == (0, 5)
    assert uploads_seen(emu) == 6
    assert server_files(emu, sandbox)["/workspace/f1.txt"][1] == sha(folder / "f1.txt")


async def test_sub_folders_map_under_the_configured_destination(emu, tmp_path):
    folder = tmp_path / "drop"
    (folder / "a" / "b").mkdir(parents=True)
    (folder / "a" / "b" / "deep.txt").write_text("deep")
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        await make_watcher(client, folder, sandbox, dest="/workspace/in").sync()
        listed = await client.list_files(sandbox, "/workspace/in/a/b")
    assert [(f.path, f.size_bytes) for f in listed] == [("/workspace/in/a/b/deep.txt", 4)]


async def test_an_unreadable_file_is_reported_failed_not_dropped(emu, tmp_path, monkeypatch):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "ok.txt").write_text("fine")
    locked = folder / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    if os.geteuid() == 0:
        # Root reads any file, so the permission refusal is played where the watcher first reads the file.
        import duvo_tui.service.watcher as watcher_module

        real = watcher_module.hash_file

        def refuse(path, *args):
            if path.name == "locked.txt":
                raise PermissionError(13, "Permission denied")
            return real(path, *args)

        monkeypatch.setattr(watcher_module, "hash_file", refuse)
    events: list = []
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        result = await make_watcher(client, folder, sandbox, events).sync()
    assert result.sent == 1
    assert result.failed == [("locked.txt", "locked.txt: cannot read it: Permission denied")]
    failed = [e for e in events if isinstance(e, ev.UploadFailed)]
    assert len(failed) == 1 and failed[0].final
    assert [e for e in events if isinstance(e, ev.WatchStatus)][-1].failed == 1


async def test_an_unexpected_failure_on_one_file_is_reported_and_the_others_still_go(emu, tmp_path, monkeypatch):
    folder = tmp_path / "drop"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(name)
    real = Ledger.mark_sending

    def broken(self, entry):  # a bug in the bookkeeping of one file, played by raising where it is written
        if entry.rel_path == "b.txt":
            raise RuntimeError("bookkeeping broke")
        return real(self, entry)

    monkeypatch.setattr(Ledger, "mark_sending", broken)
    events: list = []
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        sandbox = (await client.create_sandbox()).sandbox_id
        result = await make_watcher(client, folder, sandbox, events).sync()
    assert result.sent == 2
    assert result.failed == [("b.txt", "b.txt: unexpected RuntimeError: bookkeeping broke")]
    failed = [e for e in events if isinstance(e, ev.UploadFailed)]
    assert len(failed) == 1 and failed[0].final
    assert sorted(server_files(emu, sandbox)) == ["/workspace/a.txt", "/workspace/c.txt"]
