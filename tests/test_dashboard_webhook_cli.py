"""``--webhook-listen`` / ``--webhook-secret`` of the dashboard: argument handling and the service settings."""

from __future__ import annotations

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.cli import dashboard, main
from duvo_tui.config import load_config, resolve_profile
from duvo_tui.emulator.testing import running_emulator

KEY = "dv_test_0123456789abcdef"
SECRET = "whsec_test_secret_value"


@pytest.fixture
def captured(monkeypatch):
    """Replace the app with a recorder of what it would have been given."""
    calls: list[dict] = []

    def fake_run_app(profile, config, config_path, on_ready=None, *, webhook=(None, None), debug_log=None):
        calls.append({"profile": profile, "webhook": webhook})
        return 0

    monkeypatch.setattr(dashboard, "_run_app", fake_run_app)
    monkeypatch.setenv("DUVO_API_KEY", KEY)
    monkeypatch.delenv(dashboard.WEBHOOK_SECRET_ENV, raising=False)
    return calls


def test_listen_without_a_secret_is_exit_2_with_one_line(captured, capsys):
    assert main(["--webhook-listen", ":8787"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--webhook-listen needs a secret" in err and dashboard.WEBHOOK_SECRET_ENV in err
    assert captured == []


@pytest.mark.parametrize("value", ["localhost:http", "127.0.0.1:70000", "nonsense"])
def test_a_bad_listen_address_is_exit_2(captured, capsys, value):
    assert main(["--webhook-listen", value, "--webhook-secret", SECRET]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--webhook-listen" in err
    assert captured == []


def test_port_alone_listens_on_loopback_and_the_secret_comes_from_the_environment(captured, monkeypatch):
    monkeypatch.setenv(dashboard.WEBHOOK_SECRET_ENV, SECRET)
    assert main(["--webhook-listen", ":8787"]) == 0
    assert captured[0]["webhook"] == ("127.0.0.1:8787", SECRET)


def test_an_explicit_host_is_kept_and_the_flag_beats_the_environment(captured, monkeypatch):
    monkeypatch.setenv(dashboard.WEBHOOK_SECRET_ENV, "from-env-secret")
    assert main(["--webhook-listen", "0.0.0.0:9000", "--webhook-secret", SECRET]) == 0
    assert captured[0]["webhook"] == ("0.0.0.0:9000", SECRET)


def test_no_flag_means_no_listener_even_with_a_secret_in_the_environment(captured, monkeypatch):
    monkeypatch.setenv(dashboard.WEBHOOK_SECRET_ENV, SECRET)
    assert main([]) == 0
    assert captured[0]["webhook"][0] is None


def test_the_secret_is_not_echoed_in_errors(captured, capsys):
    assert main(["--webhook-listen", "bad:port", "--webhook-secret", SECRET]) == 2
    assert SECRET not in capsys.readouterr().err


async def test_the_service_gets_the_settings_and_listens_on_loopback():
    with running_emulator(speed=50) as emu:
        profile = resolve_profile(load_config(None), None, emu.base_url, env={"DUVO_API_KEY": emu.api_key})
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            service = dashboard.build_service(profile, client, webhook_listen="127.0.0.1:0", webhook_secret=SECRET)
            assert (service.settings.webhook_listen, service.settings.webhook_secret) == ("127.0.0.1:0", SECRET)
            await service.start()
            try:
                assert service.webhooks is not None
                assert service.webhooks.host == "127.0.0.1" and service.webhooks.port > 0
            finally:
                await service.close()
            plain = dashboard.build_service(profile, client)
            assert plain.settings.webhook_listen is None
