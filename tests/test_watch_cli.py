"""``duvo-tui watch``: --once exit codes, bad input, Ctrl-C, and a ``kill -9`` in the middle of uploads."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from duvo_tui.emulator.sandbox_store import list_tree
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service.ledger import ledger_path
from tests.cli_support import new_sandbox


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def held(emu, sandbox: str) -> dict[str, str]:
    root = emu.state.sandboxes[sandbox].root
    return {p: sha(root / p[len("/workspace/") :]) for p, _ in list_tree(root)}


def direct_uploads(emu) -> int:
    return sum(1 for key in emu.state.idempotency if key[1] == "POST" and key[2].endswith("/files"))


def test_once_uploads_what_is_missing_and_exits_0_then_sends_nothing(cli, emulator, tmp_path):
    sandbox = new_sandbox(cli)
    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("bb")
    (folder / "c.part").write_text("partial")
    code, out, err = cli("watch", str(folder), "--sandbox", sandbox, "--once", "--settle", "0.05")
    assert code == 0, err
    assert "2 sent, 0 already there, 0 failed" in out
    assert sorted(held(emulator, sandbox)) == ["/workspace/a.txt", "/workspace/sub/b.txt"]
    code, out, _ = cli("watch", str(folder), "--sandbox", sandbox, "--once", "--settle", "0.05")
    assert code == 0 and "0 sent, 2 already there, 0 failed" in out
    assert direct_uploads(emulator) == 2


def test_once_exits_1_when_a_file_is_refused(cli, emulator, tmp_path):
    sandbox = new_sandbox(cli)
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "fine.txt").write_text("ok")
    (folder / "bad\\name.txt").write_text("the server refuses backslashes in paths")
    code, out, err = cli("watch", str(folder), "--sandbox", sandbox, "--once", "--settle", "0.05")
    assert code == 1
    assert "1 sent, 0 already there, 1 failed" in out
    assert "bad\\name.txt" in err and "400" in err
    assert sorted(held(emulator, sandbox)) == ["/workspace/fine.txt"]


def test_a_missing_folder_is_exit_2(cli, tmp_path):
    code, _, err = cli("watch", str(tmp_path / "nope"), "--sandbox", "sbx_x", "--once")
    assert code == 2 and "does not exist" in err


def test_a_file_instead_of_a_folder_is_exit_2(cli, tmp_path):
    (tmp_path / "f.txt").write_text("x")
    code, _, err = cli("watch", str(tmp_path / "f.txt"), "--sandbox", "sbx_x", "--once")
    assert code == 2 and "is not a folder" in err


def test_an_unreadable_folder_is_exit_2(cli, tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0)
    if os.geteuid() == 0:
        # Root reads any folder, so permissions cannot refuse it here: the access check is made to say no.
        import duvo_tui.cli.watch as watch_cli

        monkeypatch.setattr(watch_cli.os, "access", lambda path, mode: False)
    try:
        code, _, err = cli("watch", str(folder), "--sandbox", "sbx_x", "--once")
    finally:
        folder.chmod(0o700)
    assert code == 2 and "cannot be read" in err


def test_an_unknown_sandbox_is_one_message_and_exit_1(cli, tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.txt").write_text("x")
    code, out, err = cli("watch", str(folder), "--sandbox", "sbx_unknown", "--once")
    assert code == 1 and err.count("\n") == 1 and "404" in err
    assert out == ""


def _spawn(emu, home: Path, *argv: str) -> subprocess.Popen:
    env = {**os.environ, "DUVO_TUI_HOME": str(home), "DUVO_API_KEY": emu.api_key}
    return subprocess.Popen(
        [sys.executable, "-m", "duvo_tui", "--base-url", emu.base_url, *argv],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _done_lines(path: Path) -> int:
    try:
        return sum(1 for line in path.read_text().splitlines() if '"status":"done"' in line)
    except FileNotFoundError:
        return 0


def test_watching_ends_cleanly_on_ctrl_c(tmp_path, isolated_home):
    folder = tmp_path / "drop"
    folder.mkdir()
    with running_emulator(speed=50) as emu:
        import asyncio

        from duvo_tui.api.client import DuvoClient

        async def create() -> str:
            async with DuvoClient(emu.base_url, emu.api_key) as client:
                return (await client.create_sandbox()).sandbox_id

        sandbox = asyncio.run(create())
        proc = _spawn(emu, isolated_home, "watch", str(folder), "--sandbox", sandbox, "--settle", "0.1")
        try:
            deadline = time.monotonic() + 15
            ledger = ledger_path(folder, sandbox, isolated_home / "state")
            (folder / "late.txt").write_text("dropped while watching")
            while _done_lines(ledger) < 1:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.05)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, err
        assert "Uploaded /workspace/late.txt" in out and "Stopped: 1 sent, 0 failed" in out
        assert list(held(emu, sandbox)) == ["/workspace/late.txt"]


def test_killed_mid_upload_and_restarted_sends_only_what_had_not_arrived(tmp_path, isolated_home):
    folder = tmp_path / "drop"
    folder.mkdir()
    count = 16
    for i in range(count):
        (folder / f"f{i:02}.bin").write_bytes(os.urandom(200_000))
    # Slow answers (100 ms each, four at a time) leave time to kill the watcher in the middle.
    with running_emulator(speed=50, latency_ms=100) as emu:
        import asyncio

        from duvo_tui.api.client import DuvoClient

        async def create() -> str:
            async with DuvoClient(emu.base_url, emu.api_key) as client:
                return (await client.create_sandbox()).sandbox_id

        sandbox = asyncio.run(create())
        ledger = ledger_path(folder, sandbox, isolated_home / "state")
        proc = _spawn(emu, isolated_home, "watch", str(folder), "--sandbox", sandbox, "--settle", "0.05")
        deadline = time.monotonic() + 20
        while _done_lines(ledger) < 4:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        time.sleep(0.3)  # let the server finish whatever request bodies it had whole
        arrived_at_kill = held(emu, sandbox)
        sent_before = direct_uploads(emu)
        assert 4 <= len(arrived_at_kill) < count, "the kill did not land in the middle of the uploads"

        again = _spawn(emu, isolated_home, "watch", str(folder), "--sandbox", sandbox, "--once", "--settle", "0.05")
        out, err = again.communicate(timeout=30)
        assert again.returncode == 0, err
        final = held(emu, sandbox)
        sent_after = direct_uploads(emu) - sent_before

    assert final == {f"/workspace/{p.name}": sha(p) for p in folder.iterdir()}
    assert sent_after == count - len(arrived_at_kill), out
    assert f"{sent_after} sent, {count - sent_after} already there, 0 failed" in out
