"""The state dir and its files are private (0700 / 0600), and one clear warning says so when they are not.

The state holds tracked runs, answer drafts, upload records and the last session. Files the app writes are
0600 in 0700 folders whatever the umask; a state dir or file open to group or others gives one warning: a
stderr line from the command line, a notification in the dashboard (a ``Notice`` from the service).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from duvo_tui import locations
from duvo_tui.api.client import DuvoClient
from duvo_tui.api.models import Run
from duvo_tui.service import events as ev
from duvo_tui.service.drafts import Draft, DraftStore, QuestionDraft
from duvo_tui.service.ledger import Ledger, LedgerEntry, ledger_path
from duvo_tui.service.service import DuvoService
from duvo_tui.service.store import RunStore
from tests.cli_support import new_sandbox
from tests.hitl_harness import dashboard, wait_until

WARNING = "other users may read duvo-tui's saved state"
RUN = "00000000-0000-4000-8000-0000000000aa"


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """A umask that lets everyone read new files (022), as on many systems; restored afterwards."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def private_state(root: Path) -> Path:
    """A state dir as the app leaves it: 0700 with a 0600 file."""
    locations.atomic_write(root / "runs-x.json", "{}")
    return root


# --- the check ---------------------------------------------------------------------------------------------------


def test_private_state_or_no_state_gives_no_warning(tmp_path):
    assert locations.state_exposure(tmp_path / "absent") is None
    root = private_state(tmp_path / "state")
    locations.atomic_write(root / "drafts" / "d.json", "{}")
    assert mode_of(root) == 0o700 and mode_of(root / "runs-x.json") == 0o600
    assert locations.state_exposure(root) is None


@pytest.mark.parametrize(("where", "mode"), [("runs-x.json", 0o644), ("runs-x.json", 0o640), ("drafts/d.json", 0o604)])
def test_a_state_file_open_to_others_gives_one_line(tmp_path, where, mode):
    root = private_state(tmp_path / "state")
    locations.atomic_write(root / "drafts" / "d.json", "{}")
    (root / where).chmod(mode)
    warning = locations.state_exposure(root)
    assert warning is not None and "\n" not in warning
    assert WARNING in warning and "1 file or folder is open" in warning
    assert f"chmod -R go-rwx '{root}'" in warning


def test_a_state_dir_open_to_others_is_counted_with_its_files(tmp_path):
    root = private_state(tmp_path / "state")
    root.chmod(0o755)
    (root / "runs-x.json").chmod(0o644)
    warning = locations.state_exposure(root)
    assert warning is not None and "2 files or folders are open" in warning


def test_a_symlink_in_the_state_dir_is_not_judged_by_its_own_mode(tmp_path):
    root = private_state(tmp_path / "state")
    elsewhere = tmp_path / "public.txt"
    elsewhere.write_text("not ours")
    elsewhere.chmod(0o644)
    (root / "link").symlink_to(elsewhere)
    assert locations.state_exposure(root) is None


def test_the_config_uses_the_same_check(tmp_path):
    from duvo_tui.config import load_config

    path = tmp_path / "c.toml"
    path.write_text('[profiles.default]\napi_key = "dv_secretsecretsecret"\n')
    path.chmod(0o640)  # group-readable is open too
    assert len(load_config(path).warnings) == 1
    path.chmod(0o600)
    assert load_config(path).warnings == []


# --- what the app writes -----------------------------------------------------------------------------------------


def test_files_the_app_writes_are_0600_in_0700_folders_even_with_a_loose_umask(tmp_path, loose_umask):
    root = tmp_path / "home" / "state"  # neither folder exists yet
    store = RunStore(root / "runs-x.json")
    store.add(Run(id=RUN, status="running"))
    store.save()
    drafts = DraftStore(root)
    drafts.save(Draft(run_id=RUN, request_id="req-1", answers={"Q?": QuestionDraft(text="typed")}))
    ledger = Ledger(ledger_path(tmp_path / "folder", "sbx_1", root))
    ledger.record(LedgerEntry("a.txt", 1, 1, "0" * 64, "sbx_1", "/workspace/a.txt", 0.0))
    ledger.compact()
    made = [root, root / "runs-x.json", drafts.path_for("req-1"), drafts.path_for("req-1").parent, ledger.path]
    made.append(ledger.path.parent)
    assert {p.name: oct(mode_of(p)) for p in made} == {
        p.name: oct(0o700 if p.is_dir() else 0o600) for p in made
    }
    assert mode_of(tmp_path / "home") == 0o700  # a parent the app had to create is private as well
    assert locations.state_exposure(root) is None


