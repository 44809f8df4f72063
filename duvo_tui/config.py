"""``config.toml``: profiles, poll settings, watched folders, theme and key bindings.

Read with :mod:`tomllib`, written with ``tomli_w`` (mode 0600). Unknown keys are refused
with a message naming them, and a broken file gives one line naming the file and the line.
``DUVO_API_KEY`` and ``DUVO_BASE_URL`` override what a profile says; ``--base-url`` overrides both.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from duvo_tui import locations
from duvo_tui.intervals import PollSettings

__all__ = [
    "DEFAULT_BASE_URL",
    "Config",
    "ConfigError",
    "PollSettings",
    "Profile",
    "ServeSettings",
    "WatchFolder",
    "is_uuid",
    "load_config",
    "resolve_profile",
    "save_config",
    "set_theme",
]

DEFAULT_BASE_URL = "https://api.duvo.ai"
DEFAULT_PROFILE = "default"
ENV_API_KEY = "DUVO_API_KEY"
ENV_BASE_URL = "DUVO_BASE_URL"


class ConfigError(Exception):
    """The configuration cannot be used. ``str()`` is one line for a person."""


def is_uuid(value: str) -> bool:
    """True when ``value`` is a UUID in its usual written form."""
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return len(value.strip()) in (32, 36)


@dataclass
class WatchFolder:
    """A local folder whose new files are uploaded to a sandbox."""

    folder: str
    """The local folder to watch (``~`` is expanded)."""
    sandbox: str
    """The sandbox id the files go to."""
    dest: str = "/workspace"
    """The sandbox directory the files land in."""


@dataclass
class Profile:
    """One Duvo account (or emulator) to talk to."""

    name: str = DEFAULT_PROFILE
    """The profile's name, the key of its ``[profiles.NAME]`` table."""
    base_url: str = DEFAULT_BASE_URL
    """The API's base URL, without ``/v1``."""
    team_id: str | None = None
    """The team id, for the team-wide run listing (optional)."""
    api_key: str | None = None
    """The API key stored in the file (prefer ``api_key_env``)."""
    api_key_env: str | None = None
    """The name of an environment variable that holds the API key."""
    read_only: bool = False
    """Refuse commands that change anything (start, say, respond, stop, uploads)."""
    label: str | None = None
    """A name to show in the dashboard's header instead of the profile name."""
    color: str | None = None
    """A colour for the header, to tell production from staging at a glance."""
    agents: dict[str, str] = field(default_factory=dict)
    """Agent aliases: name -> agent uuid."""
    poll: PollSettings = field(default_factory=PollSettings)
    """Polling intervals."""
    watch: list[WatchFolder] = field(default_factory=list)
    """Folders uploaded to sandboxes while the dashboard or ``duvo-tui watch`` runs."""
    key_source: str = ""
    """Where the key in use came from (for messages); filled in by :func:`resolve_profile`, never stored."""

    def resolve_agent(self, name_or_uuid: str) -> str:
        """The agent uuid for an alias or a uuid; ConfigError when it is neither."""
        text = name_or_uuid.strip()
        if text in self.agents:
            return self.agents[text]
        if is_uuid(text):
            return str(uuid.UUID(text))
        known = ", ".join(sorted(self.agents)) or "none configured"
        raise ConfigError(
            f"{name_or_uuid!r} is neither an agent uuid nor an alias of profile {self.name!r} (aliases: {known})"
        )

    def __repr__(self) -> str:
        # The key must never reach a log or a traceback through a repr.
        shown = "set" if self.api_key else None
        return f"Profile(name={self.name!r}, base_url={self.base_url!r}, team_id={self.team_id!r}, api_key={shown!r})"


@dataclass
class ServeSettings:
    """``[serve]``: how ``duvo-tui serve`` lets a browser in."""

    password_hash: str | None = None
    """The scrypt hash of the login password (``duvo-tui serve --hash-password`` makes it); unset: a token."""


