"""What every command needs from the global options: the config, the profile, a client, and usage errors."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from duvo_tui.cli.secrets import register_secret, scrub
from duvo_tui.config import Config, ConfigError, Profile, is_uuid, load_config, missing_key_hint, resolve_profile

if TYPE_CHECKING:
    from duvo_tui.api.client import DuvoClient

__all__ = [
    "UsageError",
    "load_profile",
    "open_client",
    "parse_uuid",
    "require_writable",
    "run_async",
    "warn_if_state_exposed",
]

T = TypeVar("T")


class UsageError(Exception):
    """The command line asks for something that cannot be done (exit status 2). ``str()`` is one line."""


def load_config_from_args(args: argparse.Namespace) -> Config:
    """The config named by ``--config`` (or the default one); its warnings go to stderr."""
    config = load_config(getattr(args, "config", None))
    for warning in config.warnings:
        print(f"duvo-tui: warning: {scrub(warning)}", file=sys.stderr)
    return config


def warn_if_state_exposed(root: Path | None = None) -> None:
    """One stderr line when the state dir (default: the platform's) or anything in it is open to other users."""
    from duvo_tui.locations import state_exposure

    warning = state_exposure(root)
    if warning:
        print(f"duvo-tui: warning: {scrub(warning)}", file=sys.stderr)


def load_profile(args: argparse.Namespace, *, need_key: bool = True) -> Profile:
    """The profile the global options select, with its key; ConfigError when a needed key is missing."""
    config = load_config_from_args(args)
    profile = resolve_profile(config, getattr(args, "profile", None), getattr(args, "base_url", None))
    register_secret(profile.api_key)
    if getattr(args, "read_only", False):
        profile.read_only = True
    if need_key and not profile.api_key:
        raise ConfigError(missing_key_hint(profile, config))
    return profile


def require_writable(profile: Profile, what: str) -> None:
    """ReadOnlyError (exit status 2) when the profile is read-only; ``what`` is an action of
    :data:`duvo_tui.readonly.MUTATING_ACTIONS` (start, stop, post, respond, upload, watch) or a phrase."""
    from duvo_tui.readonly import MUTATING_ACTIONS, ReadOnlyError, check

    if what in MUTATING_ACTIONS:
        check(profile, what)
    elif profile.read_only:
        raise ReadOnlyError(profile.name, what)


def parse_uuid(value: str, what: str) -> str:
    """``value`` as a canonical uuid string; UsageError naming ``what`` when it is not one."""
    if not is_uuid(value):
        raise UsageError(f"{what} must be a uuid, not {value!r}")
    return str(uuid.UUID(value.strip()))


def open_client(profile: Profile) -> DuvoClient:
    """A client for ``profile`` (use it with ``async with``)."""
    from duvo_tui.api.client import DuvoClient

    if not profile.api_key:
        raise ConfigError(f"no API key for profile {profile.name!r}")
    from duvo_tui.api.shared_budget import shared_budget_for
    from duvo_tui.readonly_client import guard_client

    budget = shared_budget_for(profile.base_url, profile.api_key)
    # A read-only profile gets a proxy that refuses the mutating calls: typed as the client it stands for.
    client: DuvoClient = guard_client(DuvoClient(profile.base_url, profile.api_key, budget=budget), profile)
    return client


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion on a fresh event loop."""
    return asyncio.run(coroutine)
