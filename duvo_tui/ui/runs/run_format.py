"""How a run is described on screen: status symbol and word, agent name, title, age.

Pure functions over api models; everything from the server goes through ``clean_line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from duvo_tui.api.status import RunStatus
from duvo_tui.text import clean_line

if TYPE_CHECKING:
    from duvo_tui.api.models import Run

__all__ = ["STATUS_RANK", "RunRow", "agent_label", "format_age", "short_id", "status_look"]

_LOOK: dict[RunStatus, tuple[str, str]] = {
    # status: (symbol, component-class suffix); the symbol keeps the list readable without colour.
    RunStatus.RUNNING: ("▶", "active"),
    RunStatus.STARTING: ("◌", "active"),
    RunStatus.PENDING: ("◌", "active"),
    RunStatus.NOT_STARTED: ("◌", "active"),
    RunStatus.WAITING: ("◇", "waiting"),  # not "?": that reads as "unknown"
    RunStatus.NEEDS_ATTENTION: ("!", "waiting"),
    RunStatus.COMPLETED: ("✓", "done"),
    RunStatus.FAILED: ("✗", "failed"),
    RunStatus.INTERRUPTED: ("↯", "failed"),
    RunStatus.STOPPED: ("■", "muted"),
}

# Lower sorts first in the "status" order: what needs a person, then what is moving, then the rest.
STATUS_RANK: dict[RunStatus, int] = {
    RunStatus.WAITING: 0,
    RunStatus.NEEDS_ATTENTION: 0,
    RunStatus.RUNNING: 1,
    RunStatus.STARTING: 1,
    RunStatus.PENDING: 2,
    RunStatus.NOT_STARTED: 2,
    RunStatus.FAILED: 3,
    RunStatus.INTERRUPTED: 3,
    RunStatus.COMPLETED: 4,
    RunStatus.STOPPED: 5,
}


def status_look(status: str) -> tuple[str, str, str]:
    """(symbol, name, style suffix) for ``status``; the name is the vocabulary's, an unknown status shows as it is."""
    status = RunStatus(status or RunStatus.UNKNOWN)
    symbol, kind = _LOOK.get(status, ("·", "muted"))
    return symbol, clean_line(status.label, 12) or "unknown", kind


def short_id(run_id: str) -> str:
    """The first 8 characters of an id: enough to tell runs apart on screen."""
    return clean_line(run_id)[:8]


def agent_label(agent_id: str, server_name: str | None, aliases: dict[str, str]) -> str:
    """The alias from config, else the name the server gives, else the agent's short id."""
    alias = aliases.get(agent_id)
    if alias:
        return clean_line(alias)
    if server_name:
        name = clean_line(server_name)
        if name.strip():
            return name
    return short_id(agent_id) if agent_id else "?"


def format_age(then: datetime | None, now: datetime) -> str:
    """A compact age: ``now``, ``42s``, ``5m``, ``3h``, ``2d``, ``7w``; ``-`` when unknown."""
    if then is None:
        return "-"
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = int((now - then).total_seconds())
    if seconds < 5:
        return "now"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 86400 * 14:
        return f"{seconds // 86400}d"
    return f"{seconds // (86400 * 7)}w"


@dataclass
class RunRow:
    """What the run list knows about one run (already cleaned for display)."""

    run: Run
    agent: str = ""
    first_message: str = ""
    pending_request: bool = False
    search_text: str = field(default="", repr=False)

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def title(self) -> str:
        """The run's title, else its first message, else its short id."""
        if self.run.title and clean_line(self.run.title).strip():
            return clean_line(self.run.title, 200)
        if self.first_message:
            return self.first_message
        return f"run {short_id(self.run.id)}"

    def refresh_search_text(self) -> None:
        """Recompute the lower-case text the filter matches against."""
        word = status_look(self.run.status)[1]
        self.search_text = " ".join((self.agent, self.title, self.run.status, word, self.run.id)).lower()
