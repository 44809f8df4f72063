"""Read-only profiles: the one place that decides whether something may change anything.

A profile with ``read_only = true`` (or any profile under ``--read-only``) may look but not touch. The
dashboard and the command line both reach the API through ``readonly_client.guard_client``, whose client
refuses every mutating call with :class:`ReadOnlyError` before a request is sent; they also ask
:func:`check` first so that a person hears the refusal before typing anything.
"""

from __future__ import annotations

from typing import Any

from duvo_tui.api.errors import DuvoError
from duvo_tui.config import ConfigError

__all__ = [
    "MUTATING_ACTIONS",
    "MUTATING_CLIENT_CALLS",
    "ReadOnlyError",
    "check",
    "is_read_only",
    "refusal",
]

MUTATING_ACTIONS: dict[str, str] = {
    "start": "start runs",
    "stop": "stop runs",
    "post": "post messages",
    "respond": "answer human requests",
    "upload": "upload files",
    "watch": "watch folders for uploads",
}
"""Every action that changes something on the server, and how a refusal names it."""

MUTATING_CLIENT_CALLS: dict[str, str] = {
    "start_run": "start",
    "stop_run": "stop",
    "post_message": "post",
    "respond": "respond",
    "create_sandbox": "upload",
    "create_upload_url": "upload",
    "upload_file": "upload",
    "put_presigned": "upload",
}
"""The client's methods that send a mutating request, and the action each belongs to."""


class ReadOnlyError(DuvoError, ConfigError):
    """A read-only profile was asked to change something. The CLI exits with status 2 on it (a ConfigError);
    forms that report any DuvoError show its message."""

    def __init__(self, profile: str, action: str) -> None:
        super().__init__(refusal(profile, action))
        self.profile = profile
        self.action = action


def refusal(profile: str, action: str) -> str:
    """The one-line refusal for ``action`` (a key of :data:`MUTATING_ACTIONS`) on ``profile``."""
    what = MUTATING_ACTIONS.get(action, action)
    return f"profile {profile!r} is read-only: it may not {what} (drop --read-only or read_only = true to allow it)"


def is_read_only(target: Any) -> bool:
    """True for a read-only profile, a guarded client, or a service over one."""
    if getattr(target, "read_only", False) is True:
        return True
    client = getattr(target, "client", None)
    return client is not None and client is not target and getattr(client, "read_only", False) is True


def check(profile: Any, action: str) -> None:
    """Raise :class:`ReadOnlyError` when ``profile`` is read-only (every action in the table is mutating)."""
    if action not in MUTATING_ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if getattr(profile, "read_only", False):
        raise ReadOnlyError(str(getattr(profile, "name", "") or "default"), action)
