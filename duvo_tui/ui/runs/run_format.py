"""How a run is described on screen: status symbol and word, agent name, title, age.

Pure functions over api models; everything from the server goes through ``clean_line``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from duvo_tui.text import clean_line

if TYPE_CHECKING:
    from duvo_tui.api.models import Run

__all__ = ["STATUS_LOOK", "RunRow", "agent_label", "format_age", "short_id", "status_look"]

STATUS_LOOK: dict[str, tuple[str, str, str]] = {
    # status: (symbol, word, component-class suffix); the symbol keeps the list readable without colour.
    "running": ("▶", "running", "active"),
    "starting": ("◌", "starting", "active"),
    "pending": ("◌", "pending", "active"),
    "not_started": ("◌", "queued", "active"),
    "waiting": ("?", "waiting", "waiting"),
    "needs_attention": ("!", "attention", "waiting"),
    "completed": ("✓", "done", "done"),
    "failed": ("✗", "failed", "failed"),
    "interrupted": ("↯", "interrupted", "failed"),
    "stopped": ("■", "stopped", "muted"),
}

# Lower sorts first in the "status" order: what needs a person, then what is moving, then the rest.
STATUS_RANK = {
    "waiting": 0,
    "needs_attention": 0,
    "running": 1,
    "starting": 1,
    "pending": 2,
    "not_started": 2,
    "failed": 3,
    "interrupted": 3,
    "completed": 4,
    "stopped": 5,
}


def status_look(status: str) -> tuple[str, str, str]:
    """(symbol, word, style suffix) for ``status``; unknown statuses are shown as they are."""
    look = STATUS_LOOK.get(status)
    if look is not None:
        return look
    return ("·", clean_line(status, 12) or "unknown", "muted")


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
