"""The command line without a server: parsing, global options, usage and config errors, answers to questions."""

from __future__ import annotations

import subprocess
import sys

import pytest

from duvo_tui import locations
from duvo_tui.api.models import HumanRequest, Question, QuestionOption
from duvo_tui.cli import build_parser, main
from duvo_tui.cli.answers import build_answers
from duvo_tui.cli.context import UsageError
from duvo_tui.cli.secrets import register_secret, scrub

RUN = "7d0c3b2a-1e4f-4a6b-8c9d-0e1f2a3b4c5d"
KEY = "dv_secretsecretsecretsecretsecret00"


def test_python_m_duvo_tui_help_lists_the_commands():
    done = subprocess.run(
        [sys.executable, "-m", "duvo_tui", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    for command in ("runs", "sandbox", "--profile", "--base-url", "--config", "--json"):
        assert command in done.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "--profile", "p", "runs", "get", RUN],
        ["runs", "get", RUN, "--json", "--profile", "p"],
        ["runs", "--json", "get", "--profile", "p", RUN],
    ],
)
def test_global_options_work_before_and_after_the_command(argv):
    args = build_parser().parse_args(argv)
    assert args.json is True and args.profile == "p" and args.run_id == RUN


def test_global_option_given_twice_the_later_wins():
    args = build_parser().parse_args(["--profile", "a", "runs", "list", "--profile", "b"])
    assert args.profile == "b"


def test_unknown_option_is_exit_2(capsys):
    assert main(["runs", "get", RUN, "--colour"]) == 2
    assert "unrecognized arguments: --colour" in capsys.readouterr().err


def test_unknown_command_is_exit_2(capsys):
    assert main(["rnus"]) == 2
    assert "unknown command 'rnus'; did you mean 'runs'?" in capsys.readouterr().err


def test_runs_without_subcommand_is_exit_2(capsys):
    assert main(["runs"]) == 2
    assert "required" in capsys.readouterr().err


def test_respond_needs_exactly_one_kind_of_answer(capsys):
    assert main(["runs", "respond", RUN]) == 2
    assert main(["runs", "respond", RUN, "--approve", "--deny"]) == 2
    assert "not allowed with" in capsys.readouterr().err


def test_help_of_a_subcommand_is_exit_0(capsys):
    assert main(["runs", "respond", "--help"]) == 0
    assert "--answer" in capsys.readouterr().out


def test_list_status_must_be_a_known_status(capsys):
    assert main(["runs", "list", "--status", "sleeping"]) == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["get"], ["stop"], ["messages"], ["say", "hello"]])
