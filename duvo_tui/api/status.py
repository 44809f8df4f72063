"""The one vocabulary of run statuses: what each status is called and what it means.

The service, the dashboard and the command line all read a run's status through :class:`RunStatus`. A status the
API does not document is kept as it came (``RunStatus("paused")`` is a member whose value is ``"paused"``), shown as
it is, and treated as unknown: never dropped, never a crash.

What a status means is said once, in :data:`MEANINGS`:

- **active**: queued or working; the run changes on its own.
- **a person's turn**: the run waits for someone (``waiting``: a human request the dashboard can answer;
  ``needs_attention``: something to do in the Duvo web app).
- **finished**: the run does nothing until someone posts a message to it.
- **resumable**: posting a message to the run sets it going again (``waiting``, ``completed``, ``interrupted``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["MEANINGS", "Meaning", "Phase", "RunStatus"]


class Phase(StrEnum):
    """Where a run stands, as far as a person watching it cares."""

    ACTIVE = "active"
    PERSONS_TURN = "persons_turn"
    FINISHED = "finished"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Meaning:
    """What one status means: its phase, whether a message resumes it, and the name a person reads."""

    phase: Phase
    label: str
    """The name shown to a person: the Duvo web app's where it has one."""
    resumable: bool = False


class RunStatus(StrEnum):
    """A run's status. The API's documented statuses are members; any other string becomes a member of its own."""

    NOT_STARTED = "not_started"
    PENDING = "pending"
    STARTING = "starting"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    STOPPED = "stopped"
    NEEDS_ATTENTION = "needs_attention"
    UNKNOWN = "unknown"
    """The server sent no status at all."""

    @classmethod
    def _missing_(cls, value: object) -> RunStatus | None:
        # An undocumented status is kept as it came: a member of its own, equal to its string.
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNDOCUMENTED"
        member._value_ = value
        return member

    @classmethod
    def documented(cls) -> tuple[RunStatus, ...]:
        """The statuses the API documents (what ``--status`` accepts), in the API's order."""
        return tuple(status for status in cls if status is not cls.UNKNOWN)

    @property
    def meaning(self) -> Meaning:
        """What this status means; an undocumented one is unknown and shown by its own name."""
        return MEANINGS.get(self) or Meaning(Phase.UNKNOWN, self.value or "unknown")

    @property
    def is_known(self) -> bool:
        """True for a status the API documents."""
        return self in MEANINGS and self is not RunStatus.UNKNOWN

    @property
    def is_active(self) -> bool:
        """Queued or working: the run changes on its own."""
        return self.meaning.phase is Phase.ACTIVE

    @property
    def is_persons_turn(self) -> bool:
        """The run waits for a person."""
        return self.meaning.phase is Phase.PERSONS_TURN

    @property
    def is_finished(self) -> bool:
        """The run does nothing until someone posts a message to it."""
        return self.meaning.phase is Phase.FINISHED

    @property
    def is_resumable(self) -> bool:
        """Posting a message to the run sets it going again."""
        return self.meaning.resumable

    @property
    def label(self) -> str:
        """The name a person reads (the web app's: Running, Needs input, Completed, Failed, Stopped...)."""
        return self.meaning.label


MEANINGS: dict[RunStatus, Meaning] = {
    RunStatus.NOT_STARTED: Meaning(Phase.ACTIVE, "Queued"),
    RunStatus.PENDING: Meaning(Phase.ACTIVE, "Pending"),
    RunStatus.STARTING: Meaning(Phase.ACTIVE, "Starting"),
    RunStatus.RUNNING: Meaning(Phase.ACTIVE, "Running"),
    RunStatus.WAITING: Meaning(Phase.PERSONS_TURN, "Waiting", resumable=True),
    RunStatus.NEEDS_ATTENTION: Meaning(Phase.PERSONS_TURN, "Needs input"),
    RunStatus.COMPLETED: Meaning(Phase.FINISHED, "Completed", resumable=True),
    RunStatus.FAILED: Meaning(Phase.FINISHED, "Failed"),
    RunStatus.INTERRUPTED: Meaning(Phase.FINISHED, "Interrupted", resumable=True),
    RunStatus.STOPPED: Meaning(Phase.FINISHED, "Stopped"),
    RunStatus.UNKNOWN: Meaning(Phase.UNKNOWN, "unknown"),
}
"""What each status means: the one place that says it."""
