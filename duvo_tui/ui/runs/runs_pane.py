"""Pane 1, the runs: the run list with its filter line, and what a person does to runs (start, stop, track,
look now, copy). It owns the rows and which of them carry a "waiting for a person" mark; the screen hands it
the service's run events. Dialogs are imported when first used, so none of them weighs on the start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content

from duvo_tui.api.status import RunStatus
from duvo_tui.text import clean_line
from duvo_tui.ui.chrome.notify import fits_one_line
from duvo_tui.ui.host import Host
from duvo_tui.ui.panes import Pane
from duvo_tui.ui.runs.run_format import RunRow, agent_label, short_id

if TYPE_CHECKING:
    from textual import events
    from textual.widgets import Input

    from duvo_tui.api.models import Run
    from duvo_tui.service import events as ev
    from duvo_tui.service.assignments import Choice
    from duvo_tui.service.store import TrackedRun
    from duvo_tui.ui.dialogs import StartRunRequest
    from duvo_tui.ui.runs.run_list import RunList

__all__ = ["RunsPane"]


class RunsPane(Pane, Vertical):
    """The run list with its filter line; the commands that act on runs."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="runs.filter", tooltip="Show only runs that contain some text"),
    ]

    def __init__(self, host: Host, clock: Callable[[], datetime] | None = None, **kwargs) -> None:
        super().__init__(host, **kwargs)
        self.clock = clock
        self.border_title = "1 Runs"
        self.waiting: set[str] = set()
        """The runs whose rows carry the "waiting for a person" mark."""
        self.selected: str | None = None
        """The run the other panes show (the screen sets it: the cursor, a jump, a restored session)."""

    def compose_content(self) -> ComposeResult:
        from textual.widgets import Input

        from duvo_tui.ui.runs.run_list import RunList

        yield Input(placeholder="filter runs (esc clears)", id="run-filter", compact=True, classes="-hidden")
        yield RunList(clock=self.clock, id="run-list")

    @property
    def run_list(self) -> RunList:
        return self.query_one("#run-list")  # type: ignore[return-value]  # found by id: the widget's module is loaded with its pane, not here

    @property
    def aliases(self) -> dict[str, str]:
        """agent uuid -> alias, from the profile."""
        agents = self.host.profile.agents if self.host.profile is not None else {}
        return {uuid: alias for alias, uuid in agents.items()}

    # --- the rows ---------------------------------------------------------------------------------------

    def row_for(self, run: Run, agent_name: str | None = None) -> RunRow:
        old = self.run_list.row(run.id)
        name = agent_name or run.agent_name or (old.run.agent_name if old else None)
        return RunRow(
            run=run,
            agent=agent_label(run.agent_id, name, self.aliases),
            first_message=old.first_message if old else "",
            pending_request=run.id in self.waiting,
        )

    def label(self, run_id: str) -> tuple[str, str]:
        """(agent, title) of a run in the list; empty strings for one it does not hold."""
        row = self.run_list.row(run_id)
        return (row.agent, row.title) if row is not None else ("", "")

    def load(self, tracked: Iterable[TrackedRun], waiting: Iterable[str]) -> None:
        """The runs the service knew before the dashboard opened, and which of them wait for a person."""
        self.waiting = set(waiting)
        self.run_list.upsert_many(self.row_for(t.run, t.agent_name) for t in tracked)
        self.refresh_title()

    def take(self, event: ev.RunAdded | ev.RunChanged | ev.RunRemoved) -> None:
        from duvo_tui.service import events as ev

        match event:
            case ev.RunAdded():
                self.run_list.upsert(self.row_for(event.run, event.agent_name))
            case ev.RunChanged():
                row = self.row_for(event.run)
                self.run_list.upsert(row)
                if event.run.status == RunStatus.FAILED and event.previous_status not in (None, RunStatus.FAILED):
                    self._say_failed(row)
            case ev.RunRemoved():
                self.run_list.remove_run(event.run_id)
                self.waiting.discard(event.run_id)
        self.refresh_title()

    def _say_failed(self, row: RunRow) -> None:
        """A run seen failing: said wherever the person is (at 80x24 the list may not be in view)."""
        named = f"✗ Run failed · {row.agent}"
        self.host.say(
            f"Run {short_id(row.run.id)} of {row.agent}: its messages (pane 2) say why",
            title=named if fits_one_line(named) else "✗ Run failed",
            severity="error",
            timeout=8,
        )

    def first_message(self, event: ev.MessagesAppended) -> bool:
        """Keep a run's first message (its title when it has none); True when the row changed."""
        row = self.run_list.row(event.run_id)
        if row is None or event.start != 0 or row.first_message:
            return False
        first = next((m for m in event.messages if m.role == "user" and m.text_content), None)
        if first is None:
            return False
        row.first_message = clean_line(first.text_content, 200)
        self.run_list.upsert(row)
        return True

    def mark_pending(self, run_id: str, pending: bool) -> None:
        """Show (or drop) the mark of a run waiting for a person."""
        if pending:
            self.waiting.add(run_id)
        else:
            self.waiting.discard(run_id)
        row = self.run_list.row(run_id)
        if row is not None and row.pending_request != pending:
            row.pending_request = pending
            self.run_list.upsert(row)

    def show(self, run_id: str) -> None:
        """Select ``run_id``, clearing the filter when it hides the run."""
        runs = self.run_list
        if not runs.select(run_id):
            runs.filter_text = ""
            runs.select(run_id)

    # --- the filter line and the title ------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#run-filter")
        box.remove_class("-hidden")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "run-filter":
            self.run_list.filter_text = event.value
            self.refresh_title()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "run-filter":
            if not event.value.strip():
                event.input.add_class("-hidden")
            self.run_list.focus()

    def on_key(self, event: events.Key) -> None:
        if not self.populated:
            return
        box: Input = self.query_one("#run-filter")  # type: ignore[assignment]  # found by id: the widget's module is loaded with its pane, not here
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.value = ""
            box.add_class("-hidden")
            self.run_list.focus()

    def on_run_list_highlighted(self) -> None:
        self.refresh_title()

    def refresh_title(self) -> None:
        """Recount after the list changed."""
        if not self.populated:
            return
        runs = self.run_list
        shown, total = runs.row_count, runs.total_count
        count = f"{shown}/{total}" if shown != total else f"{total}"
        self.border_title = f"1 Runs ({count})"
        # Content, not a str: the filter is typed text and a str subtitle is parsed as markup.
        self.border_subtitle = Content(
            f"sort: {runs.order_by}" + (f" · filter: {runs.filter_text}" if runs.filter_text else "")
        )

    # --- starting a run ---------------------------------------------------------------------------------

    def start_run(self, initial: StartRunRequest | None = None, error: str = "") -> None:
        """The start dialog (again, with what was typed and why it failed, after a failure)."""
        if self.host.refuse_if_read_only("start runs"):
            return
        aliases = sorted(self.host.profile.agents) if self.host.profile is not None else []
        from duvo_tui.ui.dialogs import StartRunScreen

        screen = StartRunScreen(aliases, error, initial, load_choices=self._assignment_choices, now=self.host.clock())
        self.app.push_screen(screen, self._start_run_answered)

    async def _assignment_choices(self) -> list[Choice]:
        """The Assignments to pick from: the service's kept listing, aliases, each one's last run."""
        from duvo_tui.service.assignments import choices, with_last_runs

        aliases = self.host.profile.agents if self.host.profile is not None else {}
        options = choices(await self.host.service.assignments(), aliases)
        return with_last_runs(options, (tracked.run for tracked in self.host.service.runs()))

    def _start_run_answered(self, request: StartRunRequest | None) -> None:
        if request is not None:
            self._resolve_and_start(request)

    @work(group="start", exit_on_error=False)
    async def _resolve_and_start(self, request: StartRunRequest) -> None:
        """An alias or uuid as is; a name through the Assignments the service knows (one fits, or say which)."""
        from duvo_tui.service.assignments import AmbiguousAssignment, UnknownAssignment, resolve

        try:
            agent = resolve(request.agent, await self._assignment_choices())
        except (AmbiguousAssignment, UnknownAssignment) as error:
            self.start_run(request, clean_line(str(error), 300))
            return
        except Exception as error:
            self.start_run(request, f"Could not list the Assignments: {clean_line(str(error), 300)}")
            return
        self._start_run(agent, request)

    @work(group="start", exit_on_error=False)
    async def _start_run(self, agent_id: str, request: StartRunRequest) -> None:
        try:
            run = await self.host.service.start_run(agent_id, message=request.message, sandbox_id=request.sandbox)
        except Exception as error:
            self.start_run(request, f"Could not start: {clean_line(str(error), 300)}")
            return
        row = self.run_list.row(run.id) or self.row_for(run)
        named = f"✓ Run started · {row.agent}"
        self.host.say(
            f"Run {clean_line(run.id, 60)} of {row.agent}", title=named if fits_one_line(named) else "✓ Run started"
        )
        if request.message and not row.first_message:
            row.first_message = clean_line(request.message, 200)
        self.run_list.upsert(row)
        self.run_list.select(run.id)

    # --- stop, look now, track --------------------------------------------------------------------------

    def _selected_or_say(self) -> str | None:
        run_id = self.selected
        if run_id is None:
            self.host.say("Select a run first", severity="warning")
        return run_id

    def stop_selected(self) -> None:
        """Ask (after a confirmation) the selected run to stop."""
        run_id = self._selected_or_say()
        if run_id is None or self.host.refuse_if_read_only("stop runs"):
            return
        row = self.run_list.row(run_id)
        if row is not None and row.run.status.is_finished:
            label = row.run.status.label.lower()
            self.host.say(f"Run {short_id(run_id)} has finished ({label}).", title="Nothing to stop")
            return
        question = Text.assemble("Stop run ", (short_id(run_id), "bold"), " (", row.agent if row else "?", ")?")
        if row is not None:
            question.append("\n" + row.title)
        from duvo_tui.ui.dialogs import ConfirmScreen

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._stop_run(run_id)

        self.app.push_screen(ConfirmScreen(question, yes="Stop"), confirmed)

    @work(group="stop", exit_on_error=False)
    async def _stop_run(self, run_id: str) -> None:
        try:
            await self.host.service.stop_run(run_id)
        except Exception as error:
            self.host.say(str(error), title=f"Could not stop run {short_id(run_id)}", severity="error")
            return
        self.host.say(
            "Asked the server to stop it; the list shows when it has.", title=f"Stopping run {short_id(run_id)}"
        )

    def refresh_selected(self) -> None:
        """Look at the selected run now (its status and new messages), whatever the polling plan says; while the
        key is refused, try the key again instead (nothing else is asked of the server until it is taken)."""
        retry_key = getattr(self.host.service, "retry_key", None)
        if retry_key is not None and getattr(self.host.service, "key_refused", False):
            retry_key()
            self.host.say("Trying the API key again…")
            return
        run_id = self._selected_or_say()
        if run_id is not None:
            self.host.service.refresh(run_id)

    def add_run(self) -> None:
        """Track a run by its id (one started elsewhere)."""
        from duvo_tui.ui.dialogs import PromptScreen

        self.app.push_screen(PromptScreen("Track a run by id", "run uuid"), self._add_run_answered)

    def _add_run_answered(self, run_id: str | None) -> None:
        if run_id:
            self._track(run_id)

    @work(group="track", exit_on_error=False)
    async def _track(self, run_id: str) -> None:
        try:
            run = await self.host.service.track(run_id)
        except Exception as error:
            self.host.say(f"{clean_line(run_id, 40)}: {error}", title="Could not add the run", severity="error")
            return
        self.run_list.upsert(self.row_for(run))
        self.run_list.select(run.id)
        self.refresh_title()

    # --- copying (OSC 52 and a fallback file: ui/chrome/clipboard.py) ---------------------------------------

    def copy_run_id(self) -> None:
        if (run_id := self._selected_or_say()) is not None:
            from duvo_tui.ui.chrome.clipboard import copy_text

            copy_text(self.app, run_id, "the run id")

    def copy_curl(self) -> None:
        if (run_id := self._selected_or_say()) is not None:
            from duvo_tui.ui.chrome.clipboard import copy_text, curl_command

            base_url = self.host.profile.base_url if self.host.profile is not None else ""
            copy_text(self.app, curl_command(base_url, run_id), "a curl command")
