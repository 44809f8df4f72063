"""What the dashboard asks of the service: the one seam between the UI and everything below it.

:class:`~duvo_tui.service.service.DuvoService` implements :class:`DashboardService`; so do the stand-ins the
tests and benchmarks drive the dashboard with (a feed of events, a synthetic stream), checked by
``tests/test_facade.py``. The UI depends on this Protocol, never on how the service is built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from duvo_tui.api.account import Agent
    from duvo_tui.api.models import HumanRequest, Message, Run, Sandbox, SandboxFile
    from duvo_tui.config import WatchFolder
    from duvo_tui.service.drafts import DraftStore
    from duvo_tui.service.events import Event
    from duvo_tui.service.responder import Outcome, Submission
    from duvo_tui.service.store import TrackedRun

__all__ = ["DashboardService"]


@runtime_checkable
class DashboardService(Protocol):
    """The service as the dashboard uses it: events out, commands in, one outcome per answer."""

    drafts: DraftStore | None
    """Answers in progress, kept until the server confirmed them (None: nothing persists)."""

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns a function that unsubscribes."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def runs(self) -> Sequence[TrackedRun]: ...

    def run(self, run_id: str) -> TrackedRun | None: ...

    def messages(self, run_id: str) -> Sequence[Message]: ...

    def pending_requests(self) -> Sequence[HumanRequest]: ...

    def focus(self, run_id: str | None) -> None:
        """The run a person looks at: polled first."""
        ...

    def refresh(self, run_id: str) -> None:
        """A person asked to look at ``run_id`` now."""
        ...

    def person_active(self) -> None:
        """A person is at the keys: look for changes at the fast pace for a while."""
        ...

    async def assignments(self) -> Sequence[Agent]:
        """The Assignments the key can start runs of (fetched once, then kept)."""
        ...

    async def start_run(self, agent_id: str, message: str | None = None, sandbox_id: str | None = None) -> Run: ...

    async def track(self, run_id: str) -> Run:
        """Fetch ``run_id`` and track it."""
        ...

    def remember(self, run: Run, origin: str = "started") -> None:
        """Track ``run`` as it is known, nothing fetched; the state file is written now."""
        ...

    def forget(self, run_id: str) -> None:
        """Stop tracking ``run_id`` (it is forgotten, not stopped)."""
        ...

    async def stop_run(self, run_id: str) -> object: ...

    async def post_message(self, run_id: str, text: str) -> Message: ...

    async def respond(self, submission: Submission) -> Outcome:
        """Answer a human request: drafts, the Idempotency-Key and retries inside; never raises for a failure."""
        ...

    async def create_sandbox(self) -> Sandbox: ...

    async def list_files(self, sandbox_id: str, path: str = "/workspace") -> list[SandboxFile]: ...

    @property
    def uploads_enabled(self) -> bool:
        """Files can be sent (False: the key is read-only, or the service only shows events)."""
        ...

    def upload(self, path: Path, sandbox_id: str, dest_dir: str = "/workspace") -> None:
        """Upload a file a person chose; what becomes of it comes as ``Upload*`` events."""
        ...

    def watch(self, folders: Sequence[WatchFolder]) -> None:
        """Upload what lands in ``folders`` until the service closes (``WatchStatus`` and ``Upload*`` events)."""
        ...
