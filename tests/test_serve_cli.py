"""``duvo-tui serve`` on the command line: what it refuses before serving anything, and the password setup."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from duvo_tui.cli import main
from duvo_tui.config import ConfigError, load_config, save_config
from duvo_tui.web.auth import verify_password
from tests.serve_support import ROOT


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DUVO_TUI_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DUVO_API_KEY", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--host", "0.0.0.0"], "--host 0.0.0.0 is reachable from other machines"),
        (["--host", "192.0.2.10"], "a plain-HTTP public bind is refused"),
        (["--certfile", "cert.pem"], "--certfile and --keyfile go together"),
        (["--max-sessions", "0"], "--max-sessions must be at least 1"),
        (["--port", "70000"], "--port must be between 0 and 65535"),
        (["--demo", "--speed", "0"], "--speed must be greater than 0"),
    ],
)
def test_options_that_cannot_be_served_safely_are_refused_with_status_2(arguments, message, capsys) -> None:
    assert main(["serve", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_a_certificate_that_does_not_load_is_refused(tmp_path: Path, capsys) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate")
    (tmp_path / "key.pem").write_text("not a key")
    arguments = ["serve", "--host", "0.0.0.0", "--certfile", str(tmp_path / "cert.pem"), "--keyfile"]
    assert main([*arguments, str(tmp_path / "key.pem")]) == 2
    assert "cannot load the certificate" in capsys.readouterr().err
    assert main([*arguments, str(tmp_path / "missing.pem")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_without_a_key_serve_says_how_to_give_one(capsys) -> None:
    assert main(["serve"]) == 2
    assert "no API key" in capsys.readouterr().err


def test_without_the_web_extra_serve_says_how_to_install_it() -> None:
    # The same interpreter with the web server's modules hidden, as in an install without the extra.
    code = (
        "import sys\n"
        "for name in ('textual_serve', 'aiohttp', 'aiohttp_jinja2', 'jinja2'): sys.modules[name] = None\n"
        "from duvo_tui.cli import main\n"
        "sys.exit(main(['serve', '--demo']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "pip install 'duvo-tui[web]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_dashboard_does_not_load_the_web_server() -> None:
    code = (
        "import sys, duvo_tui.cli.dashboard, duvo_tui.ui.app\n"
        "web = ('aiohttp', 'textual_serve', 'duvo_tui.web')\n"
        "print(sorted(m for m in sys.modules if m.startswith(web)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_hash_password_prints_config_lines_that_log_in_with_that_password(monkeypatch, capsys, home: Path) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long passphrase\n"))
    assert main(["serve", "--hash-password"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("[serve]\npassword_hash = ")
    assert "a long passphrase" not in printed
    config_file = home / "config.toml"
    config_file.write_text(printed)
    stored = load_config(config_file).serve.password_hash
    assert stored is not None
    assert verify_password("a long passphrase", stored)
    assert not verify_password("a long passphrasE", stored)
    # Rewriting the config (a theme change) keeps the hash.
    config = load_config(config_file)
    config.theme = "nord"
    save_config(config, config_file)
    assert load_config(config_file).serve.password_hash == stored


def test_a_short_password_is_refused(monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["serve", "--hash-password"]) == 2
    captured = capsys.readouterr()
    assert "at least 8 characters" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[serve]\npassword_hash = "hunter22"\n', "is not a hash made by duvo-tui serve --hash-password"),
        ("[serve]\npassword = 'x'\n", "unknown key 'serve.password'"),
        ("[serve]\npassword_hash = 3\n", "serve.password_hash must be a string"),
        ("serve = 'on'\n", "serve must be a table"),
    ],
)
def test_a_bad_serve_table_is_refused_with_a_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(config_file)
    assert message in str(error.value)


def test_read_only_serves_dashboards_that_run_read_only(monkeypatch, home: Path) -> None:
    """``--read-only`` (or ``read_only = true`` in the profile) reaches every tab's dashboard command line."""
    import shlex

    from duvo_tui.cli import build_parser, serve

    served: list[tuple[str, bool]] = []

    async def learned(profile) -> None:  # no API here: the key's limit is not what this test is about
        return None

    def record(args, ssl_context, command, title, read_only, password_hash, **kwargs) -> int:
        served.append((command, read_only))
        return 0

    monkeypatch.setattr(serve, "_learn_the_limit", learned)
    monkeypatch.setattr(serve, "_serve", record)
    config = home / "config.toml"
    config.write_text('[profiles.wall]\napi_key = "dv_x"\nread_only = true\n[profiles.ops]\napi_key = "dv_y"\n')
    assert main(["--config", str(config), "--profile", "wall", "serve"]) == 0
    assert main(["--config", str(config), "--profile", "ops", "serve", "--read-only"]) == 0
    assert main(["--config", str(config), "--profile", "ops", "serve"]) == 0
    (wall, wall_read_only), (ops_told, ops_told_read_only), (ops, ops_read_only) = served
    assert wall_read_only and wall.endswith("--profile wall --read-only")
    assert ops_told_read_only and ops_told.endswith("--profile ops --read-only")
    assert not ops_read_only and "--read-only" not in ops
    # The command is the dashboard's own command line (after the interpreter and "-m duvo_tui"), and parses so.
    args = build_parser().parse_args(shlex.split(wall)[3:])
    assert (args.profile, args.read_only, args.config) == ("wall", True, str(config))
