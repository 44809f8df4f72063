"""config.toml: reading, writing, validation, profiles and environment overrides."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from duvo_tui import locations
from duvo_tui.config import (
    DEFAULT_BASE_URL,
    Config,
    ConfigError,
    PollSettings,
    Profile,
    WatchFolder,
    load_config,
    resolve_profile,
    save_config,
    set_theme,
)

AGENT = "0b6f4d5e-8c1a-4c55-9d0e-2f3a4b5c6d7e"
KEY = "dv_0123456789abcdefghijklmnopqrstuvw"

SAMPLE = f"""
default_profile = "work"
theme = "nord"

[keys]
"runs.refresh" = "ctrl+r,f5"

[profiles.work]
base_url = "https://api.example.test/"
team_id = "team-42"
api_key_env = "WORK_DUVO_KEY"
label = "Production"
color = "red"
read_only = true

[profiles.work.agents]
invoices = "{AGENT}"

[profiles.work.poll]
interval = 3
min_interval = 1.5
max_interval = 20
idle_sweep_interval = 15
quiet_after = 30

[[profiles.work.watch]]
folder = "~/inbox"
sandbox = "sb-1"
dest = "/workspace/in"

[profiles.local]
base_url = "http://127.0.0.1:8787"
api_key = "{KEY}"
"""


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


def test_sample_is_read_into_typed_fields(tmp_path):
    config = load_config(write(tmp_path / "c.toml", SAMPLE))
    assert config.default_profile == "work" and config.theme == "nord"
    assert config.keys == {"runs.refresh": "ctrl+r,f5"}
    work = config.profiles["work"]
    assert work.base_url == "https://api.example.test"  # trailing slash dropped
    assert (work.team_id, work.api_key_env, work.label, work.color, work.read_only) == (
        "team-42", "WORK_DUVO_KEY", "Production", "red", True,
    )  # fmt: skip
    assert work.agents == {"invoices": AGENT}
    assert work.poll == PollSettings(
        interval=3.0, min_interval=1.5, max_interval=20.0, idle_sweep_interval=15.0, quiet_after=30.0
    )
    assert work.watch == [WatchFolder(folder="~/inbox", sandbox="sb-1", dest="/workspace/in")]
    assert config.profiles["local"].api_key == KEY
    assert config.warnings == []


def test_round_trip_through_tomli_w_keeps_everything(tmp_path):
    original = load_config(write(tmp_path / "c.toml", SAMPLE))
    saved = save_config(original, tmp_path / "copy.toml")
    again = load_config(saved)
    for name in ("default_profile", "theme", "keys", "profiles"):
        assert getattr(again, name) == getattr(original, name), name
    # And the file is plain TOML another program can read.
    assert tomllib.loads(saved.read_text())["profiles"]["work"]["agents"]["invoices"] == AGENT


def test_saved_files_are_private(tmp_path):
    config = Config(profiles={"p": Profile(name="p", api_key=KEY)})
    path = save_config(config, tmp_path / "deep" / "config.toml")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Overwriting a file that was too open makes it private again.
    path.chmod(0o644)
    save_config(config, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_set_theme_writes_the_default_file_and_keeps_profiles():
    path = write(locations.config_file(), SAMPLE)
    set_theme("gruvbox")
    config = load_config()
    assert config.theme == "gruvbox"
    assert config.profiles["work"].agents == {"invoices": AGENT}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_set_theme_creates_a_missing_config():
    set_theme("nord")
    assert load_config().theme == "nord"
    assert stat.S_IMODE(locations.config_file().stat().st_mode) == 0o600


def test_missing_default_file_is_an_empty_config():
    config = load_config()
    assert config.profiles == {} and config.path == locations.config_file()


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('theme = "nord"\n[profiles.a]\nbase_url = \n', 3),
        ('theme = "nord"\n\n[profiles.a\n', 3),
        ('theme = "nord"\ntheme = "dark"\n', 2),
        ('[profiles.a]\nlabel = "unterminated\n', 2),
    ],
)
def test_broken_toml_is_one_line_naming_file_and_line(tmp_path, text, line):
    path = write(tmp_path / "broken.toml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: invalid TOML: ")


def test_non_utf8_file_names_the_line(tmp_path):
    path = tmp_path / "c.toml"
    path.write_bytes(b'theme = "a"\nlabel = "\xff"\n')
    with pytest.raises(ConfigError, match=r"c\.toml:2: .*UTF-8"):
        load_config(path)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('colour = "red"\n', "'colour'"),
        ('[profiles.a]\nbase_ur = "https://x.test"\n', "'profiles.a.base_ur'"),
        ("[profiles.a.poll]\nintervall = 3\n", "'profiles.a.poll.intervall'"),
        ('[[profiles.a.watch]]\nfolder = "x"\nsandbox = "s"\nrecursive = true\n', "'profiles.a.watch[0].recursive'"),
    ],
)
def test_unknown_keys_are_refused_by_name(tmp_path, text, named):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path / "c.toml", text))
    assert named in str(caught.value) and "unknown key" in str(caught.value)
    assert "allowed here" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[profiles.a]\nread_only = 1\n", "profiles.a.read_only must be true or false"),
        ("[profiles.a]\nteam_id = 42\n", "profiles.a.team_id must be a string"),
        ('[profiles.a]\nbase_url = "api.duvo.ai"\n', "must be an http:// or https:// URL"),
        ('[profiles.a.agents]\nx = "not-a-uuid"\n', "profiles.a.agents.x is not a uuid"),
        ("[profiles.a.poll]\ninterval = -1\n", "between 0 and 3600"),
        ("[profiles.a.poll]\nmin_interval = 9\nmax_interval = 3\n", "min_interval is larger"),
        ("[profiles.a.poll]\nsweep_interval = 20\n", "sweep_interval is larger than profiles.a.poll.idle_sweep"),
        ("[profiles.a.poll]\nquiet_after = 0\n", "between 0 and 3600"),
        ('[profiles.a.poll]\nidle_interval = "1m"\n', "idle_interval"),
        ('[[profiles.a.watch]]\nfolder = "x"\n', "needs 'sandbox'"),
        ('[[profiles.a.watch]]\nfolder = "x"\nsandbox = "s"\ndest = "in"\n', "absolute sandbox path"),
        ('default_profile = "b"\n[profiles.a]\n', "default_profile 'b' is not a profile"),
        ("[keys]\nquit = 3\n", "keys.quit must be a string"),
    ],
)
def test_wrong_values_are_refused_clearly(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path / "c.toml", text))
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_world_readable_file_with_a_key_gives_a_warning_without_the_key(tmp_path):
    path = write(tmp_path / "c.toml", SAMPLE, mode=0o644)
    config = load_config(path)
    assert len(config.warnings) == 1 and "chmod 600" in config.warnings[0]
    assert KEY not in config.warnings[0]
    assert load_config(write(tmp_path / "private.toml", SAMPLE, mode=0o600)).warnings == []


# --- resolving a profile ---------------------------------------------------------------------------------------


def sample(tmp_path) -> Config:
    return load_config(write(tmp_path / "c.toml", SAMPLE))


def test_default_profile_and_its_key_from_the_named_variable(tmp_path):
    profile = resolve_profile(sample(tmp_path), env={"WORK_DUVO_KEY": "dv_work_key_123456"})
    assert profile.name == "work"
    assert profile.api_key == "dv_work_key_123456" and profile.key_source == "WORK_DUVO_KEY"
    assert profile.base_url == "https://api.example.test"


def test_named_variable_unset_means_no_key(tmp_path):
    profile = resolve_profile(sample(tmp_path), env={})
    assert profile.api_key is None


def test_stored_key_is_used_when_nothing_overrides_it(tmp_path):
    profile = resolve_profile(sample(tmp_path), "local", env={})
    assert profile.api_key == KEY and profile.key_source == "config"


def test_environment_overrides_key_and_base_url(tmp_path):
    env = {"DUVO_API_KEY": "dv_from_env_123456", "DUVO_BASE_URL": "http://localhost:9000/", "WORK_DUVO_KEY": "x"}
    profile = resolve_profile(sample(tmp_path), "local", env=env)
    assert profile.api_key == "dv_from_env_123456" and profile.key_source == "DUVO_API_KEY"
    assert profile.base_url == "http://localhost:9000"


def test_base_url_flag_overrides_environment_and_profile(tmp_path):
    env = {"DUVO_BASE_URL": "http://localhost:9000"}
    profile = resolve_profile(sample(tmp_path), "local", base_url="http://127.0.0.1:1234", env=env)
    assert profile.base_url == "http://127.0.0.1:1234"


def test_bad_base_url_in_the_environment_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="DUVO_BASE_URL must be an http"):
        resolve_profile(sample(tmp_path), env={"DUVO_BASE_URL": "localhost:9000"})


def test_resolving_does_not_change_the_config(tmp_path):
    config = sample(tmp_path)
    resolve_profile(config, "local", base_url="http://127.0.0.1:1", env={"DUVO_API_KEY": "dv_other_key_0000"})
    assert config.profiles["local"].base_url == "http://127.0.0.1:8787"
    assert config.profiles["local"].api_key == KEY


def test_unknown_profile_lists_the_known_ones(tmp_path):
    with pytest.raises(ConfigError) as caught:
        resolve_profile(sample(tmp_path), "staging", env={})
    assert "'staging'" in str(caught.value) and "local, work" in str(caught.value)


def test_no_config_gives_the_default_profile():
    profile = resolve_profile(Config(), env={"DUVO_API_KEY": "dv_only_env_key_00"})
    assert profile.name == "default" and profile.base_url == DEFAULT_BASE_URL
    assert profile.api_key == "dv_only_env_key_00"


def test_several_profiles_without_a_default_must_be_chosen():
    config = Config(profiles={"a": Profile(name="a"), "b": Profile(name="b")})
    with pytest.raises(ConfigError, match="--profile"):
        resolve_profile(config, env={})
    assert resolve_profile(config, "b", env={}).name == "b"


def test_agent_aliases_and_uuids(tmp_path):
    profile = resolve_profile(sample(tmp_path), env={})
    assert profile.resolve_agent("invoices") == AGENT
    assert profile.resolve_agent(AGENT.upper()) == AGENT
    with pytest.raises(ConfigError, match=r"neither an agent uuid nor an alias.*invoices"):
        profile.resolve_agent("payroll")
    with pytest.raises(ConfigError):
        profile.resolve_agent("0b6f4d5e-8c1a-4c55-9d0e")


def test_profile_repr_never_shows_the_key(tmp_path):
    profile = resolve_profile(sample(tmp_path), "local", env={})
    assert KEY not in repr(profile) and KEY not in str(profile)


def test_set_theme_keeps_comments_and_layout(tmp_path):
    original = '# my settings\ntheme = "nord"  # dark\n\n[profiles.a]  # work\nlabel = "A"\n'
    path = write(tmp_path / "c.toml", original)
    set_theme("gruvbox", path)
    text = path.read_text()
    assert text == original.replace('"nord"', '"gruvbox"')
    assert load_config(path).theme == "gruvbox"


def test_set_theme_adds_the_line_before_the_first_table(tmp_path):
    path = write(tmp_path / "c.toml", "# mine\n[profiles.a]\n")
    set_theme('quote"d', path)
    assert path.read_text().startswith('# mine\ntheme = "quote\\"d"\n\n[profiles.a]')
    assert load_config(path).theme == 'quote"d'


def test_set_theme_refuses_to_overwrite_a_broken_file(tmp_path):
    path = write(tmp_path / "c.toml", "theme = \n")
    with pytest.raises(ConfigError, match=r"c\.toml:1"):
        set_theme("nord", path)
    assert path.read_text() == "theme = \n"


def test_the_polling_intervals_of_a_profile_reach_the_service(tmp_path):
    from duvo_tui.service import ServiceSettings

    config = load_config(write(tmp_path / "c.toml", SAMPLE))
    settings = ServiceSettings.from_profile(config.profiles["work"])
    poll = settings.schedule.poll
    assert (poll.sweep_interval, poll.idle_sweep_interval, poll.quiet_after) == (2.0, 15.0, 30.0)
    assert poll.idle_interval == 60.0  # the default
    assert (poll.min_interval, poll.interval, poll.max_interval) == (1.5, 3.0, 20.0)


def test_the_polling_intervals_keep_their_bounds_on_the_way_to_the_service(tmp_path):
    """A profile's intervals reach the scheduler under their own names; one below its bound is raised to it."""
    from duvo_tui.service import ServiceSettings

    text = "[profiles.a.poll]\nmin_interval = 0.05\ninterval = 0.01\nmax_interval = 5\nidle_interval = 2\n"
    config = load_config(write(tmp_path / "c.toml", text))
    poll = ServiceSettings.from_profile(config.profiles["a"]).schedule.poll
    assert (poll.min_interval, poll.interval, poll.max_interval, poll.idle_interval) == (0.2, 0.2, 5.0, 5.0)
    assert config.profiles["a"].poll.min_interval == 0.05  # the profile itself (and so the file) is left as written


def test_each_polling_interval_is_defined_once():
    from dataclasses import fields

    from duvo_tui.intervals import PollSettings
    from duvo_tui.service.scheduler import SchedulerSettings
    from duvo_tui.service.service import ServiceSettings

    poll = {f.name for f in fields(PollSettings)}
    assert not poll & {f.name for f in fields(SchedulerSettings)}
    assert not poll & {f.name for f in fields(ServiceSettings)}
    assert not {f.name for f in fields(SchedulerSettings)} & {f.name for f in fields(ServiceSettings)}
