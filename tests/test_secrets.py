"""The API key stays secret: not on screen, not in logs, errors, crash reports, transcripts or --json output;
files holding state are private; a webhook receiver without a secret accepts nothing.

Already covered elsewhere (not repeated here): the config file is written 0600 and a world-readable one with a
key gives a warning without the key (tests/test_config.py, tests/test_cli_emulator.py); the CLI's one-line
errors and ``--debug`` tracebacks are masked (tests/test_cli_usage.py); client errors and reprs never hold the
key (tests/test_client_errors.py); the webhook receiver listens on loopback by default and refuses unsigned,
stale and badly signed deliveries (tests/test_webhooks.py).
"""

from __future__ import annotations

import asyncio
import logging
import stat
import time
import traceback
from pathlib import Path

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service import events as ev
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from tests.settings import service_settings
from tests.test_hostile_dashboard import screen_text, wait_until

SECRET = "dv_live_9Qx7Lm2Pz8Kw4Rt6Vy1Bn3Hd5Jf0Gs"
"""A key the emulator accepts; long and distinctive so any piece of it is easy to spot."""


def pieces(secret: str = SECRET, size: int = 10) -> list[str]:
    """Every ``size``-character piece of the key past its public prefix (a partial leak counts too)."""
    body = secret[len("dv_") :]
    return [body[i : i + size] for i in range(len(body) - size + 1)]


def assert_no_key(text: str, where: str) -> None:
    for piece in pieces():
        assert piece not in text, f"a piece of the API key is in {where}: …{piece}…"


@pytest.fixture(scope="module")
def emu():
    with running_emulator(speed=50, api_keys=[SECRET]) as handle:
        yield handle


def _profile(emu) -> Profile:
    return Profile(name="work", base_url=emu.base_url, team_id=emu.team_id, api_key=SECRET)


def test_dashboard_session_shows_and_logs_no_key(emu, tmp_path, caplog):
    """Screens (runs, messages, help, palette), debug logs of everything, and a saved transcript."""
    caplog.set_level(logging.DEBUG)
    emu.state.fail_next(2, status=502)  # errors and retries get logged too

    async def scenario() -> None:
        client = DuvoClient(emu.base_url, SECRET)
        service = DuvoService(client, settings=service_settings(), state_dir=tmp_path / "state", team_id=emu.team_id)
        app = make_app(service, _profile(emu), on_close=client.aclose)
        async with app.run_test(size=(160, 50), notifications=True) as pilot:
            await wait_until(pilot, lambda: app.service_started)
            run = await service.start_run(emu.agents["quick"], message="hello")
            await wait_until(pilot, lambda: app.screen_dashboard.run_list.row(run.id) is not None)
            app.screen_dashboard.run_list.select(run.id)
            app.screen_dashboard.select(run.id)
            await wait_until(pilot, lambda: len(service.messages(run.id)) >= 2, within=15)
            await pilot.pause(0.2)
            screens = [screen_text(app)]
            await pilot.press("question_mark")
            await pilot.pause(0.1)
            screens.append(screen_text(app))
            await pilot.press("escape", "ctrl+p")
            await pilot.pause(0.2)
            screens.append(screen_text(app))
            await pilot.press("escape")
            for number, text in enumerate(screens):
                assert_no_key(text, f"screen {number}")
            # Save the transcript the way ctrl+s does.
            target = tmp_path / "transcript.txt"
            app.screen_dashboard.messages_pane.save_transcript(str(target))
            saved = target.read_text()
            assert "hello" in saved
            assert_no_key(saved, "the saved transcript")
            assert target.stat().st_mode & 0o777 == 0o600  # what the agent said may be private too

    asyncio.run(asyncio.wait_for(scenario(), 60))
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records)
    assert caplog.records, "nothing was logged at DEBUG"
    assert_no_key(logged, "the debug log")


def test_a_refused_key_is_not_in_the_event_the_toast_or_the_traceback(emu, tmp_path):
    wrong = "dv_live_WRONGkey0000111122223333444455"

    async def scenario() -> None:
        client = DuvoClient(emu.base_url, wrong)
        try:
            await client.get_run("00000000-0000-4000-8000-000000000000")
        except Exception as error:
            report = "".join(traceback.format_exception(error)) + str(error) + repr(error)
        else:
            raise AssertionError("the wrong key was accepted")
        finally:
            await client.aclose()
        assert wrong[3:] not in report and wrong[10:20] not in report

        events: list[ev.Event] = []
        client = DuvoClient(emu.base_url, wrong)
        service = DuvoService(client, state_dir=tmp_path / "state2", team_id=emu.team_id)
        service.subscribe(events.append)
        app = make_app(service, Profile(name="p", base_url=emu.base_url, api_key=wrong), on_close=client.aclose)
        async with app.run_test(size=(160, 50), notifications=True) as pilot:
            await wait_until(pilot, lambda: any(isinstance(e, ev.AuthFailed) for e in events), within=15)
            await pilot.pause(0.2)
            text = screen_text(app)
        assert "refused" in text.lower() or "401" in text
        for event in events:
            assert wrong[10:20] not in repr(event)
        assert wrong[10:20] not in text

    asyncio.run(asyncio.wait_for(scenario(), 60))