def test_bad_run_id_is_exit_2(command, capsys, monkeypatch):
    monkeypatch.setenv("DUVO_API_KEY", KEY)
    argv = ["runs", command[0], "not-a-uuid", *command[1:]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RUN_ID must be a uuid, not 'not-a-uuid'" in err


def test_no_key_is_exit_2_with_a_hint(capsys):
    assert main(["runs", "get", RUN]) == 2
    err = capsys.readouterr().err
    assert "no API key" in err and "DUVO_API_KEY" in err and str(locations.config_file()) in err


def test_no_key_from_the_named_variable_names_it(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[profiles.work]\napi_key_env = "WORK_KEY"\n')
    assert main(["--config", str(config), "runs", "get", RUN]) == 2
    assert "WORK_KEY" in capsys.readouterr().err


def test_unknown_profile_is_exit_2_and_lists_the_profiles(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[profiles.work]\napi_key = "dv_x"\n[profiles.home]\napi_key = "dv_y"\n')
    config.chmod(0o600)
    assert main(["--config", str(config), "--profile", "staging", "runs", "get", RUN]) == 2
    err = capsys.readouterr().err
    assert "no profile 'staging'" in err and "home, work" in err


def test_broken_config_is_one_line_exit_2(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_text('[profiles.work]\nbase_url = "http://x.test"\nteam_id = \n')
    assert main(["--config", str(config), "runs", "list"]) == 2
    err = capsys.readouterr().err
    assert err == f"duvo-tui: error: {config}:3: invalid TOML: Invalid value (column 11)\n"


def test_missing_config_file_given_by_flag_is_exit_2(tmp_path, capsys):
    assert main(["--config", str(tmp_path / "none.toml"), "runs", "list"]) == 2
    assert "no such config file" in capsys.readouterr().err


def test_read_only_profile_refuses_changes(tmp_path, capsys, monkeypatch):
    config = tmp_path / "c.toml"
    config.write_text('[profiles.prod]\nread_only = true\napi_key_env = "PROD_KEY"\n')
    monkeypatch.setenv("PROD_KEY", KEY)
    for argv in (["runs", "stop", RUN], ["runs", "say", RUN, "hi"], ["sandbox", "create"]):
        assert main(["--config", str(config), *argv]) == 2
        assert "read-only" in capsys.readouterr().err


def test_upload_of_a_missing_file_is_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DUVO_API_KEY", KEY)
    assert main(["sandbox", "upload", "sb-1", str(tmp_path / "nope.csv")]) == 2
    assert "is not a file" in capsys.readouterr().err


@pytest.mark.parametrize("dest", ["workspace/in", "/workspace/../etc"])
def test_upload_to_a_bad_destination_is_exit_2(tmp_path, capsys, monkeypatch, dest):
    monkeypatch.setenv("DUVO_API_KEY", KEY)
    file = tmp_path / "a.txt"
    file.write_text("a")
    assert main(["sandbox", "upload", "sb-1", str(file), "--dest", dest]) == 2
    assert "--dest" in capsys.readouterr().err


def test_unreachable_server_is_exit_1_with_one_line(capsys, monkeypatch):
    from duvo_tui.api.client import DuvoClient

    monkeypatch.setenv("DUVO_API_KEY", KEY)
    # The client still retries; only the waits between attempts are skipped.
    monkeypatch.setattr(DuvoClient, "_backoff", lambda self, attempt: 0.0)
    # Port 9 on loopback (discard) is closed on any sane test machine: connection refused.
    code = main(["--base-url", "http://127.0.0.1:9", "runs", "get", RUN])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("duvo-tui: error: could not reach http://127.0.0.1:9") and err.count("\n") == 1
    assert KEY not in err


# --- the key never printed ---------------------------------------------------------------------------------------


def test_scrub_masks_registered_keys_and_key_shapes():
    register_secret("custom-secret-value-1234")
    text = scrub(f"Bearer {KEY} and custom-secret-value-1234 and dv_anotherkeyshape0000")
    assert KEY not in text and "custom-secret-value-1234" not in text and "dv_anotherkeyshape0000" not in text
    assert "dv_se…00" in text


def test_unexpected_error_with_debug_prints_a_masked_traceback(capsys, monkeypatch):
    monkeypatch.setenv("DUVO_API_KEY", KEY)
    import duvo_tui.cli.runs as runs

    def explode(args):
        raise RuntimeError(f"boom with {KEY}")

    monkeypatch.setattr(runs, "_get", explode)
    assert main(["runs", "get", RUN]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected RuntimeError" in err and "--debug" in err and KEY not in err
    assert main(["runs", "get", RUN, "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "explode" in err and KEY not in err and "dv_se…00" in err


# --- answers to question requests --------------------------------------------------------------------------------


def request() -> HumanRequest:
    return HumanRequest(
        id="r1",
        run_id=RUN,
        title="Choose",
        type="question",
        questions=(
            Question(
                "Which environment?",
                header="Env",
                options=(QuestionOption("staging"), QuestionOption("production")),
            ),
            Question(
                "Which regions?",
                header="Regions",
                options=(QuestionOption("EU"), QuestionOption("US"), QuestionOption("APAC")),
                multi_select=True,
            ),
            Question("Anything else? a=b", header=None),
        ),
    )


def test_answers_by_text_header_or_number():
    answers = build_answers(
        request(), ["Which environment?=staging", "regions=eu, APAC", "3=keep = signs as typed"]
    )
    assert answers == {
        "Which environment?": "staging",
        "Which regions?": "EU, APAC",
        "Anything else? a=b": "keep = signs as typed",
    }


def test_question_text_with_an_equals_sign_matches_the_longest_name():
    answers = build_answers(request(), ["1=production", "2=US", "Anything else? a=b=no"])
    assert answers["Anything else? a=b"] == "no"


@pytest.mark.parametrize(
    ("answers", "fragment"),
    [
        (["Which colour?=blue", "1=staging", "2=EU", "3=x"], "no question 'Which colour?'"),
        (["1=staging,production", "2=EU", "3=x"], "'Which environment?' takes one option, not 2"),
        (["1=staging", "2= , ,", "3=x"], "the answer to 'Which regions?' is empty"),
        (["1=staging", "2=EU"], "no answer for 'Anything else? a=b'"),
        (["1=staging", "2=EU", "3=  "], "is empty"),
        (["staging"], "must look like QUESTION=ANSWER"),
    ],
)
def test_bad_answers_are_usage_errors(answers, fragment):
    with pytest.raises(UsageError) as caught:
        build_answers(request(), answers)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("argv", "env", "fragment"),
    [
        (["--base-url", "api.duvo.ai", "runs", "get", RUN], {}, "--base-url must be an http"),
        (["runs", "get", RUN], {"DUVO_BASE_URL": "ftp://x"}, "DUVO_BASE_URL must be an http"),
        (["runs", "say", RUN, "  "], {}, "TEXT is empty"),
        (["sandbox", "ls", "sb-1", "workspace"], {}, "PATH must be an absolute sandbox path"),
    ],
)
def test_bad_values_are_exit_2(argv, env, fragment, capsys, monkeypatch):
    monkeypatch.setenv("DUVO_API_KEY", KEY)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(argv) == 2
    assert fragment in capsys.readouterr().err


def test_config_path_that_is_a_directory_is_exit_2(tmp_path, capsys):
    assert main(["--config", str(tmp_path), "runs", "list"]) == 2
    assert "cannot read the config file" in capsys.readouterr().err


def test_no_command_runs_the_default_handler_with_the_global_options(monkeypatch):
    import types

    import duvo_tui.cli as cli

    seen = []
    fake = types.SimpleNamespace(register=lambda subparsers: None, default_handler=lambda args: seen.append(args) or 7)
    monkeypatch.setattr(cli, "_available_modules", lambda: [fake])
    assert main(["--profile", "work", "--json"]) == 7
    assert seen[0].profile == "work" and seen[0].json is True and seen[0].base_url is None


def test_no_command_and_no_default_handler_prints_help_and_exits_2(monkeypatch, capsys):
    import duvo_tui.cli as cli

    monkeypatch.setattr(cli, "_available_modules", list)
    assert main([]) == 2
    assert "usage: duvo-tui" in capsys.readouterr().err
