"""Where duvo-tui is used (root over SSH, containers, cron) XDG_RUNTIME_DIR is often unset: every command and
the dashboard then keep their runtime files somewhere private without printing a word, and no Python warning
reaches the user. Each command runs as its own process with the environment a user would have (no
DUVO_TUI_HOME, a fresh HOME), so the warning filters are Python's defaults, not pytest's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from duvo_tui import locations
from duvo_tui.api.client import DuvoClient
from duvo_tui.bench.ptyrun import PtyProcess
from duvo_tui.cli import build_parser
from duvo_tui.text import clean

RUN_MESSAGE = "quiet start check"


def user_env(home: Path, emu=None) -> dict[str, str]:
    """A user's environment: HOME is ``home``, no XDG_* or DUVO_* variables (so no XDG_RUNTIME_DIR)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DUVO_", "XDG_", "PYTEST_")) and key not in ("PYTHONWARNINGS", "PYTHONPATH")
    }
    env["HOME"] = str(home)
    if emu is not None:
        env.update(DUVO_API_KEY=emu.api_key, DUVO_BASE_URL=emu.base_url)
    return env


def commands() -> list[str]:
    """Every command of the command line, as words (``runs start``, ``watch``...)."""
    found: list[str] = []

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    nested = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
                    walk(sub, (*prefix, name)) if nested else found.append(" ".join((*prefix, name)))

    walk(build_parser(), ())
    return found


def assert_private(folder: Path) -> None:
    info = folder.stat()
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid(), folder
    assert stat.S_IMODE(info.st_mode) == 0o700, f"{folder} is {oct(stat.S_IMODE(info.st_mode))}"


# --- where runtime files go ----------------------------------------------------------------------------------------


def test_without_xdg_runtime_dir_runtime_files_go_to_the_private_state_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DUVO_TUI_HOME")
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert locations.runtime_dir() == locations.state_dir() / "run"
    assert locations.runtime_dir().is_relative_to(tmp_path / "state")


@pytest.mark.parametrize("problem", ["open to others", "a symlink", "relative", "missing"])
def test_an_unusable_xdg_runtime_dir_is_passed_over_silently(problem, tmp_path, monkeypatch):
    monkeypatch.delenv("DUVO_TUI_HOME")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    real = tmp_path / "runtime"
    real.mkdir(mode=0o700)
    base = {
        "open to others": real,
        "a symlink": tmp_path / "link",
        "relative": Path("runtime"),
        "missing": tmp_path / "gone",
    }[problem]
    if problem == "open to others":
        real.chmod(0o755)
    if problem == "a symlink":
        base.symlink_to(real)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    assert locations.runtime_dir() == locations.state_dir() / "run"


def test_a_private_xdg_runtime_dir_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("DUVO_TUI_HOME")
    base = tmp_path / "runtime"
    base.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(base))
    assert locations.runtime_dir() == base / "duvo-tui"


# --- every command, as a user runs it -------------------------------------------------------------------------------


async def _prepare(emu) -> dict[str, str]:
    async with DuvoClient(emu.base_url, emu.api_key) as client:
        run = await client.start_run(emu.agents["quick"], message=RUN_MESSAGE)
        sandbox = await client.create_sandbox()
    return {"run": run.id, "sandbox": sandbox.sandbox_id}


def recipes(emu, ids: dict[str, str], folder: Path) -> dict[str, list[str]]:
    """The arguments each command runs with (commands that serve until stopped are run elsewhere)."""
    upload = folder / "note.txt"
    upload.write_text("hello\n")
    watched = folder / "watched"
    watched.mkdir()
    (watched / "a.txt").write_text("a\n")
    return {
        "runs start": ["runs", "start", emu.agents["quick"], "--message", "hi"],
        "runs get": ["runs", "get", ids["run"]],
        "runs list": ["runs", "list"],
        "runs messages": ["runs", "messages", ids["run"]],
        "runs say": ["runs", "say", ids["run"], "and one more thing"],
        "runs respond": ["runs", "respond", ids["run"], "--approve"],  # refused: nothing is pending
        "runs stop": ["runs", "stop", ids["run"]],
        "sandbox create": ["sandbox", "create"],
        "sandbox ls": ["sandbox", "ls", ids["sandbox"]],
        "sandbox upload": ["sandbox", "upload", ids["sandbox"], str(upload)],
        "watch": ["watch", str(watched), "--sandbox", ids["sandbox"], "--once"],
        "whoami": ["whoami"],
        "agents list": ["agents", "list"],
    }


SERVING = {"emulator", "demo", "serve"}
"""Commands that serve until stopped: run below (emulator), by the dashboard tests and CI's smoke test (demo)."""


def test_every_command_prints_no_warning_without_xdg_runtime_dir(emulator, tmp_path):
    ids = asyncio.run(_prepare(emulator))
    table = recipes(emulator, ids, tmp_path)
    missing = [name for name in commands() if name not in table and name not in SERVING]
    assert not missing, f"add the commands {missing} to recipes() so they are checked too"
    home = tmp_path / "home"
    home.mkdir()
    env = user_env(home, emulator)

    def run(name: str) -> tuple[str, subprocess.CompletedProcess[str]]:
        argv = [sys.executable, "-m", "duvo_tui", *table[name]]
        return name, subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    available = [name for name in commands() if name in table]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = dict(pool.map(run, available))
    for name, done in results.items():
        assert "Warning" not in done.stderr, f"duvo-tui {name} printed a warning:\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"duvo-tui {name} crashed:\n{done.stderr}"
        expected = 1 if name == "runs respond" else 0
        assert done.returncode == expected, f"duvo-tui {name} exited {done.returncode}:\n{done.stderr}"
    assert_private(home / ".local" / "state" / "duvo-tui" / "run")  # the shared rate budget lives there