def test_crash_report_holds_no_key(emu, tmp_path, monkeypatch, capsys):
    """Textual's crash report (printed on exit) shows the locals of every frame; none may show the key."""
    from duvo_tui.ui.runs.runs_pane import RunsPane

    def broken(self, event):
        raise RuntimeError("a bug while showing a run")

    monkeypatch.setattr(RunsPane, "take", broken)

    async def scenario() -> None:
        client = DuvoClient(emu.base_url, SECRET)
        service = DuvoService(client, state_dir=tmp_path / "state", team_id=emu.team_id)
        app = make_app(service, _profile(emu), on_close=client.aclose)
        with pytest.raises(RuntimeError):
            async with app.run_test(size=(120, 40)) as pilot:
                await wait_until(pilot, lambda: app.service_started)
                await service.start_run(emu.agents["quick"])
                await wait_until(pilot, lambda: app._exception is not None, within=15)

    capsys.readouterr()
    asyncio.run(asyncio.wait_for(scenario(), 60))
    report = capsys.readouterr().err
    assert "a bug while showing a run" in report
    assert_no_key(report, "the crash report")


def test_json_and_debug_output_of_the_cli_hold_no_key(emu, monkeypatch, capsys):
    from duvo_tui.cli import main

    monkeypatch.setenv("DUVO_API_KEY", SECRET)
    monkeypatch.setenv("DUVO_BASE_URL", emu.base_url)
    started = asyncio.run(_start_run(emu))
    for argv in (["runs", "get", started, "--json", "--debug"], ["runs", "messages", started, "--json"]):
        assert main(argv) == 0
        out, err = capsys.readouterr()
        assert out.lstrip().startswith(("{", "[")), out[:200]
        assert_no_key(out, f"stdout of {argv}")
        assert_no_key(err, f"stderr of {argv}")
    # A refused request with --json: the error line names no key either.
    assert main(["runs", "get", "not-a-uuid", "--json", "--debug"]) == 2
    out, err = capsys.readouterr()
    assert_no_key(out + err, "a usage error")


async def _start_run(emu) -> str:
    async with DuvoClient(emu.base_url, SECRET) as client:
        run = await client.start_run(emu.agents["quick"], message="hi")
        return run.id


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_files_are_private(emu, tmp_path, isolated_home):
    """The tracked runs, the upload ledger and answer drafts are readable by their owner only."""
    from duvo_tui.service.drafts import Draft, DraftStore
    from duvo_tui.service.uploader import Uploader
    from duvo_tui.service.watcher import FolderWatcher

    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "a.txt").write_text("a")

    async def scenario() -> None:
        async with DuvoClient(emu.base_url, SECRET) as client:
            service = DuvoService(client, state_dir=isolated_home / "state", team_id=emu.team_id)
            await service.start()
            await service.start_run(emu.agents["quick"])
            await service.close()
            sandbox = await client.create_sandbox()
            watcher = FolderWatcher(folder, sandbox.sandbox_id, Uploader(client), state_dir=isolated_home / "state")
            result = await watcher.sync()
            assert result.sent == 1

    asyncio.run(asyncio.wait_for(scenario(), 60))
    DraftStore().save(Draft(run_id="r", request_id="q"))  # in the state dir, as the dashboard keeps them
    files = [p for p in isolated_home.rglob("*") if p.is_file()]
    assert len(files) >= 3, files
    for path in files:
        assert _mode(path) & 0o077 == 0, f"{path} is readable by others: {oct(_mode(path))}"
    for path in [p for p in isolated_home.rglob("*") if p.is_dir()]:
        assert _mode(path) & 0o077 == 0, f"{path} is open to others: {oct(_mode(path))}"


# --- the webhook receiver (loopback by default, unsigned/stale/forged refused: tests/test_webhooks.py) ---


def test_webhook_receiver_without_a_secret_accepts_nothing():
    from duvo_tui.service.webhooks import sign, verify

    now = time.time()
    body = b"{}"
    headers = {"x-duvo-timestamp": str(int(now)), "x-duvo-signature": sign("", str(int(now)), body)}
    assert verify("", headers, body, now=now) is not None


def test_a_state_file_left_readable_by_others_is_private_again_after_the_next_save(emu, tmp_path):
    # State files hold no key (so no warning is given, unlike the config): each save rewrites them 0600.
    from duvo_tui.service.store import state_file_for

    state_dir = tmp_path / "state"
    state_dir.mkdir()
    path = state_file_for(state_dir, emu.base_url, emu.team_id)
    path.write_text('{"runs": []}')
    path.chmod(0o644)

    async def scenario() -> None:
        async with DuvoClient(emu.base_url, SECRET) as client:
            service = DuvoService(client, state_dir=state_dir, team_id=emu.team_id)
            await service.start()
            await service.start_run(emu.agents["quick"])
            await service.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))
    assert _mode(path) == 0o600
    assert SECRET not in path.read_text()