_PASSWORD_HASH = re.compile(r"^scrypt\$\d{1,2}\$\d{1,2}\$\d{1,2}\$[A-Za-z0-9_-]{16,}\$[A-Za-z0-9_-]{32,}$")


@dataclass
class Config:
    """The whole ``config.toml``."""

    default_profile: str | None = None
    """The profile used when ``--profile`` is not given (else ``default``, or the only one)."""
    theme: str | None = None
    """The dashboard's theme name."""
    profiles: dict[str, Profile] = field(default_factory=dict)
    """Profiles by name."""
    keys: dict[str, str] = field(default_factory=dict)
    """Key bindings: binding id -> comma-separated keys."""
    serve: ServeSettings = field(default_factory=ServeSettings)
    """How ``duvo-tui serve`` logs people in."""
    path: Path | None = None
    """The file this was read from (not stored)."""
    warnings: list[str] = field(default_factory=list)
    """Things the user should hear about that do not stop us (not stored)."""


# --- reading -------------------------------------------------------------------------------------------------

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def _toml_error(path: Path, error: tomllib.TOMLDecodeError, text: str) -> ConfigError:
    message = str(error).splitlines()[0] if str(error) else "invalid TOML"
    position = _TOML_POSITION.search(message)
    if position:
        line, column = position.groups()
        message = _TOML_POSITION.sub("", message)
        return ConfigError(f"{path}:{line}: invalid TOML: {message} (column {column})")
    if _TOML_END.search(message):
        line = text.count("\n") + 1
        return ConfigError(f"{path}:{line}: invalid TOML: {_TOML_END.sub('', message)} (at the end of the file)")
    return ConfigError(f"{path}: invalid TOML: {message}")


def _where(path: Path, dotted: str) -> str:
    return f"{path}: {dotted}" if dotted else str(path)


