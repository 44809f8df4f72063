"""The dashboard app: renders the service's events and turns keys into service commands.

``make_app`` is the one way to build it (the CLI, the demo, the tests and the benchmarks all use it).
The app never speaks HTTP: every command goes through the :class:`~duvo_tui.service.service.DuvoService`
methods in async workers, and failures become notifications.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from duvo_tui.api.models import HumanRequest, Message, Run
from duvo_tui.readonly import is_read_only, refusal
from duvo_tui.service import events as ev
from duvo_tui.text import clean_line
from duvo_tui.ui.bridge import ServiceEvent
from duvo_tui.ui.clipboard import copy_text, curl_command, visible_text
from duvo_tui.ui.dashboard_screen import DashboardScreen
from duvo_tui.ui.dialogs import ConfirmScreen, PromptScreen, StartRunRequest, StartRunScreen
from duvo_tui.ui.header import BudgetPicture, DashboardHeader
from duvo_tui.ui.help_screen import HelpScreen
from duvo_tui.ui.hitl_desk import HitlDesk
from duvo_tui.ui.hitl_form import HumanRequestForm
from duvo_tui.ui.human_request_view import HumanRequestView
from duvo_tui.ui.keymap import apply_keymap
from duvo_tui.ui.message_stream import MessageStream
from duvo_tui.ui.panes import MessagesPane, RunsPane
from duvo_tui.ui.profile_marks import apply_profile_marks
from duvo_tui.ui.run_format import RunRow, agent_label, short_id
from duvo_tui.ui.run_list import RunList
from duvo_tui.ui.sandbox_tree import SandboxTree
from duvo_tui.ui.session import restore as restore_session
from duvo_tui.ui.session import save as save_session
from duvo_tui.ui.stream_filter import append_to_stream, reset_filter, toggle_filter
from duvo_tui.ui.stream_health import update_stream_health
from duvo_tui.ui.window_title import set_window_title

__all__ = ["DuvoApp", "make_app"]

STYLES = Path(__file__).resolve().parent.parent.parent / "styles"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DuvoApp(App[int]):
    """The dashboard. Build it with :func:`make_app`."""

    CSS_PATH = [STYLES / "dashboard.tcss"]
    TITLE = "duvo-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave the dashboard"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="List every key"),
        Binding("s", "start_run", "Start", id="app.start_run", tooltip="Start a run of an agent"),
        Binding("x", "stop_run", "Stop", id="app.stop_run", tooltip="Stop the selected run"),
        Binding("a", "add_run", "Add run", show=False, id="app.add_run", tooltip="Track a run by its id"),
        Binding(
            "n",
            "next_waiting",
            "Next waiting",
            id="app.next_waiting",
            tooltip="Jump to the next run waiting for a person",
        ),
        Binding("N", "inbox", "Inbox", id="app.inbox", tooltip="Every request waiting for a person, oldest first"),
        Binding(
            "F",
            "filter_messages",
            "Only matching",
            show=False,
            id="app.filter_messages",
            tooltip="With a search on: show only the messages that match (again: all)",
        ),
        Binding("Y", "copy_page", "Copy page", show=False, id="app.copy_page", tooltip="Copy the visible messages"),
        Binding("I", "copy_run_id", "Copy run id", show=False, id="app.copy_run_id", tooltip="Copy the run's id"),
        Binding(
            "C", "copy_curl", "Copy curl", show=False, id="app.copy_curl", tooltip="Copy a curl command for the run"
        ),
    ]

    def __init__(
        self,
        service: Any,
        *,
        profile: Any = None,
        clock: Callable[[], datetime] | None = None,
        save_theme: Callable[[str], None] | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
        on_ready: Callable[[Any], Awaitable[Any]] | None = None,
        own_service: bool = True,
    ) -> None:
        super().__init__()
        self._on_ready = on_ready
        self._service_factory: Callable[[], Any] | None = None
        if callable(service) and not hasattr(service, "subscribe"):
            # A factory: the service is built after the first frame (see _start_service).
            self._service_factory, service = service, None
        self.service = service
        self.profile = profile
        self.clock = clock or _utc_now
        self._save_theme = save_theme
        self._on_close = on_close
        self._own_service = own_service
        self._unsubscribe: Callable[[], None] | None = None
        self._requests: dict[str, HumanRequest] = {}
        self._selected: str | None = None
        self._closed = False
        self.service_started = False
        """True once ``service.start()`` returned (tests wait for it)."""
        self.hitl = HitlDesk(self)
        """Answering human requests: the form, submissions, the inbox, notifications."""

    # --- properties and helpers ------------------------------------------------------------------------

    @property
    def aliases(self) -> dict[str, str]:
        """agent uuid -> alias, from the profile."""
        agents = getattr(self.profile, "agents", None) or {}
        return {uuid: alias for alias, uuid in agents.items()}

    @property
    def read_only(self) -> bool:
        return bool(getattr(self.profile, "read_only", False)) or is_read_only(self.service)

    @property
    def selected_run_id(self) -> str | None:
        return self._selected

    def _runs(self) -> RunList:
        return self.screen_dashboard.query_one(RunList)

    @property
    def screen_dashboard(self) -> DashboardScreen:
        return self.get_screen("dashboard")  # type: ignore[return-value]

    def _row_for(self, run: Run, agent_name: str | None = None) -> RunRow:
        old = self._runs().row(run.id)
        name = agent_name or run.agent_name or (old.run.agent_name if old else None)
        row = RunRow(
            run=run,
            agent=agent_label(run.agent_id, name, self.aliases),
            first_message=old.first_message if old else "",
            pending_request=run.id in self._requests,
        )
        if name and not run.agent_name and old is None:
            row.agent = agent_label(run.agent_id, name, self.aliases)
        return row

    def say(self, message: str, *, severity: str = "information", timeout: float = 4) -> None:
        """A notification whose text is shown literally."""
        self.notify(clean_line(message, 400), severity=severity, timeout=timeout, markup=False)  # type: ignore[arg-type]

    # --- lifecycle -----------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        name = getattr(self.profile, "label", None) or getattr(self.profile, "name", "default")
        base_url = getattr(self.profile, "base_url", "")
        screen = DashboardScreen(str(name), str(base_url), clock=self.clock)
        self.install_screen(screen, "dashboard")
        return screen

    def on_mount(self) -> None:
        if self._service_factory is None:
            self._unsubscribe = self.service.subscribe(self._service_callback)
        # After the first frame: the panes exist, and the screen shows before any network work.
        self.call_after_refresh(self._start_service)

    def _mark_profile(self) -> None:
        if warning := apply_profile_marks(self.screen_dashboard.query_one(DashboardHeader), self.profile, self.service):
            self.say(warning, severity="warning")
        if self.read_only and getattr(self.profile, "watch", None):
            self._refuse_if_read_only("watch")  # the profile's watched folders are not watched: say so
        set_window_title(self, len(self._requests), getattr(self.profile, "label", None))
        for problem in getattr(self, "keymap_problems", []):
            self.say(f"Key bindings: {problem}", severity="warning", timeout=10)

    def _service_callback(self, event: ev.Event) -> None:
        # Runs on the app's loop (the service is started from it); only post, never touch widgets here.
        self.post_message(ServiceEvent(event))

    @work(exclusive=True, group="service", exit_on_error=False)
    async def _start_service(self) -> None:
        try:
            if self._service_factory is not None:
                # Built after the first frame: the client (httpx) and the service load while the screen shows.
                self.service = self._service_factory()
                self._unsubscribe = self.service.subscribe(self._service_callback)
            self._mark_profile()
            if self._own_service:
                await self.service.start()
        except Exception as error:
            self.say(f"Could not start: {error}", severity="error", timeout=10)
            return
        self._load_known()
        restore_session(self)
        try:
            from duvo_tui.ui.upload_status import attach_uploads

            await attach_uploads(self)  # the upload widget and the profile's watched folders
        except Exception as error:
            self.say(f"Uploads unavailable: {error}", severity="warning")
        self.service_started = True
        if self._on_ready is not None:
            try:
                await self._on_ready(self.service)
            except Exception as error:
                self.say(f"Setup failed: {error}", severity="error", timeout=10)

    def _load_known(self) -> None:
        for request in self.service.pending_requests():
            self._requests[request.run_id] = request
        rows = []
        for tracked in self.service.runs():
            run = tracked if isinstance(tracked, Run) else getattr(tracked, "run", None)
            if run is None:
                continue
            rows.append(self._row_for(run, getattr(tracked, "agent_name", None)))
        self._runs().upsert_many(rows)
        self._update_counts()

    async def _close_service(self) -> None:
        # Not named _shutdown: that would override App._shutdown, which closes the driver and the widgets.
        if self._closed:
            return
        self._closed = True
        save_session(self)
        if self._unsubscribe is not None:
            self._unsubscribe()
        try:
            if self._own_service:
                await self.service.close()
            if self._on_close is not None:
                await self._on_close()
        except Exception:
            pass

    async def action_quit(self) -> None:
        await self._close_service()
        self.exit(0)

    async def on_unmount(self) -> None:
        await self._close_service()

    def watch_theme(self, theme: str) -> None:
        if self._save_theme is not None and self.is_mounted:
            try:
                self._save_theme(theme)
            except Exception as error:
                self.say(f"Theme not saved: {error}", severity="warning")

    # --- service events ------------------------------------------------------------------------------

    def on_service_event(self, message: ServiceEvent) -> None:
        if self._closed or not self.is_running:
            return  # events that arrive while the app closes have nowhere to go
        event = message.service_event
        handler = getattr(self, f"_event_{type(event).__name__}", None)
        if handler is not None:
            handler(event)
        self._forward(event)
        update_stream_health(self, event)

    def _forward(self, event: ev.Event) -> None:
        # The upload and answering widgets live in these containers and take the events they want.
        targets = ("#upload-status", "#human-request")
        for selector in targets:
            for container in self.screen_dashboard.query(selector):
                for widget in container.query("*"):
                    handle = getattr(widget, "handle_service_event", None)
                    if handle is not None:
                        handle(event)

    def _event_RunAdded(self, event: ev.RunAdded) -> None:
        self._runs().upsert(self._row_for(event.run, event.agent_name))
        self._update_counts()

    def _event_RunChanged(self, event: ev.RunChanged) -> None:
        self._runs().upsert(self._row_for(event.run))
        if event.run.id == self._selected:
            self._show_sandbox(event.run)
            self._title_messages_pane()
        self.screen_dashboard.query_one(RunsPane).refresh_title()

    def _event_RunRemoved(self, event: ev.RunRemoved) -> None:
        self._runs().remove(event.run_id)
        self._requests.pop(event.run_id, None)
        self._update_counts()

    def _event_MessagesAppended(self, event: ev.MessagesAppended) -> None:
        row = self._runs().row(event.run_id)
        if row is not None and event.start == 0 and not row.first_message:
            first = next((m for m in event.messages if m.role == "user" and m.text_content), None)
            if first is not None:
                row.first_message = clean_line(first.text_content, 200)
                self._runs().upsert(row)
                if event.run_id == self._selected:
                    self._title_messages_pane()
        if event.run_id == self._selected:
            append_to_stream(self, self.screen_dashboard.query_one(MessageStream), event)

    def _event_HumanRequestAppeared(self, event: ev.HumanRequestAppeared) -> None:
        request = event.request
        is_new = request.run_id not in self._requests
        self._requests[request.run_id] = request
        self._mark_pending(request.run_id, True)
        if request.run_id == self._selected:
            self._show_request()
        if is_new:
            row = self._runs().row(request.run_id)
            who = row.agent if row else short_id(request.run_id)
            self.hitl.announce(who, request)

    def _event_HumanRequestResolved(self, event: ev.HumanRequestResolved) -> None:
        current = self._requests.get(event.run_id)
        if current is not None and current.id == event.request_id:
            del self._requests[event.run_id]
            self._mark_pending(event.run_id, False)
        if event.run_id == self._selected:
            self._show_request()

    def _event_BudgetChanged(self, event: ev.BudgetChanged) -> None:
        self.screen_dashboard.query_one(DashboardHeader).budget = BudgetPicture(
            event.used, event.limit, event.resets_in, event.paused_for, event.processes
        )
        header = self.screen_dashboard.query_one(DashboardHeader)
        if header.connection == "connecting":
            header.connection = "connected"

    def _event_ConnectionLost(self, event: ev.ConnectionLost) -> None:
        header = self.screen_dashboard.query_one(DashboardHeader)
        if header.connection != "disconnected":
            self.say(f"Disconnected: {event.reason}. Retrying by itself.", severity="warning")
        header.connection = "disconnected"

    def _event_ConnectionRestored(self, event: ev.ConnectionRestored) -> None:
        self.screen_dashboard.query_one(DashboardHeader).connection = "connected"
        self.say("Connected again")

    def _event_AuthFailed(self, event: ev.AuthFailed) -> None:
        self.screen_dashboard.query_one(DashboardHeader).connection = "auth failed"
        self.say(f"The API key was refused: {event.message}", severity="error", timeout=15)

    def _event_RunError(self, event: ev.RunError) -> None:
        self.say(f"Run {short_id(event.run_id)}: {event.message}", severity="error")

    def _event_Notice(self, event: ev.Notice) -> None:
        severity = {"warning": "warning", "error": "error"}.get(event.level, "information")
        self.say(event.message, severity=severity)

    def _mark_pending(self, run_id: str, pending: bool) -> None:
        row = self._runs().row(run_id)
        if row is not None and row.pending_request != pending:
            row.pending_request = pending
            self._runs().upsert(row)
        self._update_counts()

    def _update_counts(self) -> None:
        screen = self.screen_dashboard
        screen.query_one(DashboardHeader).waiting = len(self._requests)
        screen.query_one(RunsPane).refresh_title()
        set_window_title(self, len(self._requests), getattr(self.profile, "label", None))

    # --- selection -----------------------------------------------------------------------------------

    def on_run_list_highlighted(self, event: RunList.Highlighted) -> None:
        self.select_run(event.run_id)

    def on_run_list_opened(self, event: RunList.Opened) -> None:
        self.screen_dashboard.action_show_pane(1)

    def select_run(self, run_id: str | None) -> None:
        """Show ``run_id`` in the messages, sandbox and request panes, and ask the service to focus it."""
        if run_id == self._selected:
            return
        self._selected = run_id
        try:
            self.service.focus(run_id)
        except Exception as error:
            self.say(f"Could not focus the run: {error}", severity="warning")
        screen = self.screen_dashboard
        stream = screen.query_one(MessageStream)
        messages: list[Message] = list(self.service.messages(run_id)) if run_id else []
        stream.set_messages(run_id, messages)
        row = self._runs().row(run_id) if run_id else None
        self._title_messages_pane()
        screen.query_one(MessagesPane).update_status()
        self._show_sandbox(row.run if row else None)
        self._show_request()
        update_stream_health(self)
        reset_filter(self)

    def _title_messages_pane(self) -> None:
        row = self._runs().row(self._selected) if self._selected else None
        pane = self.screen_dashboard.query_one(MessagesPane)
        # Content, not a str: a title is server text and a str border title is parsed as markup.
        pane.border_title = Content(f"2 Messages · {row.agent} · {row.title}") if row else "2 Messages"

    def _show_sandbox(self, run: Run | None) -> None:
        self.screen_dashboard.query_one(SandboxTree).show_sandbox(run.sandbox_id if run else None)

    def _show_request(self) -> None:
        request = self._requests.get(self._selected) if self._selected else None
        others = len(self._requests) - (1 if request else 0)
        self.screen_dashboard.query_one(HumanRequestView).show_request(request, others)
        row = self._runs().row(self._selected) if self._selected else None
        self.hitl.show(request, agent=row.agent if row else "", run_id=self._selected, waiting_elsewhere=others)

    # --- commands ------------------------------------------------------------------------------------

    def _refuse_if_read_only(self, what: str) -> bool:
        if self.read_only:
            self.say(refusal(str(getattr(self.profile, "name", "") or "default"), what), severity="warning")
            return True
        return False

    def action_help(self) -> None:
        from duvo_tui.ui.commands import help_sections

        self.push_screen(HelpScreen(help_sections(self)))

    def action_start_run(self, initial: StartRunRequest | None = None, error: str = "") -> None:
        if self._refuse_if_read_only("start runs"):
            return
        aliases = sorted((getattr(self.profile, "agents", None) or {}).keys())
        self.push_screen(StartRunScreen(aliases, error, initial), self._start_run_answered)

    def _start_run_answered(self, request: StartRunRequest | None) -> None:
        if request is None:
            return
        agent = request.agent
        resolve = getattr(self.profile, "resolve_agent", None)
        if resolve is not None:
            try:
                agent = resolve(agent)
            except Exception as error:
                self.action_start_run(request, clean_line(str(error), 300))
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
        question = Text.assemble("Stop run ", (short_id(run_id), "bold"), " (", row.agent if row else "?", ")?")
        if row is not None:
            question.append("\n" + row.title)
        self.push_screen(ConfirmScreen(question, yes="Stop"), lambda yes: self._stop_run(run_id) if yes else None)

    @work(group="stop", exit_on_error=False)
    async def _stop_run(self, run_id: str) -> None:
        try:
            await self.service.stop_run(run_id)
        except Exception as error:
            self.say(f"Could not stop {short_id(run_id)}: {error}", severity="error")
            return
        self.say(f"Asked run {short_id(run_id)} to stop")

    def action_add_run(self) -> None:
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

    @on(MessagesPane.PostRequested)
    def _on_post_requested(self, event: MessagesPane.PostRequested) -> None:
        if self._refuse_if_read_only("post messages"):
            self.screen_dashboard.query_one(MessagesPane).restore_draft(event.text)
            return
        self._post(event.run_id, event.text)

    @work(group="post", exit_on_error=False)
    async def _post(self, run_id: str, text: str) -> None:
        try:
            await self.service.post_message(run_id, text)
        except Exception as error:
            self.screen_dashboard.query_one(MessagesPane).restore_draft(text)
            self.say(f"Not sent: {error}", severity="error")
            return
        self.say("Message sent", timeout=2)

    @on(MessagesPane.SaveRequested)
    def _on_save_requested(self, event: MessagesPane.SaveRequested) -> None:
        default = str(Path.cwd() / f"duvo-run-{short_id(event.run_id)}.txt")
        self.push_screen(PromptScreen("Save the transcript to", "file path", default), self._save_transcript)

    def _save_transcript(self, path: str | None) -> None:
        if not path:
            return
        from duvo_tui.locations import atomic_write

        stream = self.screen_dashboard.query_one(MessageStream)
        target = Path(path).expanduser()
        try:
            atomic_write(target, stream.transcript(), mode=0o644)
        except OSError as error:
            self.say(f"Could not save: {error}", severity="error")
            return
        self.say(f"Saved {stream.message_count} messages to {target}")

    @on(SandboxTree.ListingWanted)
    def _on_listing_wanted(self, event: SandboxTree.ListingWanted) -> None:
        self._list_files(event.sandbox_id, event.path)

    @work(group="sandbox", exit_on_error=False)
    async def _list_files(self, sandbox_id: str, path: str) -> None:
        tree = self.screen_dashboard.query_one(SandboxTree)
        try:
            files = await self.service.list_files(sandbox_id, path)
        except Exception as error:
            tree.fill(sandbox_id, path, None, str(error))
            return
        tree.fill(sandbox_id, path, files)

    # --- answering human requests (the logic lives in ui/hitl_desk.py) --------------------------------

    @on(HumanRequestForm.Submit)
    def _on_hitl_submit(self, event: HumanRequestForm.Submit) -> None:
        self.hitl.submit(event)

    def action_inbox(self) -> None:
        self.hitl.open_inbox()

    def action_filter_messages(self) -> None:
        toggle_filter(self, self.screen_dashboard.query_one(MessageStream))

    # --- copying (OSC 52 and a fallback file: ui/clipboard.py) ---------------------------------------

    def action_copy_page(self) -> None:
        copy_text(self, visible_text(self.screen_dashboard.query_one(MessageStream)), "the visible messages")

    def action_copy_run_id(self) -> None:
        if self._selected is None:
            self.say("Select a run first", severity="warning")
            return
        copy_text(self, self._selected, "the run id")

    def action_copy_curl(self) -> None:
        if self._selected is None:
            self.say("Select a run first", severity="warning")
            return
        copy_text(self, curl_command(str(getattr(self.profile, "base_url", "")), self._selected), "a curl command")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers catch what they expect; anything else is a bug, shown rather than crashing the app.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.say(f"Something failed: {event.worker.error!r}", severity="error", timeout=10)

    # --- command palette -----------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from duvo_tui.ui.commands import palette_commands

        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen):
            for title, help_, callback in palette_commands(self, screen):
                yield SystemCommand(title, help_, callback)


def make_app(
    service: Any,
    profile: Any = None,
    *,
    clock: Callable[[], datetime] | None = None,
    theme: str | None = None,
    keymap: dict[str, str] | None = None,
    save_theme: Callable[[str], None] | None = None,
    on_close: Callable[[], Awaitable[None]] | None = None,
    on_ready: Callable[[Any], Awaitable[Any]] | None = None,
    own_service: bool = True,
) -> DuvoApp:
    """The dashboard for ``service`` (a DuvoService, or a function returning one, called after the first frame
    so that the client and httpx load while the screen already shows) and ``profile`` (a config Profile).

    ``clock`` gives "now" for ages (tests freeze it); ``save_theme`` remembers a theme choice; ``on_close``
    runs after the service is closed when the app exits; ``on_ready(service)`` runs once the service has
    started (the demo starts its runs there); ``own_service`` makes the app start and close the service.
    """
    app = DuvoApp(
        service,
        profile=profile,
        clock=clock,
        save_theme=save_theme,
        on_close=on_close,
        on_ready=on_ready,
        own_service=own_service,
    )
    if theme:
        try:
            app.theme = theme
        except Exception:
            pass
    app.keymap_problems = apply_keymap(app, keymap)  # announced once the dashboard shows
    return app
