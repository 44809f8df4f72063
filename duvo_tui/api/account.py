"""Who the key is and what it can run: the Assignments (``/v1/agents``) and the caller (``/v1/profile``).

Parsers are total like those in :mod:`duvo_tui.api.models`: unknown fields are ignored, missing
optional ones become ``None``, and nothing here raises on server data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from duvo_tui.api.parse import as_dict, as_int, as_list, as_str, opt_str, parse_timestamp

__all__ = ["Agent", "AgentPage", "Profile"]


def _person(value: Any) -> str | None:
    """``created_by`` / ``updated_by``: the name, else the email; None when absent."""
    body = as_dict(value)
    return opt_str(body.get("name")) or opt_str(body.get("email")) or None


@dataclass(frozen=True)
class Agent:
    """An Assignment (the API calls it an agent): what a run is started from."""

    id: str
    name: str = ""
    last_run_at: datetime | None = None
    pinned_at: datetime | None = None
    folder_id: str | None = None
    team_id: str | None = None
    automation_id: str | None = None
    build_id: str | None = None
    build_name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str | None = None

    @property
    def label(self) -> str:
        """The name, or the short id when the Assignment has no name."""
        return self.name or self.id[:8]

    @classmethod
    def from_json(cls, data: Any, *, pinned_at: Any = None) -> Agent | None:
        """An agent from a JSON object; None when it is not an object or has no id."""
        if not isinstance(data, dict):
            return None
        agent_id = as_str(data.get("id")).strip()
        if not agent_id:
            return None
        build = as_dict(data.get("latest_build"))
        return cls(
            id=agent_id,
            name=as_str(data.get("name")).strip(),
            last_run_at=parse_timestamp(data.get("last_run_at")),
            pinned_at=parse_timestamp(data.get("pinned_at") if pinned_at is None else pinned_at),
            folder_id=opt_str(data.get("folder_id")),
            team_id=opt_str(data.get("team_id")),
            automation_id=opt_str(data.get("automation_id")),
            build_id=opt_str(build.get("id")),
            build_name=opt_str(build.get("revision_name")) or opt_str(build.get("name")),
            created_at=parse_timestamp(data.get("created_at")),
            updated_at=parse_timestamp(data.get("updated_at")),
            created_by=_person(data.get("created_by")),
        )

    @classmethod
    def from_detail(cls, data: Any) -> Agent | None:
        """``GET /v1/agents/{id}``: ``{agent, user_context: {pinned_at}}`` (or the agent unwrapped)."""
        body = as_dict(data)
        inner = body.get("agent")
        pinned = as_dict(body.get("user_context")).get("pinned_at")
        return cls.from_json(inner if isinstance(inner, dict) else body, pinned_at=pinned)


@dataclass(frozen=True)
class AgentPage:
    """One page of ``GET /v1/agents``."""

    agents: tuple[Agent, ...]
    total: int
    limit: int
    offset: int

    @classmethod
    def from_json(cls, data: Any) -> AgentPage:
        body = as_dict(data)
        agents = tuple(a for a in (Agent.from_json(x) for x in as_list(body.get("agents"))) if a)
        offset = max(0, as_int(body.get("offset")))
        total = max(as_int(body.get("total"), offset + len(agents)), offset + len(agents))
        return cls(agents=agents, total=total, limit=max(0, as_int(body.get("limit"), len(agents))), offset=offset)


@dataclass(frozen=True)
class Profile:
    """``GET /v1/profile``: the person the API key belongs to, and their team."""

    id: str
    name: str | None = None
    email: str | None = None
    team_id: str | None = None

    @property
    def label(self) -> str:
        """How to name the person: their name, else their email, else their short id."""
        return self.name or self.email or self.id[:8] or "?"

    @classmethod
    def from_json(cls, data: Any) -> Profile | None:
        """``{profile: {id, name, email, teamId}}`` (or the profile unwrapped); None without an id or email."""
        body = as_dict(data)
        inner = body.get("profile")
        profile = inner if isinstance(inner, dict) else body
        user_id = as_str(profile.get("id")).strip()
        email = (opt_str(profile.get("email")) or "").strip() or None
        if not user_id and not email:
            return None
        team = profile.get("teamId", profile.get("team_id"))
        return cls(
            id=user_id,
            name=(opt_str(profile.get("name")) or "").strip() or None,
            email=email,
            team_id=(opt_str(team) or "").strip() or None,
        )