def _check_keys(path: Path, table: Mapping[str, Any], allowed: set[str], dotted: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        name = f"{dotted}.{unknown[0]}" if dotted else unknown[0]
        raise ConfigError(f"{path}: unknown key {name!r} (allowed here: {', '.join(sorted(allowed))})")


def _expect(path: Path, value: Any, kind: type | tuple[type, ...], dotted: str, what: str) -> Any:
    ok = isinstance(value, kind) and not (isinstance(value, bool) and kind in (int, float, (int, float)))
    if not ok:
        raise ConfigError(f"{_where(path, dotted)} must be {what}, not {type(value).__name__} {value!r}")
    return value


def _table(path: Path, value: Any, dotted: str) -> dict[str, Any]:
    table: dict[str, Any] = _expect(path, value, dict, dotted, "a table")
    return table


def _opt_str(path: Path, table: Mapping[str, Any], key: str, dotted: str) -> str | None:
    if key not in table:
        return None
    text: str = _expect(path, table[key], str, f"{dotted}.{key}", "a string")
    return text


def _field_names(cls: type) -> set[str]:
    return {f.name for f in fields(cls)}


def _parse_poll(path: Path, data: Any, dotted: str) -> PollSettings:
    table = _table(path, data, dotted)
    _check_keys(path, table, _field_names(PollSettings), dotted)
    values: dict[str, float] = {}
    for key, raw in table.items():
        number = float(_expect(path, raw, (int, float), f"{dotted}.{key}", "a number of seconds"))
        if not (0 < number <= 3600):
            raise ConfigError(f"{path}: {dotted}.{key} must be between 0 and 3600 seconds, not {raw!r}")
        values[key] = number
    poll = PollSettings(**values)
    if poll.min_interval > poll.max_interval:
        raise ConfigError(f"{path}: {dotted}.min_interval is larger than {dotted}.max_interval")
    if poll.sweep_interval > poll.idle_sweep_interval:
        raise ConfigError(f"{path}: {dotted}.sweep_interval is larger than {dotted}.idle_sweep_interval")
    return poll


def _parse_watch(path: Path, data: Any, dotted: str) -> list[WatchFolder]:
    items = _expect(path, data, list, dotted, "an array of tables ([[...watch]])")
    folders = []
    for index, item in enumerate(items):
        where = f"{dotted}[{index}]"
        table = _table(path, item, where)
        _check_keys(path, table, _field_names(WatchFolder), where)
        for required in ("folder", "sandbox"):
            if required not in table:
                raise ConfigError(f"{path}: {where} needs {required!r}")
        dest = _opt_str(path, table, "dest", where) or "/workspace"
        if not dest.startswith("/"):
            raise ConfigError(f"{path}: {where}.dest must be an absolute sandbox path like /workspace/in")
        folders.append(
            WatchFolder(
                folder=_expect(path, table["folder"], str, f"{where}.folder", "a string"),
                sandbox=_expect(path, table["sandbox"], str, f"{where}.sandbox", "a string"),
                dest=dest,
            )
        )
    return folders


_PROFILE_KEYS = {
    "base_url", "team_id", "api_key", "api_key_env", "read_only", "label", "color", "agents", "poll", "watch",
}  # fmt: skip


def _parse_profile(path: Path, name: str, data: Any) -> Profile:
    dotted = f"profiles.{name}"
    table = _table(path, data, dotted)
    _check_keys(path, table, _PROFILE_KEYS, dotted)
    profile = Profile(name=name)
    base_url = _opt_str(path, table, "base_url", dotted)
    if base_url is not None:
        profile.base_url = _check_base_url(base_url, f"{path}: {dotted}.base_url")
    profile.team_id = _opt_str(path, table, "team_id", dotted)
    profile.api_key = _opt_str(path, table, "api_key", dotted)
    profile.api_key_env = _opt_str(path, table, "api_key_env", dotted)
    profile.label = _opt_str(path, table, "label", dotted)
    profile.color = _opt_str(path, table, "color", dotted)
    if "read_only" in table:
        profile.read_only = _expect(path, table["read_only"], bool, f"{dotted}.read_only", "true or false")
    if "agents" in table:
        for alias, agent in _table(path, table["agents"], f"{dotted}.agents").items():
            _expect(path, agent, str, f"{dotted}.agents.{alias}", "an agent uuid string")
            if not is_uuid(agent):
                raise ConfigError(f"{path}: {dotted}.agents.{alias} is not a uuid: {agent!r}")
            profile.agents[alias] = str(uuid.UUID(agent))
    if "poll" in table:
        profile.poll = _parse_poll(path, table["poll"], f"{dotted}.poll")
    if "watch" in table:
        profile.watch = _parse_watch(path, table["watch"], f"{dotted}.watch")
    return profile


def _check_base_url(url: str, where: str) -> str:
    url = url.strip()
    if not re.match(r"^https?://[^/\s]+", url):
        raise ConfigError(f"{where} must be an http:// or https:// URL, not {url!r}")
    return url.rstrip("/")


def _parse_serve(path: Path, data: Any) -> ServeSettings:
    table = _table(path, data, "serve")
    _check_keys(path, table, _field_names(ServeSettings), "serve")
    password_hash = _opt_str(path, table, "password_hash", "serve")
    if password_hash is not None and not _PASSWORD_HASH.match(password_hash):
        raise ConfigError(
            f"{path}: serve.password_hash is not a hash made by duvo-tui serve --hash-password "
            "(store the hash it prints, never the password itself)"
        )
    return ServeSettings(password_hash=password_hash)


def parse_config(data: Mapping[str, Any], path: Path) -> Config:
    """A :class:`Config` from the decoded TOML; ConfigError on unknown keys or wrong types."""
    _check_keys(path, data, {"default_profile", "theme", "profiles", "keys", "serve"}, "")
    config = Config(path=path)
    config.default_profile = _opt_str(path, data, "default_profile", "")
    config.theme = _opt_str(path, data, "theme", "")
    for name, table in _table(path, data.get("profiles", {}), "profiles").items():
        config.profiles[name] = _parse_profile(path, name, table)
    for binding, keys in _table(path, data.get("keys", {}), "keys").items():
        config.keys[binding] = _expect(path, keys, str, f"keys.{binding}", 'a string of keys like "ctrl+r,f5"')
    if "serve" in data:
        config.serve = _parse_serve(path, data["serve"])
    if config.default_profile and config.profiles and config.default_profile not in config.profiles:
        known = ", ".join(sorted(config.profiles))
        raise ConfigError(f"{path}: default_profile {config.default_profile!r} is not a profile (profiles: {known})")
    return config


def load_config(path: Path | str | None = None) -> Config:
    """Read ``path`` (default: the platform config file). A missing default file is an empty config."""
    explicit = path is not None
    file = Path(path).expanduser() if path is not None else locations.config_file()
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{file}: no such config file") from None
        return Config(path=file)
    except OSError as error:
        raise ConfigError(f"{file}: cannot read the config file: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ConfigError(f"{file}:{line}: the config file is not valid UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_error(file, error, text) from None
    config = parse_config(data, file)
    _warn_if_readable(file, config)
    return config


def _warn_if_readable(file: Path, config: Config) -> None:
    stores_key = any(p.api_key for p in config.profiles.values())
    if stores_key and locations.open_to_others(file):
        config.warnings.append(f"{file} holds an API key and other users can read it; run: chmod 600 '{file}'")


# --- writing -------------------------------------------------------------------------------------------------


def _profile_to_toml(profile: Profile) -> dict[str, Any]:
    table: dict[str, Any] = {}
    if profile.base_url != DEFAULT_BASE_URL:
        table["base_url"] = profile.base_url
    for key in ("team_id", "api_key", "api_key_env", "label", "color"):
        value = getattr(profile, key)
        if value is not None:
            table[key] = value
    if profile.read_only:
        table["read_only"] = True
    if profile.agents:
        table["agents"] = dict(profile.agents)
    if profile.poll != PollSettings():
        table["poll"] = {f.name: getattr(profile.poll, f.name) for f in fields(PollSettings)}
    if profile.watch:
        table["watch"] = [{"folder": w.folder, "sandbox": w.sandbox, "dest": w.dest} for w in profile.watch]
    return table


def config_to_toml(config: Config) -> dict[str, Any]:
    """The TOML document for ``config`` (defaults left out)."""
    data: dict[str, Any] = {}
    if config.default_profile:
        data["default_profile"] = config.default_profile
    if config.theme:
        data["theme"] = config.theme
    if config.keys:
        data["keys"] = dict(config.keys)
    if config.serve.password_hash:
        data["serve"] = {"password_hash": config.serve.password_hash}
    if config.profiles:
        data["profiles"] = {name: _profile_to_toml(p) for name, p in config.profiles.items()}
    return data


def save_config(config: Config, path: Path | str | None = None) -> Path:
    """Write ``config`` atomically, mode 0600, to ``path`` (default: where it was read from)."""
    import tomli_w

    file = Path(path).expanduser() if path is not None else (config.path or locations.config_file())
    locations.atomic_write(file, tomli_w.dumps(config_to_toml(config)), mode=0o600)
    config.path = file
    return file


_THEME_LINE = re.compile(r"""^theme\s*=\s*(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*')?(?P<rest>.*)$""", re.MULTILINE)
_FIRST_TABLE = re.compile(r"^\s*\[", re.MULTILINE)


def _with_theme(text: str, theme: str) -> str:
    """``text`` with its top-level ``theme`` set, everything else (comments too) as it was."""
    import tomli_w

    line = tomli_w.dumps({"theme": theme}).strip()
    table = _FIRST_TABLE.search(text)
    head_end = table.start() if table else len(text)
    match = _THEME_LINE.search(text, 0, head_end)
    if match:
        rest = match.group("rest")
        # Keep a trailing comment; anything else after the value is replaced with the line.
        tail = rest if rest.strip().startswith("#") else ""
        return text[: match.start()] + line + tail + text[match.end() :]
    head = text[:head_end]
    if head and not head.endswith("\n"):
        head += "\n"
    return head + line + "\n" + ("\n" if table else "") + text[head_end:]


def set_theme(theme: str, path: Path | str | None = None) -> None:
    """Remember the dashboard's theme in the config file (created when missing), keeping its comments."""
    file = Path(path).expanduser() if path is not None else locations.config_file()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{file}: cannot read the config file: {error}") from None
    if text:
        load_config(file)  # a broken or invalid file is reported, not overwritten
    edited = _with_theme(text, theme)
    try:
        ok = tomllib.loads(edited).get("theme") == theme
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:
        # An unusual layout (a multi-line value that starts with "theme ="...): rewrite the file whole instead.
        config = load_config(file) if text else Config(path=file)
        config.theme = theme
        save_config(config, file)
        return
    locations.atomic_write(file, edited, mode=0o600)


# --- choosing a profile --------------------------------------------------------------------------------------


def resolve_profile(
    config: Config,
    name: str | None = None,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Profile:
    """The profile to use, with the environment and ``--base-url`` applied and its key found.

    The key comes from ``DUVO_API_KEY``, else the variable named by ``api_key_env``, else ``api_key``;
    it may stay None (commands that need it say so). Unknown profile names are a ConfigError.
    """
    env = os.environ if env is None else env
    chosen = name or config.default_profile
    if chosen:
        if chosen in config.profiles:
            profile = replace(config.profiles[chosen])
        elif name is None and not config.profiles:
            profile = Profile(name=chosen)
        elif chosen == DEFAULT_PROFILE and not config.profiles:
            profile = Profile()
        else:
            if config.path is not None and not config.path.exists():
                key = chosen if re.fullmatch(r"[A-Za-z0-9_-]+", chosen) else json.dumps(chosen)
                raise ConfigError(
                    f"no profile {chosen!r}: there is no config file yet; create {config.path} "
                    f"with a [profiles.{key}] table"
                )
            known = ", ".join(sorted(config.profiles)) or "none"
            where = f" in {config.path}" if config.path else ""
            raise ConfigError(f"no profile {chosen!r}{where} (profiles: {known})")
    elif DEFAULT_PROFILE in config.profiles:
        profile = replace(config.profiles[DEFAULT_PROFILE])
    elif len(config.profiles) == 1:
        profile = replace(next(iter(config.profiles.values())))
    elif config.profiles:
        known = ", ".join(sorted(config.profiles))
        raise ConfigError(f"several profiles ({known}) and no default_profile: pick one with --profile NAME")
    else:
        profile = Profile()
    profile.agents = dict(profile.agents)
    profile.watch = list(profile.watch)

    if env.get(ENV_BASE_URL):
        profile.base_url = _check_base_url(env[ENV_BASE_URL], ENV_BASE_URL)
    if base_url:
        profile.base_url = _check_base_url(base_url, "--base-url")

    if env.get(ENV_API_KEY):
        profile.api_key, profile.key_source = env[ENV_API_KEY].strip(), ENV_API_KEY
    elif profile.api_key_env:
        value = env.get(profile.api_key_env, "").strip()
        profile.api_key = value or None
        profile.key_source = profile.api_key_env if value else ""
    elif profile.api_key:
        profile.key_source = "config"
    return profile


def missing_key_hint(profile: Profile, config: Config) -> str:
    """One line saying how to give a key to ``profile``."""
    where = config.path or locations.config_file()
    if profile.api_key_env:
        return (
            f"no API key: the variable {profile.api_key_env} (api_key_env of profile {profile.name!r}) is not set; "
            f"set it or {ENV_API_KEY}"
        )
    return f"no API key: set {ENV_API_KEY}, or api_key_env / api_key under [profiles.{profile.name}] in {where}"
