"""Tracked runs and what is known of them, persisted in the state dir.

The store keeps, per run: the last :class:`Run` seen, where it came from (started here, added by id,
or discovered in the team listing), its pending human request, the messages held in memory and the
server's message total. The tracked set, each run's state and message total survive a restart (one
JSON file written with :func:`locations.atomic_write`); the messages themselves are paged in again
when the run is looked at.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from duvo_tui import locations
from duvo_tui.api.models import HumanRequest, Message, Question, Run
from duvo_tui.api.status import RunStatus

__all__ = ["ORIGINS", "RunStore", "TrackedRun", "state_file_for"]

log = logging.getLogger(__name__)

ORIGINS = ("started", "added", "team")
"""How a run came to be tracked: started through duvo-tui, added by id, discovered in the team listing."""

_FORMAT = 1


@dataclass
class TrackedRun:
    """One tracked run: the last state seen, its pending request and the messages held."""

    run: Run
    origin: str = "added"
    agent_name: str | None = None
    pending: HumanRequest | None = None
    messages: list[Message] = field(default_factory=list)
    message_total: int = 0
    """The server's message count as last seen (may exceed ``len(messages)`` while paging in)."""
    touched: int = 0
    """When the run was last looked at (focused, or started here), as a :class:`RunStore` tick; 0: never."""

    @property
    def id(self) -> str:
        return self.run.id

    @property
    def status(self) -> RunStatus:
        return self.run.status

    @property
    def held(self) -> int:
        """How many messages are held: the offset of the next page to fetch."""
        return len(self.messages)


def state_file_for(state_dir: Path, base_url: str, account: str) -> Path:
    """The state file of one account on one server (``account`` is e.g. the masked key or team id)."""
    digest = hashlib.sha256(f"{base_url}\0{account}".encode()).hexdigest()[:16]
    return state_dir / f"runs-{digest}.json"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _run_json(run: Run) -> dict[str, Any]:
    return {
        "id": run.id,
        "agent_id": run.agent_id,
        "status": run.status,
        "build_id": run.build_id,
        "source": run.source,
        "sandbox_id": run.sandbox_id,
        "created_at": _iso(run.created_at),
        "updated_at": _iso(run.updated_at),
        "started_at": _iso(run.started_at),
        "completed_at": _iso(run.completed_at),
        "human_in_the_loop_enabled": run.human_in_the_loop_enabled,
        "title": run.title,
        "agent_name": run.agent_name,
        "run_number": run.run_number,
        "user_id": run.user_id,
    }


def _question_json(question: Question) -> dict[str, Any]:
    return {
        "question": question.question,
        "header": question.header,
        "options": [{"label": o.label, "description": o.description} for o in question.options],
        "multi_select": question.multi_select,
    }


def _request_json(request: HumanRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "run_id": request.run_id,
        "title": request.title,
        "description": request.description,
        "type": request.type,
        "created_at": _iso(request.created_at),
        "questions": [_question_json(q) for q in request.questions],
    }


class RunStore:
    """The tracked runs, in the order they were added; ``save()`` writes them to ``path`` (if any)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._runs: dict[str, TrackedRun] = {}
        self.dirty = False
        self._tick = 0

    # ------------------------------------------------------------------ reading

    def __contains__(self, run_id: object) -> bool:
        return run_id in self._runs

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, run_id: str) -> TrackedRun | None:
        return self._runs.get(run_id)

    def all(self) -> list[TrackedRun]:
        return list(self._runs.values())

    def ids(self) -> list[str]:
        return list(self._runs)

    def pending_requests(self) -> list[HumanRequest]:
        return [t.pending for t in self._runs.values() if t.pending is not None]

    # ------------------------------------------------------------------ changing

    def add(self, run: Run, origin: str = "added", agent_name: str | None = None) -> tuple[TrackedRun, bool]:
        """Track ``run`` (or refresh it when tracked already). Returns (tracked, newly_added)."""
        tracked = self._runs.get(run.id)
        if tracked is not None:
            tracked.run = run
            if agent_name and not tracked.agent_name:
                tracked.agent_name = agent_name
            self.dirty = True
            return tracked, False
        tracked = TrackedRun(run=run, origin=origin if origin in ORIGINS else "added", agent_name=agent_name)
        self._runs[run.id] = tracked
        self.dirty = True
        return tracked, True

    def remove(self, run_id: str) -> TrackedRun | None:
        tracked = self._runs.pop(run_id, None)
        if tracked is not None:
            self.dirty = True
        return tracked

    def mark_dirty(self) -> None:
        self.dirty = True

    # ------------------------------------------------------------------ the messages held

    def touch(self, run_id: str) -> None:
        """``run_id`` was looked at: its messages are the last to be dropped."""
        tracked = self._runs.get(run_id)
        if tracked is not None:
            self._tick += 1
            tracked.touched = self._tick

    def held_total(self) -> int:
        """How many messages are held across all runs."""
        return sum(t.held for t in self._runs.values())

    def drop_messages(self, bound: int, keep: str | None = None) -> list[str]:
        """Drop the messages of the runs looked at least recently until at most ``bound`` are held.

        ``keep`` (the focused run) is never dropped, so it alone may hold more than ``bound``. A dropped
        run keeps its message total and everything else; its messages are paged in again from the
        start when it is looked at. Returns the ids of the runs dropped, least recently looked at first.
        """
        total = self.held_total()
        if total <= bound:
            return []
        dropped: list[str] = []
        candidates = sorted((t for t in self._runs.values() if t.held and t.id != keep), key=lambda t: t.touched)
        for tracked in candidates:
            if total <= bound:
                break
            total -= tracked.held
            tracked.message_total = max(tracked.message_total, tracked.held)
            tracked.messages = []
            dropped.append(tracked.id)
        return dropped

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "runs": [
                {
                    "run": _run_json(t.run),
                    "origin": t.origin,
                    "agent_name": t.agent_name,
                    "pending": _request_json(t.pending) if t.pending is not None else None,
                    "message_total": max(t.message_total, t.held),
                }
                for t in self._runs.values()
            ],
        }

    def save(self) -> None:
        """Write the tracked set atomically; a failure is logged, never raised (polling goes on)."""
        if self.path is None:
            self.dirty = False
            return
        try:
            locations.atomic_write(self.path, json.dumps(self.to_json(), ensure_ascii=False))
            self.dirty = False
        except OSError:
            log.exception("could not save the tracked runs to %s", self.path)

    def load(self) -> int:
        """Read the file written by :meth:`save`; a missing or damaged file means no runs. Returns the count."""
        if self.path is None or not self.path.exists():
            return 0
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            log.warning("the tracked-runs file %s could not be read; starting empty", self.path)
            return 0
        rows = data.get("runs") if isinstance(data, dict) else None
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict):
                continue
            run = Run.from_json(row.get("run"))
            if run is None or run.id in self._runs:
                continue
            origin = str(row.get("origin")) if row.get("origin") in ORIGINS else "added"
            name = row.get("agent_name") if isinstance(row.get("agent_name"), str) else None
            tracked = TrackedRun(run=run, origin=origin, agent_name=name)
            tracked.pending = HumanRequest.from_json(row.get("pending"), run.id)
            total = row.get("message_total")
            tracked.message_total = total if isinstance(total, int) and total >= 0 else 0
            self._runs[run.id] = tracked
        self.dirty = False
        return len(self._runs)
