"""The dashboard app: renders the service's events and turns keys into service commands.

``make_app`` is the one way to build it (the CLI, the demo, the tests and the benchmarks all use it).
The app never speaks HTTP: every command goes through the :class:`~duvo_tui.service.service.DuvoService`
methods in async workers, and failures become notifications.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from time import monotonic
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.content import Content
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from duvo_tui.locations import styles_dir
from duvo_tui.text import clean_line
from duvo_tui.ui.app_commands import RunCommands
from duvo_tui.ui.app_events import ServiceEvents
from duvo_tui.ui.bridge import ServiceEvent
from duvo_tui.ui.chrome.header import DashboardHeader
from duvo_tui.ui.chrome.profile_marks import apply_profile_marks
from duvo_tui.ui.chrome.window_title import WindowTitle
from duvo_tui.ui.dashboard_screen import DashboardScreen
from duvo_tui.ui.panes import MessagesPane
from duvo_tui.ui.runs.run_format import RunRow, agent_label

if TYPE_CHECKING:
    from textual.widget import Widget

    from duvo_tui.api.models import HumanRequest, Message, Run
    from duvo_tui.service import events as ev
    from duvo_tui.service.facade import DashboardService
    from duvo_tui.ui.hitl.hitl_desk import HitlDesk
    from duvo_tui.ui.runs.run_list import RunList
    from duvo_tui.ui.stream.message_stream import MessageStream

__all__ = ["DuvoApp", "make_app"]

STYLES = styles_dir()


_NEEDS_READY = frozenset(
    {
        "start_run",
        "stop_run",
        "refresh_run",
        "add_run",
        "next_waiting",
        "inbox",
        "filter_messages",
        "copy_page",
        "copy_run_id",
    }
)
"""Actions that wait for the panes' widgets and the service."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DuvoApp(ServiceEvents, RunCommands, App[int]):
    """The dashboard. Build it with :func:`make_app`."""

    CSS_PATH = [STYLES / "dashboard.tcss"]
    TITLE = "duvo-tui"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave the dashboard"),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="List every key"),
        Binding("s", "start_run", "Start", id="app.start_run", tooltip="Start a run of an agent"),
        Binding("x", "stop_run", "Stop", id="app.stop_run", tooltip="Stop the selected run"),
        Binding("r", "refresh_run", "Refresh", show=False, id="app.refresh", tooltip="Look at the selected run now"),
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
        service: DashboardService | Callable[[], DashboardService],
        *,
        profile: Any = None,
        clock: Callable[[], datetime] | None = None,
        theme: str | None = None,
        save_theme: Callable[[str], None] | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
        on_ready: Callable[[Any], Awaitable[Any]] | None = None,
        own_service: bool = True,
        debug_log: str | None = None,
    ) -> None:
        super().__init__()
        self.debug_log = debug_log
        """Where ``--debug`` writes its log (shown in the header), None without ``--debug``."""
        self._on_ready = on_ready
        self._service_factory: Callable[[], DashboardService] | None = None
        if callable(service) and not hasattr(service, "subscribe"):
            # A factory: the service is built after the first frame (see _start_service).
            self._service_factory = service
            self.service: DashboardService = None  # type: ignore[assignment]  # None only until the factory ran
        else:
            self.service = service  # type: ignore[assignment]  # not callable as a factory: the service itself
        self.profile = profile
        self.clock = clock or _utc_now
        self._save_theme = save_theme
        self._theme_on_file = theme
        """The theme the config file holds: only a different choice, made while the app runs, is written."""
        self._theme_choosable = False
        if theme:
            try:
                self.theme = theme
            except Exception:  # a theme this Textual does not know: keep the default
                pass
        self._on_close = on_close
        self._own_service = own_service
        self._unsubscribe: Callable[[], None] | None = None
        self._requests: dict[str, HumanRequest] = {}
        self._selected: str | None = None
        self._closed = False
        self.service_started = False
        """True once ``service.start()`` returned (tests wait for it)."""
        self._person_seen_at = -1.0
        self.keymap_wanted: dict[str, str] = {}
        """The [keys] remapping from the config (applied by :func:`make_app`)."""
        self.ready = False
        """True once the panes have their widgets and the service exists: the commands work from then on."""
        self._hitl: HitlDesk | None = None
        self._keymap_problems: list[str] | None = None
        self._window_title = WindowTitle()

    # --- properties and helpers ------------------------------------------------------------------------

    @property
    def aliases(self) -> dict[str, str]:
        """agent uuid -> alias, from the profile."""
        agents = getattr(self.profile, "agents", None) or {}
        return {uuid: alias for alias, uuid in agents.items()}

    @property
    def read_only(self) -> bool:
        from duvo_tui.readonly import is_read_only

        return bool(getattr(self.profile, "read_only", False)) or is_read_only(self.service)

    @property
    def selected_run_id(self) -> str | None:
        return self._selected

    @property
    def hitl(self) -> HitlDesk:
        """Answering human requests: the form, submissions, the inbox, notifications."""
        if self._hitl is None:
            from duvo_tui.ui.hitl.hitl_desk import HitlDesk

            self._hitl = HitlDesk(self)
        return self._hitl

    @property
    def keymap_problems(self) -> list[str]:
        """What is wrong with the [keys] remapping (checked once, when first asked)."""
        if self._keymap_problems is None:
            from duvo_tui.ui.chrome.keymap import keymap_problems

            self._keymap_problems = keymap_problems(self.keymap_wanted) if self.keymap_wanted else []
        return self._keymap_problems

    # The panes' widgets are looked up by id: their modules load after the first frame (ui/panes.py).

    def _runs(self) -> RunList:
        return self.screen_dashboard.query_one("#run-list")  # type: ignore[return-value]  # found by id (startup imports no widget)

    def _stream(self) -> MessageStream:
        return self.screen_dashboard.query_one("#message-stream")  # type: ignore[return-value]  # found by id (startup imports no widget)

    def _messages_pane(self) -> MessagesPane:
        return self.screen_dashboard.query_one("#messages-pane", MessagesPane)

    def _header(self) -> DashboardHeader:
        return self.screen_dashboard.query_one("#header", DashboardHeader)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Until the dashboard is ready (a fraction of a second after its first frame), the commands that need
        # the panes or the service are shown but do nothing.
        if action in _NEEDS_READY and not self.ready:
            return None
        if action in ("next_waiting", "inbox") and not self._requests:
            return False  # the footer offers only what works now: nothing waits for a person
        return True

    def _is_populated(self) -> bool:
        """True once the panes have their widgets (and until the dashboard screen is gone)."""
        screen = self._installed_screens.get("dashboard")
        return isinstance(screen, DashboardScreen) and screen.populated

    def _pane(self, selector: str) -> Any:
        return self.screen_dashboard.query_one(selector)

    @property
    def screen_dashboard(self) -> DashboardScreen:
        return self.get_screen("dashboard")  # type: ignore[return-value]  # installed as DashboardScreen

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

    def _show_window_title(self) -> None:
        """``(2) duvo-tui`` while two requests wait: in the App's title and the terminal's (OSC 2)."""
        title = self._window_title.changed(len(self._requests), getattr(self.profile, "label", None))
        if title is None:
            return
        self.title = title
        driver = self._driver
        if driver is not None and not driver.is_headless:
            driver.write(f"\x1b]2;{title}\x07")

    def say(self, message: str, *, severity: SeverityLevel = "information", timeout: float = 4) -> None:
        """A notification whose text is shown literally."""
        self.notify(clean_line(message, 400), severity=severity, timeout=timeout, markup=False)

    # --- lifecycle -----------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        name = getattr(self.profile, "label", None) or getattr(self.profile, "name", "default")
        base_url = getattr(self.profile, "base_url", "")
        screen = DashboardScreen(str(name), str(base_url), clock=self.clock, debug_log=self.debug_log)
        self.install_screen(screen, "dashboard")
        return screen

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)) and not event.is_forwarded:
            self._person_seen()
        await super().on_event(event)

    def _person_seen(self) -> None:
        """A key or a click: the service looks for changes at its fast pace for a while (told once a second)."""
        now = monotonic()
        if not self.service_started or now - self._person_seen_at < 1.0:
            return
        self._person_seen_at = now
        self.service.person_active()

    def on_mount(self) -> None:
        self._theme_choosable = True
        # After the first frame the panes get their widgets; once those are drawn, the service starts.
        self.call_after_refresh(self._populate)

    @work(exclusive=True, group="populate", exit_on_error=False)
    async def _populate(self) -> None:
        await self.screen_dashboard.populate()
        self.call_after_refresh(self._start_service)

    def _mark_profile(self) -> None:
        if warning := apply_profile_marks(self._header(), self.profile, self.service):
            self.say(warning, severity="warning")
        if self.read_only and getattr(self.profile, "watch", None):
            self._refuse_if_read_only("watch")  # the profile's watched folders are not watched: say so
        self._show_window_title()
        for problem in self.keymap_problems:
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
            self.ready = True
            self.refresh_bindings()
            self._mark_profile()
            if self._own_service:
                await self.service.start()
        except Exception as error:
            self.say(f"Could not start: {error}", severity="error", timeout=10)
            return
        self._load_known()
        from duvo_tui.ui.session import restore as restore_session

        restore_session(self)
        try:
            from duvo_tui.ui.sandbox.upload_status import attach_uploads

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
        from duvo_tui.api.models import Run as RunModel

        for request in self.service.pending_requests():
            self._requests[request.run_id] = request
        rows = []
        for tracked in self.service.runs():
            run = tracked if isinstance(tracked, RunModel) else getattr(tracked, "run", None)
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
        if self._is_populated():
            from duvo_tui.ui.session import save as save_session

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
        # Only a choice the person makes is written: not the theme applied on start (that rewrote the file each
        # time, replacing a symlinked dotfile with a plain 0600 file).
        if self._save_theme is None or not self._theme_choosable or theme == self._theme_on_file:
            return
        self._theme_on_file = theme
        try:
            self._save_theme(theme)
        except Exception as error:
            self.say(f"Theme not saved: {error}", severity="warning")

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
        messages: list[Message] = list(self.service.messages(run_id)) if run_id else []
        tracked = self.service.run(run_id) if run_id else None
        status = getattr(getattr(tracked, "run", tracked), "status", "") or ""
        self._messages_pane().show_run(run_id, messages, status)
        row = self._runs().row(run_id) if run_id else None
        self._title_messages_pane()
        self._show_sandbox(row.run if row else None)
        self._show_request()

    def _title_messages_pane(self) -> None:
        row = self._runs().row(self._selected) if self._selected else None
        pane: Widget = self._pane("#messages-pane")
        # Content, not a str: a title is server text and a str border title is parsed as markup.
        pane.border_title = Content(f"2 Messages · {row.agent} · {row.title}") if row else "2 Messages"

    def _show_sandbox(self, run: Run | None) -> None:
        self._pane("#sandbox-tree").show_run_sandbox(run.sandbox_id if run else None)

    def _show_request(self) -> None:
        request = self._requests.get(self._selected) if self._selected else None
        others = len(self._requests) - (1 if request else 0)
        self._pane("#human-request-view").show_request(request, others)
        row = self._runs().row(self._selected) if self._selected else None
        self.hitl.show(request, agent=row.agent if row else "", run_id=self._selected, waiting_elsewhere=others)


    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers catch what they expect; anything else is a bug, shown rather than crashing the app.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.say(f"Something failed: {event.worker.error!r}", severity="error", timeout=10)

    # --- command palette -----------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from duvo_tui.ui.chrome.commands import palette_commands

        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen) and screen.populated:
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
    debug_log: str | None = None,
) -> DuvoApp:
    """The dashboard for ``service`` (a DuvoService, or a function returning one, called after the first frame
    so that the client and httpx load while the screen already shows) and ``profile`` (a config Profile).

    ``clock`` gives "now" for ages (tests freeze it); ``save_theme`` remembers a theme choice; ``on_close``
    runs after the service is closed when the app exits; ``on_ready(service)`` runs once the service has
    started (the demo starts its runs there); ``own_service`` makes the app start and close the service;
    ``debug_log`` is the path of the ``--debug`` log file, shown in the header.
    """
    app = DuvoApp(
        service,
        profile=profile,
        clock=clock,
        theme=theme,
        save_theme=save_theme,
        on_close=on_close,
        on_ready=on_ready,
        own_service=own_service,
        debug_log=debug_log,
    )
    if keymap:
        # Remapped now; the check for unknown ids and clashes (which loads every UI module) waits until the
        # dashboard shows, and its findings are announced then.
        app.keymap_wanted = dict(keymap)
        app.set_keymap({binding_id: keys for binding_id, keys in keymap.items() if keys.strip(" ,")})
    return app
