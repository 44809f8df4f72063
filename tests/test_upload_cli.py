"""``duvo-tui sandbox upload`` through the uploader: exit codes, one message per refusal, the progress line."""

from __future__ import annotations

import io
import json
import os

from duvo_tui.cli import main
from duvo_tui.cli.upload import ProgressLine
from tests.cli_support import new_sandbox


def test_files_of_both_sizes_arrive_and_json_says_how(cli, emulator, tmp_path):
    sandbox = new_sandbox(cli)
    small, big = tmp_path / "small.txt", tmp_path / "big.bin"
    small.write_text("hello")
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    code, out, err = cli("sandbox", "upload", sandbox, str(small), str(big), "--dest", "/workspace/in", "--json")
    assert code == 0, err
    report = json.loads(out)
    methods = {u["path"]: (u["size_bytes"], u["method"]) for u in report["uploaded"]}
    assert methods == {
        "/workspace/in/small.txt": (5, "direct"),
        "/workspace/in/big.bin": (11 * 1024 * 1024, "presigned"),
    }
    root = emulator.state.sandboxes[sandbox].root
    assert (root / "in" / "big.bin").read_bytes() == big.read_bytes()


def test_an_unknown_sandbox_is_one_message_and_exit_1(cli, tmp_path):
    files = []
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(name)
        files.append(str(tmp_path / name))
    code, out, err = cli("sandbox", "upload", "sbx_unknown", *files)
    assert code == 1
    assert err.count("error") == 1 and "404" in err, err
    assert out == ""


def test_a_missing_file_is_exit_2_before_anything_is_sent(cli, emulator, tmp_path):
    sandbox = new_sandbox(cli)
    (tmp_path / "here.txt").write_text("x")
    code, _, err = cli("sandbox", "upload", sandbox, str(tmp_path / "here.txt"), str(tmp_path / "missing.txt"))
    assert code == 2 and "missing.txt" in err
    assert os.listdir(emulator.state.sandboxes[sandbox].root) == []


def test_an_expired_sandbox_is_exit_1(tmp_path, monkeypatch, capsys):
    from duvo_tui.emulator.testing import running_emulator

    (tmp_path / "a.txt").write_text("x")
    with running_emulator(speed=50) as emu:
        monkeypatch.setenv("DUVO_API_KEY", emu.api_key)
        assert main(["--base-url", emu.base_url, "sandbox", "create", "--json"]) == 0
        sandbox = json.loads(capsys.readouterr().out)["sandbox_id"]
        import time

        emu.state.sandboxes[sandbox].expires_at = time.time()  # expired from now on
        code = main(["--base-url", emu.base_url, "sandbox", "upload", sandbox, str(tmp_path / "a.txt")])
    err = capsys.readouterr().err
    assert code == 1 and "expired" in err and err.count("\n") == 1


def test_the_progress_line_draws_a_bar_rate_and_eta():
    stream = io.StringIO()
    line = ProgressLine(total=1000, files=2, stream=stream, interval=0)
    line.update("up-1", 250)
    line.update("up-2", 250)
    line.finished = 1
    line.say("Uploaded a")
    line.close()
    text = stream.getvalue()
    assert "[############------------]  50.0%" in text
    assert "(1/2 files)" in text and "Uploaded a\n" in text and "ETA" in text and "/s" in text
