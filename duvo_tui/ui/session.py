"""Session restore: the dashboard reopens the last profile, and for each profile the selected run, the run
filter and the pane that had focus.

Kept in ``session.json`` in the state dir. What is stored is the user's own choices (a run id, a filter,
a pane number), never a key. A missing, unreadable or foreign file is an empty session; failing to save
is logged, never raised: restoring is a comfort, not something to stop for.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from duvo_tui import locations

__all__ = ["MAX_FILTER", "ProfileSession", "last_profile", "load_sessions", "save", "session_file"]

log = logging.getLogger(__name__)

MAX_FILTER = 200


@dataclass
class ProfileSession:
    """Where one profile's dashboard was left."""

    run_id: str | None = None
    """The selected run."""
    run_filter: str = ""
    """The text the run list was filtered by."""
    pane: int = 0
    """The pane that had focus (0 runs, 1 messages, 2 sandbox, 3 human request)."""


def session_file() -> Path:
    """Where the session is kept."""
    return locations.state_dir() / "session.json"


def load_sessions(path: Path | None = None) -> tuple[str | None, dict[str, ProfileSession]]:
    """(last profile, sessions by profile name) from the file; empty when it cannot be used."""
    path = path or session_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    if not isinstance(data, dict):
        return None, {}
    last = data.get("last_profile")
    sessions: dict[str, ProfileSession] = {}
    profiles = data.get("profiles")
    for name, raw in (profiles.items() if isinstance(profiles, dict) else []):
        if not isinstance(raw, dict):
            continue
        run_id = raw.get("run_id")
        run_filter = raw.get("run_filter")
        pane = raw.get("pane")
        sessions[str(name)] = ProfileSession(
            run_id=run_id if isinstance(run_id, str) and len(run_id) <= 100 else None,
            run_filter=run_filter[:MAX_FILTER] if isinstance(run_filter, str) else "",
            pane=pane if isinstance(pane, int) and 0 <= pane <= 3 else 0,
        )
    return (last if isinstance(last, str) else None), sessions


def last_profile(config: Any, path: Path | None = None) -> str | None:
    """The profile the dashboard last showed, when the config still has it."""
    name, _ = load_sessions(path)
    profiles = getattr(config, "profiles", {}) or {}
    return name if name and name in profiles else None


def save(profile: str, where: ProfileSession, path: Path | None = None) -> None:
    """Remember ``where`` the dashboard was left under ``profile``, and that this profile was the last one."""
    path = path or session_file()
    try:
        _, sessions = load_sessions(path)
        sessions[profile] = where
        body = {"last_profile": profile, "profiles": {n: asdict(s) for n, s in sessions.items()}}
        locations.atomic_write(path, json.dumps(body, indent=1), mode=0o600)
    except Exception:  # the app is closing: say it in the log, do not stop the exit
        log.warning("could not save the session", exc_info=True)