def test_session_file_is_0600(loose_umask, monkeypatch):
    from duvo_tui.ui import session

    # The file is written as the dashboard writes it when it closes.
    path = session.session_file()
    session.save("default", session.ProfileSession(run_id=RUN), path)
    assert session.load_sessions(path)[1]["default"].run_id == RUN
    assert mode_of(path) == 0o600 and mode_of(path.parent) == 0o700


# --- the service, the command line, the dashboard ----------------------------------------------------------------


async def service_notices(emulator, state: Path) -> list[ev.Notice]:
    notices: list[ev.Notice] = []
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        service = DuvoService(client, state_dir=state)
        service.subscribe(lambda e: isinstance(e, ev.Notice) and notices.append(e))
        await service.start()
        await service.close()
    return notices


async def test_the_service_tells_once_when_it_loads_an_exposed_state(emulator, tmp_path):
    state = private_state(tmp_path / "state")
    assert await service_notices(emulator, state) == []
    (state / "runs-x.json").chmod(0o644)
    notices = await service_notices(emulator, state)
    assert len(notices) == 1 and notices[0].level == "warning" and WARNING in notices[0].message


def test_runs_start_warns_on_stderr_when_a_state_file_is_readable(cli, emulator):
    code, out, err = cli("runs", "start", emulator.agents["quick"], "--json")
    assert code == 0, err
    assert WARNING not in err
    root = locations.state_dir()
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files and all(mode_of(p) == 0o600 for p in files) and mode_of(root) == 0o700
    code, out, err = cli("runs", "list", "--json")
    assert code == 0 and WARNING not in err
    files[0].chmod(0o644)
    code, out, err = cli("runs", "start", emulator.agents["quick"], "--json")
    assert code == 0, err
    assert err.count(WARNING) == 1 and err.startswith("duvo-tui: warning: ")
    assert json.loads(out)["id"]  # the command still does its work


def test_watch_warns_when_the_state_dir_is_readable(cli, tmp_path):
    sandbox = new_sandbox(cli)
    folder = tmp_path / "watched"
    folder.mkdir()
    (folder / "a.txt").write_text("hello")
    code, _, err = cli("watch", str(folder), "--sandbox", sandbox, "--once", "--settle", "0.05")
    assert code == 0, err
    assert WARNING not in err
    locations.state_dir().chmod(0o755)
    code, _, err = cli("watch", str(folder), "--sandbox", sandbox, "--once", "--settle", "0.05")
    assert code == 0, err
    assert err.count(WARNING) == 1


async def test_the_dashboard_shows_the_warning_as_a_notification(emulator, tmp_path):
    state = private_state(tmp_path / "state")
    (state / "runs-x.json").chmod(0o644)
    async with dashboard(emulator, tmp_path) as (app, pilot, _service):
        await wait_until(pilot, lambda: any(WARNING in str(n.message) for n in app._notifications))
        shown = [n for n in app._notifications if WARNING in str(n.message)]
        assert len(shown) == 1 and shown[0].severity == "warning"
        assert shown[0].timeout >= 10  # a security warning stays long enough to be read
        assert app.is_running


async def test_the_dashboard_says_nothing_about_a_private_state(emulator, tmp_path):
    private_state(tmp_path / "state")
    async with dashboard(emulator, tmp_path) as (app, pilot, _service):
        await pilot.pause(0.2)
        assert app.service_started
        assert not any(WARNING in str(n.message) for n in app._notifications)
