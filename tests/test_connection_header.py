"""The header says what the first requests found: who the key is, a refused key, or a server out of reach.

Each state must show within the first request's timeout, never "connecting" for as long as one watches, and
never with a word printed twice. Checked at 80x24 and 120x40 on the real app, service and client.
"""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from duvo_tui.ui.chrome.header import DashboardHeader
from tests.screen_reading import screen_lines
from tests.test_ui_dashboard import FAST, runs, wait_until

SIZES = [(80, 24), (120, 40)]


def header_line(app) -> str:
    header = app.screen_dashboard.query_one(DashboardHeader)
    return str(header.render())


async def open_dashboard(base_url: str, key: str, tmp_path, size):
    client = DuvoClient(base_url, key, timeout=5.0)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    profile = Profile(name="work", base_url=base_url, api_key=key)
    return make_app(service, profile, on_close=client.aclose), service


def no_word_twice(line: str) -> None:
    words = [w for w in line.replace("·", " ").split() if w.isalpha() and len(w) > 3]
    assert len(words) == len(set(words)), line


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_connected_names_the_person_and_the_team(emulator, tmp_path, size):
    app, _service = await open_dashboard(emulator.base_url, emulator.api_key, tmp_path, size)
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: "Maya Chen" in header_line(app), within=10)
        line = header_line(app)
        # At 80 columns the team gives way to the budget; the name always shows.
        expected = "● Maya Chen · team 7d3c9a52" if size[0] >= 120 else "● Maya Chen"
        assert expected in line and "connecting" not in line
        no_word_twice(line)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_a_wrong_key_says_so_and_names_the_fix(emulator, tmp_path, size):
    app, _service = await open_dashboard(emulator.base_url, "dv_wrong_key_0123456789abcdefghijklm", tmp_path, size)
    async with app.run_test(size=size, notifications=True) as pilot:
        started = time.monotonic()
        await wait_until(pilot, lambda: "key refused" in header_line(app), within=10)
        assert time.monotonic() - started < 5.0, "within the first request's timeout"
        line = header_line(app)
        assert "✗ key refused (401): check DUVO_API_KEY" in line and "connected" not in line
        no_word_twice(line)
        refusals = [str(n.message) for n in app._notifications if "refused" in f"{n.title} {n.message}"]
        assert len(refusals) == 1 and "DUVO_API_KEY" in refusals[0], refusals
        # Asking again (a start that fails with 401) must not turn the header to "connected".
        await pilot.pause(1.5)
        assert "key refused" in header_line(app)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_a_closed_port_says_unreachable_with_the_next_try(tmp_path, size):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    app, _service = await open_dashboard(
        f"http://127.0.0.1:{port}", "dv_some_key_0123456789abcdefghijklmn", tmp_path, size
    )
    async with app.run_test(size=size) as pilot:
        started = time.monotonic()
        await wait_until(pilot, lambda: "unreachable" in header_line(app), within=10)
        assert time.monotonic() - started < 5.0, "within the first request's timeout"
        line = header_line(app)
        assert "✗ unreachable · retry" in line and "connecting" not in line
        no_word_twice(line)
        assert runs(app).total_count == 0


async def start_elsewhere(emulator) -> str:
    """Start a run the way another program on the same key would (plain HTTP, not duvo-tui); its id."""
    async with httpx.AsyncClient() as other_program:
        response = await other_program.post(
            f"{emulator.base_url}/v1/runs",
            json={"agent_id": emulator.agents["quick"], "message": "started from a script"},
            headers={"Authorization": f"Bearer {emulator.api_key}"},
        )
    return response.json()["run"]["id"]


async def test_runs_started_by_another_program_appear_in_the_dashboard(emulator, tmp_path):
    app, _service = await open_dashboard(emulator.base_url, emulator.api_key, tmp_path, (120, 40))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        run_id = await start_elsewhere(emulator)
        await wait_until(pilot, lambda: runs(app).row(run_id) is not None, within=10)
        row = runs(app).row(run_id)
        assert row.agent == "Daily Health Check" and row.title == "started from a script"


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_a_key_that_may_not_read_its_profile_but_reads_runs_is_connected(emulator, tmp_path, size):
    emulator.state.forbid("/v1/profile")  # 403 insufficient_scope there, as for a key made without that right
    run_id = await start_elsewhere(emulator)
    app, _service = await open_dashboard(emulator.base_url, emulator.api_key, tmp_path, size)
    async with app.run_test(size=size, notifications=True) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        await wait_until(pilot, lambda: runs(app).row(run_id) is not None, within=10)
        await wait_until(pilot, lambda: "● connected" in header_line(app), within=10)
        await pilot.pause(0.5)  # whatever the first requests said has arrived by now
        line = header_line(app)
        assert "● connected" in line and "403" not in line and "✗" not in line, line
        no_word_twice(line)
        refusals = [str(n.message) for n in app._notifications if n.severity == "error"]
        assert refusals == [], refusals


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x40"])
async def test_a_key_that_may_read_neither_profile_nor_runs_says_so_and_names_the_fix(emulator, tmp_path, size):
    emulator.state.forbid("/v1/profile", "/v1/runs")
    app, _service = await open_dashboard(emulator.base_url, emulator.api_key, tmp_path, size)
    async with app.run_test(size=size, notifications=True) as pilot:
        started = time.monotonic()
        await wait_until(pilot, lambda: "403" in header_line(app), within=10)
        assert time.monotonic() - started < 5.0, "within the first requests' timeout"
        line = header_line(app)
        assert "✗ key may not read runs (403): use another key" in line and "connected" not in line, line
        no_word_twice(line)
        refusals = [str(n.message) for n in app._notifications if n.severity == "error"]
        assert len(refusals) == 1 and "DUVO_API_KEY" in refusals[0] and "403" in refusals[0], refusals


def tab_row_notification(app) -> str:
    """What the one-line notification on the tab row shows at 80x24 (right of the tabs)."""
    line = screen_lines(app)[1]
    assert "▌" in line, line
    return line.split("▌", 1)[1].strip()


@pytest.mark.parametrize(
    ("key", "forbidden", "title"),
    [
        ("dv_wrong_key_0123456789abcdefghijklm", (), "The API key was refused"),
        (None, ("/v1/profile", "/v1/runs"), "The API key may not read runs"),
    ],
    ids=["401", "403"],
)
async def test_a_refusal_reads_whole_in_one_line_at_80x24(emulator, tmp_path, key, forbidden, title):
    emulator.state.forbid(*forbidden)
    app, _service = await open_dashboard(emulator.base_url, key or emulator.api_key, tmp_path, (80, 24))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: "▌" in screen_lines(app)[1], within=10)
        await pilot.pause(0.3)
        assert tab_row_notification(app) == title  # whole: a phrase, not a sentence cut off
        (said,) = [n for n in app._notifications if n.severity == "error"]
        assert said.title == title and "DUVO_API_KEY" in said.message  # the fix, where there is room for it
        assert ".." not in said.message, said.message


async def test_a_server_out_of_reach_reads_whole_in_one_line_at_80x24(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app, _service = await open_dashboard(
        f"http://127.0.0.1:{port}", "dv_some_key_0123456789abcdefghijklmn", tmp_path, (80, 24)
    )
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await wait_until(pilot, lambda: "▌" in screen_lines(app)[1], within=10)
        await pilot.pause(0.3)
        assert tab_row_notification(app) == "Cannot reach the server"
