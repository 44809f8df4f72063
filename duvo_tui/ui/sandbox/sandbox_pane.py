"""Pane 3, the sandbox: the tree of the selected run's sandbox (or one chosen by id) and, under it, the
upload and folder-watch status. It lists folders, makes sandboxes and takes the upload events, through the
service its host gives it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical

from duvo_tui.text import clean_line
from duvo_tui.ui.host import Host
from duvo_tui.ui.panes import Pane

if TYPE_CHECKING:
    from textual import events

    from duvo_tui.service import events as ev
    from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree
    from duvo_tui.ui.sandbox.upload_status import UploadStatus

__all__ = ["SandboxPane"]


class SandboxPane(Pane, Vertical):
    """The sandbox tree and, under it, the upload and folder-watch status."""

    BINDINGS = [
        Binding("u", "upload", "Upload", id="sandbox.upload", tooltip="Type the path of a file to upload"),
    ]

    def __init__(self, host: Host, **kwargs) -> None:
        super().__init__(host, **kwargs)
        self.border_title = "3 Sandbox"
        self.run_sandbox: str | None = None
        """The sandbox of the run in view (what ``c`` with nothing typed goes back to)."""
        self.upload_status: UploadStatus | None = None
        """The upload and watch status under the tree, once mounted (:meth:`attach_uploads`)."""

    def compose_content(self) -> ComposeResult:
        from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree

        yield SandboxTree(id="sandbox-tree")
        yield Vertical(id="upload-status")

    @property
    def sandbox_tree(self) -> SandboxTree:
        return self.query_one("#sandbox-tree")  # type: ignore[return-value]  # found by id: the widget's module is loaded with its pane, not here

    def show_run_sandbox(self, sandbox_id: str | None) -> None:
        """The run in view has this sandbox (or none)."""
        self.run_sandbox = sandbox_id
        self.sandbox_tree.show_run_sandbox(sandbox_id)

    def take(self, event: ev.Event) -> None:
        """An upload or folder-watch event, for the status under the tree."""
        if self.upload_status is not None:
            self.upload_status.handle_service_event(event)

    # --- the tree's wishes ------------------------------------------------------------------------------

    def on_sandbox_tree_listing_wanted(self, event: SandboxTree.ListingWanted) -> None:
        self._list_files(event.sandbox_id, event.path)

    @work(group="sandbox", exit_on_error=False)
    async def _list_files(self, sandbox_id: str, path: str) -> None:
        try:
            files = await self.host.service.list_files(sandbox_id, path)
        except Exception as error:
            self.sandbox_tree.fill(sandbox_id, path, None, str(error))
            return
        self.sandbox_tree.fill(sandbox_id, path, files)

    def on_sandbox_tree_choose_wanted(self, event: SandboxTree.ChooseWanted) -> None:
        from duvo_tui.ui.dialogs import PromptScreen

        tree = self.sandbox_tree
        shown = f"showing {clean_line(tree.sandbox_id, 60)}" if tree.chosen and tree.sandbox_id else "sandbox id"
        prompt = PromptScreen("Show a sandbox (nothing typed: the selected run's)", shown, allow_empty=True)
        self.app.push_screen(prompt, self._sandbox_chosen)

    def _sandbox_chosen(self, sandbox_id: str | None) -> None:
        if sandbox_id is None:
            return  # cancelled
        wanted = sandbox_id.strip()
        if wanted and (len(wanted) > 200 or any(ch.isspace() or ch == "/" for ch in wanted)):
            self.host.say(clean_line(wanted, 60), title="Not a sandbox id", severity="error")
            return
        self.sandbox_tree.choose(wanted or None, self.run_sandbox)

    def on_sandbox_tree_create_wanted(self, event: SandboxTree.CreateWanted) -> None:
        if not self.host.refuse_if_read_only("make sandboxes"):
            self._create_sandbox()

    @work(group="sandbox-new", exclusive=True, exit_on_error=False)
    async def _create_sandbox(self) -> None:
        try:
            sandbox = await self.host.service.create_sandbox()
        except Exception as error:
            self.host.say(str(error), title="Could not make a sandbox", severity="error")
            return
        self.sandbox_tree.choose(sandbox.sandbox_id)
        expires = f", expires {sandbox.expires_at:%Y-%m-%d %H:%M} UTC" if sandbox.expires_at else ""
        self.host.say(f"{clean_line(sandbox.sandbox_id, 60)}{expires}: uploads go there now", title="New sandbox made")

    # --- uploads ----------------------------------------------------------------------------------------

    async def attach_uploads(self) -> UploadStatus:
        """Mount the upload status under the tree and have the service watch the profile's folders.

        With a read-only profile (or a service that sends nothing) the status shows only: nothing is watched or
        uploaded, and the upload line is disabled.
        """
        from duvo_tui.ui.sandbox.upload_status import UploadStatus

        service, profile = self.host.service, self.host.profile
        sends = service.uploads_enabled and not self.host.read_only
        widget = UploadStatus(service.upload if sends else None, current_sandbox=lambda: self.sandbox_tree.sandbox_id)
        await self.query_one("#upload-status").mount(widget)
        self.upload_status = widget
        if sends and profile is not None and profile.watch:
            service.watch(profile.watch)  # after mounting, so the first watch status has somewhere to go
        return widget

    def action_upload(self) -> None:
        for box in self.query("#upload-path"):
            if box.focusable:
                box.focus()

    def on_key(self, event: events.Key) -> None:
        # esc leaves the upload line (what was typed stays) for the tree.
        if event.key == "escape" and self.populated and any(b.has_focus for b in self.query("#upload-path")):
            event.stop()
            self.sandbox_tree.focus()