def test_the_emulator_command_prints_no_warning_without_xdg_runtime_dir(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    argv = [sys.executable, "-m", "duvo_tui", "emulator", "--port", "0"]
    proc = subprocess.Popen(argv, env=user_env(home), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        printed = []
        while not printed or (printed[-1] and "Ctrl-C" not in printed[-1]):
            printed.append(proc.stdout.readline())
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
        errors = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert "Ctrl-C" in printed[-1]
    assert "Warning" not in errors and "Traceback" not in errors, errors


# --- the dashboard, in a terminal -----------------------------------------------------------------------------------


def _dashboard(tmp_path: Path, emulator, *extra: str) -> tuple[PtyProcess, Path]:
    """The dashboard of a user whose profile lists the team's runs (a run was started), in a 120x40 terminal."""
    home = tmp_path / "home"
    config = home / ".config" / "duvo-tui" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'[profiles.default]\nbase_url = "{emulator.base_url}"\nteam_id = "{emulator.team_id}"\n')
    asyncio.run(_prepare(emulator))
    argv = [sys.executable, "-m", "duvo_tui", *extra]
    return PtyProcess(argv, env=user_env(home, emulator), cwd=tmp_path, columns=120, rows=40), home


def _screen(child: PtyProcess) -> str:
    return clean(bytes(child.output).decode("utf-8", errors="replace"))


def _wait_for_text(child: PtyProcess, text: str, timeout: float = 60) -> bool:
    import time

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if text in _screen(child):
            return True
        if not child.read(0.1) and child.process.poll() is not None:
            return text in _screen(child)
    return False


def test_the_dashboard_starts_without_a_warning_without_xdg_runtime_dir(tmp_path, emulator):
    child, home = _dashboard(tmp_path, emulator)
    try:
        shown = _wait_for_text(child, RUN_MESSAGE)
    finally:
        status = child.close(b"q", timeout=20)
    screen = _screen(child)
    assert shown, f"the run never showed; the terminal showed:\n{screen[-2000:]}"
    assert status == 0
    assert "Warning" not in screen and "Traceback" not in screen, screen[-2000:]
    assert_private(home / ".local" / "state" / "duvo-tui" / "run")


def test_debug_logs_of_the_dashboard_go_to_a_private_file_never_to_the_screen(tmp_path, emulator):
    child, home = _dashboard(tmp_path, emulator, "--debug")
    try:
        shown = _wait_for_text(child, RUN_MESSAGE)
        on_screen = _screen(child)
    finally:
        status = child.close(b"q", timeout=20)
    assert shown, f"the run never showed; the terminal showed:\n{on_screen[-2000:]}"
    assert status == 0
    logs = home / ".local" / "state" / "duvo-tui" / "logs"
    [log] = logs.glob("debug-*.log")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert "HTTP Request: GET" in log.read_text(), "the requests are logged in the file"
    assert "HTTP Request" not in on_screen, "no log line is written over the dashboard"
    # The header names the log, or says DEBUG where there is no room (what it shows: test_header_names_the_debug_log).
    assert "debug log" in on_screen or "DEBUG" in on_screen, "the header says a debug log is written"
    printed = f"duvo-tui: debug log: ~/.local/state/duvo-tui/logs/{log.name}"
    assert printed not in on_screen and printed in _screen(child), "the path is printed on exit"


@pytest.mark.parametrize(
    ("width", "shown", "hidden"),
    [
        (200, "debug log ~/.local/state/duvo-tui/logs/debug-20261129-214910-4242.log", "…/"),
        (120, "debug log …/debug-20261129-214910-4242.log", "~/.local"),
        (80, "DEBUG", "debug-2026"),
    ],
)
async def test_header_names_the_debug_log(width, shown, hidden):
    from textual.app import App

    from duvo_tui.ui.chrome.header import BudgetPicture, DashboardHeader

    log = "~/.local/state/duvo-tui/logs/debug-20261129-214910-4242.log"

    class HeaderOnly(App):
        def compose(self):
            yield DashboardHeader("work", "https://api.duvo.ai", debug_log=log)

    app = HeaderOnly()
    async with app.run_test(size=(width, 24)) as pilot:
        header = app.query_one(DashboardHeader)
        header.budget = BudgetPicture(used=12, limit=300, resets_in=40, recent=12)
        header.waiting = 2
        await pilot.pause()
        line = header.render().plain
    assert shown in line and hidden not in line, line
    assert "12/300" in line and "2 waiting" in line, "the log's path never pushes out the budget or the waiting count"


def test_without_debug_the_header_says_nothing_of_a_log():
    from duvo_tui.ui.chrome.header import DashboardHeader

    assert DashboardHeader("work", "https://api.duvo.ai").debug_log == ""


def test_a_dashboard_that_cannot_start_exits_1(tmp_path):
    """As a wheel without its stylesheets did: the crash is shown and the exit status says so."""
    script = (
        "import sys, duvo_tui.ui.app as app\n"
        "app.DuvoApp.CSS_PATH = [app.STYLES / 'missing.tcss']\n"
        "from duvo_tui.cli import main\n"
        "sys.exit(main(['demo', '--no-runs']))\n"
    )
    home = tmp_path / "home"
    home.mkdir()
    child = PtyProcess([sys.executable, "-c", script], env=user_env(home), cwd=tmp_path, columns=120, rows=40)
    child.drain(timeout=60)
    status = child.close(b"", timeout=5)
    assert "missing.tcss" in _screen(child)
    assert status == 1
