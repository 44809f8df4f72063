"""What the dashboard's keys and inputs do to runs: start, stop, track, post, save a transcript, list a
sandbox, answer, copy. Each command goes through the service in a worker; a failure becomes a notification.
Dialogs and helpers are imported when first used, so none of them weighs on the dashboard's start.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work

from duvo_tui.text import clean_line
from duvo_tui.ui.runs.run_format import short_id

if TYPE_CHECKING:
    from duvo_tui.ui.dialogs import StartRunRequest
    from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
    from duvo_tui.ui.panes import MessagesPane
    from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree

__all__ = ["RunCommands"]


class RunCommands:
    """The app's commands (mixed into :class:`~duvo_tui.ui.app.DuvoApp`)."""

    def _refuse_if_read_only(self, what: str) -> bool:
        if self.read_only:
            from duvo_tui.readonly import refusal

            self.say(refusal(str(getattr(self.profile, "name", "") or "default"), what), severity="warning")
            return True
        return False

    def action_help(self) -> None:
        from duvo_tui.ui.chrome.commands import help_sections
        from duvo_tui.ui.chrome.help_screen import HelpScreen

        self.push_screen(HelpScreen(help_sections(self)))

    def action_start_run(self, initial: StartRunRequest | None = None, error: str = "") -> None:
        if self._refuse_if_read_only("start runs"):
            return
        aliases = sorted((getattr(self.profile, "agents", None) or {}).keys())
        from duvo_tui.ui.dialogs import StartRunScreen

        self.push_screen(StartRunScreen(aliases, error, initial), self._start_run_answered)

    def _start_run_answered(self, request: StartRunRequest | None) -> None:
        if request is None:
            return
        self._resolve_and_start(request)

    @work(group="start", exit_on_error=False)
    async def _resolve_and_start(self, request: StartRunRequest) -> None:
        """An alias or uuid as is; a name through the Assignments the service knows (one fits, or say which)."""
        from duvo_tui.service.assignments import AmbiguousAssignment, UnknownAssignment, choices, resolve

        aliases = getattr(self.profile, "agents", None) or {}
        try:
            options = choices(await self.service.assignments(), aliases)
            agent = resolve(request.agent, options)
        except (AmbiguousAssignment, UnknownAssignment) as error:
            self.action_start_run(request, clean_line(str(error), 300))
            return
        except Exception as error:
            self.action_start_run(request, f"Could not list the Assignments: {clean_line(str(error), 300)}")
            return
        self._start_run(agent, request)

    @work(group="start", exit_on_error=False)
    async def _start_run(self, agent_id: str, request: StartRunRequest) -> None:
        try:
            run = await self.service.start_run(agent_id, message=request.message, sandbox_id=request.sandbox)
        except Exception as error:
            self.action_start_run(request, f"Could not start: {clean_line(str(error), 300)}")
            return
        self.say(f"Started run {short_id(run.id)}")
        row = self._runs().row(run.id) or self._row_for(run)
        if request.message and not row.first_message:
            row.first_message = clean_line(request.message, 200)
        self._runs().upsert(row)
        self._runs().select(run.id)

    def action_stop_run(self) -> None:
        run_id = self._selected
        if run_id is None:
            self.say("Select a run first", severity="warning")
            return
        if self._refuse_if_read_only("stop runs"):
            return
        row = self._runs().row(run_id)
        if row is not None and row.run.status.is_finished:
            label = row.run.status.label.lower()
            self.say(f"Run {short_id(run_id)} has finished ({label}): there is nothing to stop")
            return
        question = Text.assemble("Stop run ", (short_id(run_id), "bold"), " (", row.agent if row else "?", ")?")
        if row is not None:
            question.append("\n" + row.title)
        from duvo_tui.ui.dialogs import ConfirmScreen

        self.push_screen(ConfirmScreen(question, yes="Stop"), lambda yes: self._stop_run(run_id) if yes else None)

    @work(group="stop", exit_on_error=False)
    async def _stop_run(self, run_id: str) -> None:
        try:
            await self.service.stop_run(run_id)
        except Exception as error:
            self.say(f"Could not stop {short_id(run_id)}: {error}", severity="error")
            return
        self.say(f"Asked run {short_id(run_id)} to stop")

    def action_refresh_run(self) -> None:
        """Look at the selected run now (its status and new messages), whatever the polling plan says."""
        if self._selected is None:
            self.say("Select a run first", severity="warning")
            return
        self.service.refresh(self._selected)

    def action_add_run(self) -> None:
        from duvo_tui.ui.dialogs import PromptScreen

        self.push_screen(PromptScreen("Track a run by id", "run uuid"), self._add_run_answered)

    def _add_run_answered(self, run_id: str | None) -> None:
        if run_id:
            self._track(run_id)

    @work(group="track", exit_on_error=False)
    async def _track(self, run_id: str) -> None:
        try:
            run = await self.service.track(run_id)
        except Exception as error:
            self.say(f"Could not add run {clean_line(run_id, 40)}: {error}", severity="error")
            return
        self._runs().upsert(self._row_for(run))
        self._runs().select(run.id)
        self._update_counts()

    def action_next_waiting(self) -> None:
        waiting = [run_id for run_id in self._runs().visible_ids if run_id in self._requests]
        waiting += [run_id for run_id in self._requests if run_id not in waiting]
        if not waiting:
            self.say("No run is waiting for a person")
            return
        after = waiting.index(self._selected) + 1 if self._selected in waiting else 0
        target = waiting[after % len(waiting)]
        runs = self._runs()
        if not runs.select(target):
            runs.filter_text = ""
            runs.select(target)
        self.select_run(target)
        self.screen_dashboard.action_show_pane(3)

    def on_messages_pane_post_requested(self, event: MessagesPane.PostRequested) -> None:
        if self._refuse_if_read_only("post messages"):
            self._pane("#messages-pane").restore_draft(event.text)
            return
        self._post(event.run_id, event.text)

    @work(group="post", exit_on_error=False)
    async def _post(self, run_id: str, text: str) -> None:
        try:
            await self.service.post_message(run_id, text)
        except Exception as error:
            self._pane("#messages-pane").restore_draft(text)
            self.say(f"Not sent: {error}", severity="error")
            return
        self.say("Message sent", timeout=2)

    def on_messages_pane_save_requested(self, event: MessagesPane.SaveRequested) -> None:
        default = str(Path.cwd() / f"duvo-run-{short_id(event.run_id)}.txt")
        from duvo_tui.ui.dialogs import PromptScreen

        self.push_screen(PromptScreen("Save the transcript to", "file path", default), self._save_transcript)

    def _save_transcript(self, path: str | None) -> None:
        if not path:
            return
        from duvo_tui.locations import atomic_write

        stream = self._stream()
        target = Path(path).expanduser()
        try:
            atomic_write(target, stream.transcript(), mode=0o600)  # a transcript may hold secrets
        except OSError as error:
            self.say(f"Could not save: {error}", severity="error")
            return
        self.say(f"Saved {stream.message_count} messages to {target}")

    def on_sandbox_tree_listing_wanted(self, event: SandboxTree.ListingWanted) -> None:
        self._list_files(event.sandbox_id, event.path)

    @work(group="sandbox", exit_on_error=False)
    async def _list_files(self, sandbox_id: str, path: str) -> None:
        tree = self._pane("#sandbox-tree")
        try:
            files = await self.service.list_files(sandbox_id, path)
        except Exception as error:
            tree.fill(sandbox_id, path, None, str(error))
            return
        tree.fill(sandbox_id, path, files)

    def on_sandbox_tree_choose_wanted(self, event: SandboxTree.ChooseWanted) -> None:
        from duvo_tui.ui.dialogs import PromptScreen

        tree = self._pane("#sandbox-tree")
        shown = f"showing {clean_line(tree.sandbox_id, 60)}" if tree.chosen and tree.sandbox_id else "sandbox id"
        prompt = PromptScreen("Show a sandbox (nothing typed: the selected run's)", shown, allow_empty=True)
        self.push_screen(prompt, self._sandbox_chosen)

    def _sandbox_chosen(self, sandbox_id: str | None) -> None:
        if sandbox_id is None:
            return  # cancelled
        tree = self._pane("#sandbox-tree")
        row = self._runs().row(self._selected) if self._selected else None
        run_sandbox = row.run.sandbox_id if row else None
        wanted = sandbox_id.strip()
        if wanted and (len(wanted) > 200 or any(ch.isspace() or ch == "/" for ch in wanted)):
            self.say(f"Not a sandbox id: {clean_line(wanted, 60)}", severity="error")
            return
        tree.choose(wanted or None, run_sandbox)

    def on_sandbox_tree_create_wanted(self, event: SandboxTree.CreateWanted) -> None:
        if self._refuse_if_read_only("make sandboxes"):
            return
        self._create_sandbox()

    @work(group="sandbox-new", exclusive=True, exit_on_error=False)
    async def _create_sandbox(self) -> None:
        try:
            sandbox = await self.service.create_sandbox()
        except Exception as error:
            self.say(f"Could not make a sandbox: {error}", severity="error")
            return
        self._pane("#sandbox-tree").choose(sandbox.sandbox_id)
        expires = f", expires {sandbox.expires_at:%Y-%m-%d %H:%M} UTC" if sandbox.expires_at else ""
        self.say(f"New sandbox {clean_line(sandbox.sandbox_id, 60)}{expires}: uploads go there now")

    # --- answering human requests (the logic lives in ui/hitl/hitl_desk.py) --------------------------------

    def on_human_request_form_submit(self, event: HumanRequestForm.Submit) -> None:
        self.hitl.submit(event)

    def on_human_request_form_answered(self, event: HumanRequestForm.Answered) -> None:
        self.hitl.answered(event)

    def action_inbox(self) -> None:
        self.hitl.open_inbox()

    def action_filter_messages(self) -> None:
        run_id = self._stream().run_id
        messages = self.service.messages(run_id) if run_id else []
        self.say(self._messages_pane().toggle_filter(messages))

    # --- copying (OSC 52 and a fallback file: ui/chrome/clipboard.py) ---------------------------------------

    def action_copy_page(self) -> None:
        from duvo_tui.ui.chrome.clipboard import copy_text, visible_text

        copy_text(self, visible_text(self._stream()), "the visible messages")

    def action_copy_run_id(self) -> None:
        if self._selected is None:
            self.say("Select a run first", severity="warning")
            return
        from duvo_tui.ui.chrome.clipboard import copy_text

        copy_text(self, self._selected, "the run id")

    def action_copy_curl(self) -> None:
        if self._selected is None:
            self.say("Select a run first", severity="warning")
            return
        from duvo_tui.ui.chrome.clipboard import copy_text, curl_command

        copy_text(self, curl_command(str(getattr(self.profile, "base_url", "")), self._selected), "a curl command")
