"""Bad input from the user: one clear message each, and the dashboard keeps running.

Already covered elsewhere (not repeated): the command line's malformed config, unknown profile, missing
config file, bad run ids, missing upload file and bad destinations (tests/test_cli_usage.py); an expired
sandbox on upload (tests/test_upload_cli.py); a missing, file-instead-of-folder or unreadable watched
folder (tests/test_watch_cli.py, tests/test_upload_ui.py); an unknown run id in the dashboard
(tests/test_ui_dashboard.py).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.ui.dialogs import StartRunScreen
from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree
from tests.test_ui_dashboard import dashboard, wait_until


def notified(app: Any, fragment: str) -> bool:
    return any(fragment.lower() in f"{n.title} {n.message}".lower() for n in app._notifications)


# --- the dashboard -----------------------------------------------------------------------------------------


async def test_adding_malformed_run_ids_is_a_notification_each(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, _service):
        for typed in ("not-a-uuid", "../../etc/passwd", "[/]", "x" * 300):
            app.clear_notifications()
            await pilot.press("a")
            await wait_until(pilot, lambda: bool(app.screen.query("#prompt")))
            app.screen.query_one("#prompt").value = typed
            await pilot.press("enter")
            await wait_until(pilot, lambda: notified(app, "could not add"))
            assert app.is_running and app.screen_dashboard.run_list.total_count == 0


async def test_starting_an_unknown_agent_says_so_in_the_dialog(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, _service):
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))
        app.screen.query_one("#agent").value = "nobody"
        await pilot.click("#ok")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen) and "nobody" in _dialog_error(app))
        assert app.is_running


def _dialog_error(app: Any) -> str:
    try:
        return str(app.screen.query_one("#dialog-error").render())
    except Exception:
        return ""


async def test_an_expired_sandbox_is_said_on_start_and_in_the_tree(tmp_path):
    with running_emulator(speed=50) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as outside:
            sandbox = await outside.create_sandbox()
            await outside.upload_file(sandbox.sandbox_id, "/workspace/a.txt", b"a")
            run = await outside.start_run(emu.agents["quick"], sandbox_id=sandbox.sandbox_id)
        emu.state.sandboxes[sandbox.sandbox_id].expires_at = time.time()  # expired from now on
        async with dashboard(emu, tmp_path) as (app, pilot, _service):
            # Starting a run on it: the dialog says it expired.
            await pilot.press("s")
            await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))
            app.screen.query_one("#agent").value = emu.agents["quick"]
            app.screen.query_one("#sandbox").value = sandbox.sandbox_id
            await pilot.click("#ok")
            await wait_until(pilot, lambda: "expired" in _dialog_error(app).lower())
            await pilot.press("escape")
            # A run that used it: the sandbox pane says why it cannot list it.
            await pilot.press("a")
            await wait_until(pilot, lambda: bool(app.screen.query("#prompt")))
            app.screen.query_one("#prompt").value = run.id
            await pilot.press("enter")
            tree = app.screen_dashboard.query_one(SandboxTree)
            await wait_until(pilot, lambda: any("could not list" in str(c.label) for c in tree.root.children))
            assert "expired" in str(tree.root.children[0].label).lower()
            assert app.is_running


async def test_saving_a_transcript_where_it_cannot_go_is_a_notification(emulator, tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        run = await service.start_run(emulator.agents["quick"], message="hi")
        await wait_until(pilot, lambda: app.screen_dashboard.run_list.row(run.id) is not None)
        app.screen_dashboard.select(run.id)
        for target in (tmp_path, blocker / "transcript.txt"):  # a folder; a path under a file
            app.clear_notifications()
            app.screen_dashboard.messages_pane.save_transcript(str(target))
            await wait_until(pilot, lambda: notified(app, "could not save"))
            assert app.is_running
    assert blocker.read_text() == "x"


# --- the command line --------------------------------------------------------------------------------------


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("config_text", "fragment"),
    [("[profiles.default\nbase_url = 1", "config.toml:1"), ("[profiles.default]\nbase_url = 42\n", "base_url")],
)
def test_the_dashboard_with_a_malformed_config_is_one_line_and_exit_2(tmp_path, capsys, config_text, fragment):
    from duvo_tui.cli import main

    path = tmp_path / "config.toml"
    path.write_text(config_text)
    started = time.monotonic()
    assert main(["--config", str(path)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert fragment in line and "config.toml" in line
    assert time.monotonic() - started < 5  # no dashboard was opened


def test_the_dashboard_with_an_unknown_profile_is_one_line_and_exit_2(tmp_path, capsys):
    from duvo_tui.cli import main

    path = tmp_path / "config.toml"
    path.write_text('[profiles.work]\nbase_url = "https://api.duvo.ai"\n')
    assert main(["--config", str(path), "--profile", "nope"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "nope" in line and "work" in line


def test_starting_a_run_on_an_expired_sandbox_is_one_line_and_exit_1(tmp_path, capsys, monkeypatch):
    from duvo_tui.cli import main

    with running_emulator(speed=50) as emu:
        monkeypatch.setenv("DUVO_API_KEY", emu.api_key)
        monkeypatch.setenv("DUVO_BASE_URL", emu.base_url)
        assert main(["sandbox", "create", "--json"]) == 0
        import json

        sandbox_id = json.loads(capsys.readouterr().out)["sandbox_id"]
        emu.state.sandboxes[sandbox_id].expires_at = time.time()  # expired from now on
        assert main(["runs", "start", emu.agents["quick"], "--sandbox", sandbox_id]) == 1
        assert "expired" in _one_line(capsys.readouterr().err)
        assert main(["sandbox", "ls", sandbox_id]) == 1
        assert "expired" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize("sandbox_id", ["no-such-sandbox", "../../v1/runs", "%2e%2e"])
def test_an_unknown_or_odd_sandbox_id_is_one_line_and_exit_1(emulator, capsys, monkeypatch, sandbox_id):
    # Sandbox ids are free strings in the API: the client sends them encoded, the server refuses them.
    from duvo_tui.cli import main

    monkeypatch.setenv("DUVO_API_KEY", emulator.api_key)
    monkeypatch.setenv("DUVO_BASE_URL", emulator.base_url)
    assert main(["sandbox", "ls", sandbox_id]) == 1
    assert "404" in _one_line(capsys.readouterr().err)
