"""Typed events the service emits and the UI (or the CLI) renders.

Events are plain dataclasses. The service hands them to every subscriber
(``DuvoService.subscribe(callback)``); the UI wraps each in a Textual message.
Frequent ones implement ``can_replace`` so that a burst collapses to the last.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from duvo_tui.api.models import HumanRequest, Message, Run

__all__ = [
    "AuthFailed",
    "BudgetChanged",
    "Connected",
    "ConnectionLost",
    "ConnectionRestored",
    "Event",
    "HumanRequestAppeared",
    "HumanRequestResolved",
    "MessagesAppended",
    "Notice",
    "RunAdded",
    "RunChanged",
    "RunError",
    "RunRemoved",
    "UploadFailed",
    "UploadFinished",
    "UploadProgress",
    "UploadQueued",
    "WatchStatus",
]


@dataclass
class Event:
    """Base of every service event."""

    def can_replace(self, other: Event) -> bool:
        """True when this event makes ``other`` (an earlier, undelivered one) redundant."""
        return False


@dataclass
class RunAdded(Event):
    """A run is now tracked (started here, added by id, or discovered in the team listing)."""

    run: Run
    agent_name: str | None = None


@dataclass
class RunChanged(Event):
    """What is known about a tracked run changed (status, timestamps, title...)."""

    run: Run
    previous_status: str | None = None

    def can_replace(self, other: Event) -> bool:
        return isinstance(other, RunChanged) and other.run.id == self.run.id


@dataclass
class RunRemoved(Event):
    """A run is no longer tracked (removed by the user, or the server says it no longer exists)."""

    run_id: str
    reason: str = ""


@dataclass
class MessagesAppended(Event):
    """New messages of a run, in order. ``start`` is the index of the first one in the run's stream."""

    run_id: str
    start: int
    messages: tuple[Message, ...]
    total: int


@dataclass
class HumanRequestAppeared(Event):
    """A run stopped to ask a person."""

    request: HumanRequest


@dataclass
class HumanRequestResolved(Event):
    """A pending request went away: answered here, answered elsewhere, or the run stopped waiting."""

    run_id: str
    request_id: str
    answered_here: bool = False


@dataclass
class BudgetChanged(Event):
    """The rate budget's picture changed. ``processes`` is how many processes share the key's budget.

    ``recent`` is how many requests this process sent in the last ``window`` seconds (a sliding count that
    falls when nothing is sent); ``server_remaining`` / ``server_resets_in`` what the server's headers last
    said of its own window (None when it has not, or that window has ended); ``others`` how many requests
    the server counted in its window that this process did not send (another program on the same key).
    """

    used: int
    limit: int
    remaining: int
    resets_in: float
    paused_for: float = 0.0
    processes: int = 1
    recent: int = 0
    window: float = 60.0
    server_remaining: int | None = None
    server_resets_in: float | None = None
    others: int = 0

    def can_replace(self, other: Event) -> bool:
        return isinstance(other, BudgetChanged)


@dataclass
class ConnectionLost(Event):
    """The server could not be reached; the service keeps retrying by itself."""

    reason: str
    attempt: int = 1
    retry_in: float = 0.0
    """Seconds until the next try (0 when not known)."""

    def can_replace(self, other: Event) -> bool:
        return isinstance(other, ConnectionLost)


@dataclass
class Connected(Event):
    """The server answered the first request: who the key belongs to (all None when it did not say)."""

    name: str | None = None
    email: str | None = None
    team_id: str | None = None


@dataclass
class ConnectionRestored(Event):
    """The server answers again after a ConnectionLost."""


@dataclass
class AuthFailed(Event):
    """The key was refused (401: polling stops until the user fixes the key; 403: no access)."""

    message: str
    status: int = 401


@dataclass
class RunError(Event):
    """A request about one run failed in a way the user should see (not transient noise)."""

    run_id: str
    message: str


@dataclass
class UploadQueued(Event):
    """A file is waiting to be uploaded."""

    upload_id: str
    local_path: str
    sandbox_id: str
    dest_path: str
    size: int


@dataclass
class UploadProgress(Event):
    """Bytes sent so far for one upload, with rate (bytes/s) and ETA (s) when known."""

    upload_id: str
    sent: int
    size: int
    rate: float = 0.0
    eta: float | None = None

    def can_replace(self, other: Event) -> bool:
        return isinstance(other, UploadProgress) and other.upload_id == self.upload_id


@dataclass
class UploadFinished(Event):
    """The sandbox has the file."""

    upload_id: str
    sandbox_id: str
    dest_path: str
    size: int


@dataclass
class UploadFailed(Event):
    """An upload failed. ``final`` means it will not be retried by itself."""

    upload_id: str
    local_path: str
    message: str
    final: bool = False


@dataclass
class WatchStatus(Event):
    """A watched folder's state: which folder into which sandbox, and the counts."""

    folder: str
    sandbox_id: str
    watching: bool
    queued: int = 0
    uploading: int = 0
    done: int = 0
    failed: int = 0
    detail: str = ""

    def can_replace(self, other: Event) -> bool:
        return isinstance(other, WatchStatus) and other.folder == self.folder


@dataclass
class Notice(Event):
    """Something the user should be told that fits no other event. ``level``: info, warning, error."""

    message: str
    level: str = "info"
    extra: dict[str, str] = field(default_factory=dict)
    title: str = ""
    """A short phrase (a few words) a one-line notification shows whole; ``message`` holds the details."""
