"""Session restore: the dashboard reopens the last profile, the selected run, the run filter and the pane."""

from __future__ import annotations

import json

from duvo_tui.bench.idle import IdleService
from duvo_tui.config import Config, Profile
from duvo_tui.ui.app import make_app
from duvo_tui.ui.runs.run_list import RunList
from duvo_tui.ui.session import last_profile, load_sessions, session_file
from tests.feed_service import wait_until


async def test_selected_run_filter_and_pane_come_back():
    service = IdleService(6, 10.0)
    target = service.runs()[3]
    app = make_app(service, Profile(name="work"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        runs = app.screen_dashboard.query_one(RunList)
        runs.filter_text = "reconciliation 3"
        await pilot.pause(0.05)
        assert runs.select(target.id)
        app.screen_dashboard.select(target.id)
        app.screen_dashboard.action_show_pane(2)
        await pilot.pause(0.1)
        await pilot.press("q")
    last, sessions = load_sessions()
    assert last == "work"
    assert sessions["work"].run_id == target.id and sessions["work"].pane == 2
    assert sessions["work"].run_filter == "reconciliation 3"

    again = make_app(IdleService(6, 10.0), Profile(name="work"))
    async with again.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: again.service_started)
        await pilot.pause(0.1)
        screen = again.screen_dashboard
        assert again.screen_dashboard.selected == target.id
        assert screen.query_one(RunList).filter_text == "reconciliation 3"
        assert screen.active_pane == 2


async def test_each_profile_keeps_its_own_place():
    session_file().parent.mkdir(parents=True, exist_ok=True)
    service = IdleService(4, 10.0)
    other_run = service.runs()[1].id
    session_file().write_text(
        json.dumps({"last_profile": "a", "profiles": {"a": {"run_id": other_run, "pane": 1}, "b": {"pane": 0}}})
    )
    app = make_app(service, Profile(name="b"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        await pilot.pause(0.1)
        # Profile a's place (its run, pane 1) is not profile b's.
        assert app.screen_dashboard.active_pane == 0
        assert app.screen_dashboard.selected != other_run


async def test_a_broken_or_hostile_session_file_is_an_empty_session():
    session_file().parent.mkdir(parents=True, exist_ok=True)
    hostile = json.dumps({"profiles": {"x": {"pane": 99, "run_filter": 7, "run_id": ["a"]}}})
    for body in ("{not json", "[1, 2]", hostile):
        session_file().write_text(body)
        _, sessions = load_sessions()
        assert all(s.pane in range(4) and isinstance(s.run_filter, str) for s in sessions.values())
    app = make_app(IdleService(3, 10.0), Profile(name="x"))
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        assert app.screen_dashboard.active_pane == 0


def test_the_last_profile_is_reopened_when_none_is_asked_for(monkeypatch):
    session_file().parent.mkdir(parents=True, exist_ok=True)
    session_file().write_text(json.dumps({"last_profile": "staging", "profiles": {}}))
    config = Config(default_profile="prod", profiles={"prod": Profile(name="prod"), "staging": Profile(name="staging")})
    assert last_profile(config) == "staging"
    assert last_profile(Config(profiles={"prod": Profile(name="prod")})) is None  # gone from the config

    from duvo_tui.cli import dashboard, main

    config_path = session_file().parent / "config.toml"
    config_path.write_text(
        'default_profile = "prod"\n[profiles.prod]\napi_key = "dv_p_1234567890"\n'
        '[profiles.staging]\napi_key = "dv_s_1234567890"\n'
    )
    config_path.chmod(0o600)
    opened: list[str] = []
    monkeypatch.setattr(dashboard, "_run_app", lambda profile, *a, **k: opened.append(profile.name) or 0)
    assert main(["--config", str(config_path)]) == 0
    assert main(["--config", str(config_path), "--profile", "prod"]) == 0
    assert opened == ["staging", "prod"]
