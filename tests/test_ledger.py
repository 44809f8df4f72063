"""The upload ledger: durable lines, torn tails, compaction, and the crash between confirmation and record."""

from __future__ import annotations

import hashlib
import os
import time

from duvo_tui.api.client import DuvoClient
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service import events as ev
from duvo_tui.service.ledger import Ledger, LedgerEntry, hash_file, ledger_path
from duvo_tui.service.uploader import Uploader
from duvo_tui.service.watcher import FolderWatcher, WatchSettings


def entry(rel: str = "a.txt", size: int = 3, sha: str = "0" * 64, status: str = "done") -> LedgerEntry:
    return LedgerEntry(rel, size, 123, sha, "sbx_1", f"/workspace/{rel}", time.time(), status)


def test_records_survive_a_reload_and_a_torn_last_line_is_ignored(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    ledger.mark_done(entry("a.txt"))
    ledger.mark_done(entry("b.txt"))
    with path.open("ab") as handle:
        handle.write(b'{"rel_path":"c.txt","size":1')  # what a kill -9 in the middle of a write leaves
    reloaded = Ledger(path)
    assert sorted(e.rel_path for e in reloaded.entries()) == ["a.txt", "b.txt"]
    reloaded.mark_done(entry("d.txt"))  # appended on a fresh line, not glued to the torn one
    assert sorted(e.rel_path for e in Ledger(path).entries()) == ["a.txt", "b.txt", "d.txt"]


def test_sending_is_not_done_until_confirmed(tmp_path):
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.mark_sending(entry("a.txt", sha="1" * 64))
    assert ledger.done("/workspace/a.txt") is None
    assert ledger.sending("/workspace/a.txt").sha256 == "1" * 64
    ledger.mark_done(entry("a.txt", sha="1" * 64))
    reloaded = Ledger(tmp_path / "ledger.jsonl")
    assert reloaded.done("/workspace/a.txt") is not None and reloaded.sending("/workspace/a.txt") is None


def test_many_superseded_lines_are_compacted_atomically(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger(path)
    for i in range(110):  # compaction is due past 2 x records + 100 lines
        ledger.mark_done(entry("a.txt", size=i))
    assert len(path.read_text().splitlines()) == 110
    reloaded = Ledger(path)
    assert len(path.read_text().splitlines()) == 1
    assert reloaded.done("/workspace/a.txt").size == 109
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_hash_is_streamed_and_matches_hashlib(tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    (tmp_path / "f").write_bytes(data)
    assert hash_file(tmp_path / "f", chunk=4096) == hashlib.sha256(data).hexdigest()


def test_ledger_files_are_per_folder_and_sandbox_in_the_state_dir(tmp_path, isolated_home):
    a = ledger_path(tmp_path / "one", "sbx_1")
    assert a.parent == isolated_home / "state" / "uploads"
    assert a != ledger_path(tmp_path / "two", "sbx_1") and a != ledger_path(tmp_path / "one", "sbx_2")


async def test_a_crash_after_the_server_confirmed_but_before_the_record_sends_nothing_again(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    file = folder / "report.pdf"
    file.write_bytes(os.urandom(5000))
    with running_emulator(speed=50) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
            # The last process noted its intent, the server took the file, then the process died.
            ledger = Ledger(ledger_path(folder, sandbox))
            info = file.stat()
            ledger.mark_sending(
                LedgerEntry("report.pdf", info.st_size, info.st_mtime_ns, hash_file(file), sandbox,
                            "/workspace/report.pdf", time.time())
            )  # fmt: skip
            await client.upload_file(sandbox, "/workspace/report.pdf", file)
            watcher = FolderWatcher(folder, sandbox, Uploader(client), settings=WatchSettings(settle=0.05))
            result = await watcher.sync()
        uploads = sum(1 for key in emu.state.idempotency if key[2].endswith("/files"))
    assert (result.sent, result.unchanged) == (0, 1)
    assert uploads == 1
    assert Ledger(ledger_path(folder, sandbox)).done("/workspace/report.pdf") is not None


async def test_a_failed_upload_is_not_recorded_and_is_sent_by_the_next_pass(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    with running_emulator(speed=50) as emu:
        async with DuvoClient(emu.base_url, emu.api_key, max_retries=0) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
            emu.state.fail_next(2, status=500)
            events: list = []
            uploader = Uploader(client, events.append, max_attempts=2, backoff_base=0.01)
            settings = WatchSettings(settle=0.05)
            first = await FolderWatcher(folder, sandbox, uploader, emit=events.append, settings=settings).sync()
            failures = [e for e in events if isinstance(e, ev.UploadFailed)]
            assert [e.final for e in failures] == [False, True]
            assert [e for e in events if isinstance(e, ev.WatchStatus)][-1].failed == 1
            assert first.failed and first.failed[0][0] == "a.txt" and "500" in first.failed[0][1]
            assert Ledger(ledger_path(folder, sandbox)).done("/workspace/a.txt") is None
            second = await FolderWatcher(folder, sandbox, uploader, settings=settings).sync()
    assert second.ok and second.sent == 1
