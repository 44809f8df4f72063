"""The commands of the dashboard's service for a stand-in that only shows events (benchmarks, UI tests).

Such a stand-in implements :class:`~duvo_tui.service.facade.DashboardService` by inheriting these: each command
says plainly that nothing is sent, which the dashboard reports like any failed command.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from duvo_tui.service.responder import Outcome

if TYPE_CHECKING:
    from duvo_tui.api.account import Agent
    from duvo_tui.api.models import Run, SandboxFile
    from duvo_tui.config import WatchFolder
    from duvo_tui.service.drafts import DraftStore
    from duvo_tui.service.responder import Submission

__all__ = ["WatchOnly"]


class WatchOnly:
    """Refuses every command: a stand-in that shows events but sends nothing."""

    drafts: DraftStore | None = None

    def _refuse(self, what: str) -> NoReturn:
        raise RuntimeError(f"{type(self).__name__} only shows events: it does not {what}")

    async def start_run(self, agent_id: str, message: str | None = None, sandbox_id: str | None = None) -> NoReturn:
        self._refuse("start runs")

    async def track(self, run_id: str) -> NoReturn:
        self._refuse("track runs")

    def remember(self, run: Run, origin: str = "started") -> NoReturn:
        self._refuse("track runs")

    def forget(self, run_id: str) -> NoReturn:
        self._refuse("forget runs")

    uploads_enabled = False
    """Nothing is sent: the dashboard offers no upload."""

    def upload(self, path: Path, sandbox_id: str, dest_dir: str = "/workspace") -> NoReturn:
        self._refuse("upload files")

    def watch(self, folders: Sequence[WatchFolder]) -> NoReturn:
        self._refuse("watch folders")

    async def stop_run(self, run_id: str) -> NoReturn:
        self._refuse("stop runs")

    async def post_message(self, run_id: str, text: str) -> NoReturn:
        self._refuse("post messages")

    async def respond(self, submission: Submission) -> Outcome:
        return Outcome("refused", f"{type(self).__name__} only shows events: nothing was sent.")

    async def create_sandbox(self) -> NoReturn:
        self._refuse("make sandboxes")

    async def list_files(self, sandbox_id: str, path: str = "/workspace") -> list[SandboxFile]:
        return []

    def refresh(self, run_id: str) -> None:
        pass  # nothing is polled: there is nothing to look at sooner

    def person_active(self) -> None:
        pass

    async def assignments(self) -> list[Agent]:
        return []
