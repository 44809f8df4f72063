"""Finding an Assignment by what a person types: an alias, a uuid, or (part of) its name.

The dashboard's start dialog filters with :func:`matching` as the person types; ``runs start NAME`` and the
dialog's Enter resolve with :func:`resolve`, which refuses a name that fits more than one Assignment (the
candidates are named, so the person can pick).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from duvo_tui.api.account import Agent
from duvo_tui.api.models import Run

__all__ = [
    "AmbiguousAssignment",
    "Choice",
    "UnknownAssignment",
    "choices",
    "matching",
    "resolve",
    "with_last_runs",
]


class UnknownAssignment(LookupError):
    """No Assignment fits what was typed."""


class AmbiguousAssignment(LookupError):
    """More than one Assignment fits what was typed; ``candidates`` are they."""

    def __init__(self, text: str, candidates: Sequence[Choice]) -> None:
        names = ", ".join(f"{c.name or c.agent_id} ({c.agent_id})" for c in candidates[:8])
        more = f" and {len(candidates) - 8} more" if len(candidates) > 8 else ""
        super().__init__(f"{text!r} fits {len(candidates)} Assignments: {names}{more}; give more of the name or its id")
        self.candidates = tuple(candidates)


@dataclass(frozen=True)
class Choice:
    """One Assignment a person can pick: its id, its name, the alias it has in the profile, its last run."""

    agent_id: str
    name: str = ""
    alias: str | None = None
    last_run_at: datetime | None = None

    @property
    def label(self) -> str:
        return self.name or self.alias or self.agent_id[:8]


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) in (32, 36)


def choices(agents: Sequence[Agent], aliases: Mapping[str, str] | None = None) -> list[Choice]:
    """The Assignments (those the API listed, then aliases of ids it did not list), most recently run first."""
    alias_of: dict[str, str] = {}
    for alias, agent_id in (aliases or {}).items():
        alias_of.setdefault(agent_id, alias)
    listed = [Choice(a.id, a.name, alias_of.get(a.id), a.last_run_at) for a in agents]
    known = {c.agent_id for c in listed}
    extra = [Choice(agent_id, "", alias) for agent_id, alias in alias_of.items() if agent_id not in known]
    listed.sort(key=lambda c: c.last_run_at.timestamp() if c.last_run_at else float("-inf"), reverse=True)
    return listed + extra


def with_last_runs(options: Sequence[Choice], runs: Iterable[Run]) -> list[Choice]:
    """``options`` with each last run brought up to date by ``runs`` (those started since the listing was
    read), most recently run first."""
    newest: dict[str, datetime] = {}
    for run in runs:
        when = run.created_at
        if when is not None and (run.agent_id not in newest or when.timestamp() > newest[run.agent_id].timestamp()):
            newest[run.agent_id] = when
    updated = [
        dataclasses.replace(c, last_run_at=newest[c.agent_id])
        if c.agent_id in newest
        and (c.last_run_at is None or newest[c.agent_id].timestamp() > c.last_run_at.timestamp())
        else c
        for c in options
    ]
    updated.sort(key=lambda c: c.last_run_at.timestamp() if c.last_run_at else float("-inf"), reverse=True)
    return updated


def matching(query: str, options: Sequence[Choice]) -> list[Choice]:
    """The options whose name, alias or id fit ``query`` (every word, in any order), best first.

    Exact names and aliases come first, then names starting with the query, then the rest in their order.
    """
    words = _fold(query).split()
    if not words:
        return list(options)
    whole = " ".join(words)

    def rank(choice: Choice) -> int | None:
        name, alias = _fold(choice.name), _fold(choice.alias or "")
        if whole in (name, alias) or choice.agent_id.startswith(whole):
            return 0
        if name.startswith(whole) or alias.startswith(whole):
            return 1
        haystack = f"{name} {alias} {choice.agent_id}"
        return 2 if all(word in haystack for word in words) else None

    ranked = [(r, i, c) for i, c in enumerate(options) if (r := rank(c)) is not None]
    return [c for _r, _i, c in sorted(ranked, key=lambda item: (item[0], item[1]))]


def resolve(text: str, options: Sequence[Choice]) -> str:
    """The agent id ``text`` names: a uuid, an alias, an exact name, or the one Assignment it fits.

    UnknownAssignment when none fits; AmbiguousAssignment (with the candidates) when several do.
    """
    typed = text.strip()
    if not typed:
        raise UnknownAssignment("no Assignment given")
    folded = _fold(typed)
    for choice in options:
        if choice.alias is not None and choice.alias == typed:
            return choice.agent_id
    if _is_uuid(typed):
        return str(uuid.UUID(typed))
    exact = [c for c in options if c.name and _fold(c.name) == folded]
    exact = exact or [c for c in options if c.alias and _fold(c.alias) == folded]
    if len(exact) == 1:
        return exact[0].agent_id
    if len(exact) > 1:
        raise AmbiguousAssignment(typed, exact)
    fitting = matching(typed, options)
    if len(fitting) == 1:
        return fitting[0].agent_id
    if fitting:
        raise AmbiguousAssignment(typed, fitting)
    raise UnknownAssignment(f"no Assignment is called {typed!r} (see: duvo-tui agents list)")
