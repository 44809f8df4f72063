"""The dashboard app: composition, the service's lifecycle, quit and help. The panes do the work
(``ui/*/*_pane.py``) through the service's facade; the screen routes events and the selection between them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from time import monotonic
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from duvo_tui.locations import styles_dir
from duvo_tui.text import clean_line
from duvo_tui.ui.bridge import ServiceEvent
from duvo_tui.ui.chrome.global_keys import GLOBAL_BINDINGS
from duvo_tui.ui.chrome.window_title import WindowTitle
from duvo_tui.ui.dashboard_screen import DashboardScreen
from duvo_tui.ui.host import profile_name

if TYPE_CHECKING:
    from duvo_tui.config import Profile
    from duvo_tui.service import events as ev
    from duvo_tui.service.facade import DashboardService

__all__ = ["DuvoApp", "make_app"]

STYLES = styles_dir()


class DuvoApp(App[int]):
    """The dashboard. Build it with :func:`make_app`. Implements :class:`~duvo_tui.ui.host.Host` for its panes."""

    CSS_PATH = [STYLES / "dashboard.tcss"]
    TITLE = "duvo-tui"
    BINDINGS = GLOBAL_BINDINGS

    def __init__(
        self,
        service: DashboardService | Callable[[], DashboardService],
        profile: Profile | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        theme: str | None = None,
        keymap: dict[str, str] | None = None,
        save_theme: Callable[[str], None] | None = None,
        on_close: Callable[[], Awaitable[None]] | None = None,
        on_ready: Callable[[DashboardService], Awaitable[Any]] | None = None,
        own_service: bool = True,
        debug_log: str | None = None,
    ) -> None:
        """``service``: the facade, or a function returning it (called after the first frame, so httpx loads while
        the screen shows). ``clock``: "now" (tests freeze it); ``keymap``: the [keys] remapping; ``on_ready(service)``
        runs once the service started, ``on_close`` after it closed; ``own_service``: the app starts and closes it;
        ``debug_log``: the ``--debug`` log's path, shown in the header."""
        super().__init__()
        self.debug_log = debug_log
        self._service_factory: Callable[[], DashboardService] | None = None
        if callable(service) and not hasattr(service, "subscribe"):
            # A factory: the service is built after the first frame (see _start_service).
            self._service_factory = service
            self.service: DashboardService = None  # type: ignore[assignment]  # None only until the factory ran
        else:
            self.service = service  # type: ignore[assignment]  # not callable as a factory: the service itself
        self.profile = profile
        self.clock = clock or (lambda: datetime.now(UTC))
        self._save_theme, self._theme_on_file, self._theme_choosable = save_theme, theme, False
        # _theme_on_file: only a different choice, made while the app runs, is written to the config file.
        if theme:
            try:
                self.theme = theme
            except Exception:  # a theme this Textual does not know: keep the default
                pass
        self._on_close, self._on_ready, self._own_service = on_close, on_ready, own_service
        self._unsubscribe: Callable[[], None] | None = None
        self._closed = False
        self.service_started = False
        """True once ``service.start()`` returned (tests wait for it)."""
        self._person_seen_at = -1.0
        self.keymap_wanted = dict(keymap or {})
        if keymap:
            # Remapped now; the check for unknown ids and clashes (which loads every UI module) waits until the
            # dashboard shows, and its findings are announced then.
            self.set_keymap({binding_id: keys for binding_id, keys in keymap.items() if keys.strip(" ,")})
        self._keymap_problems: list[str] | None = None
        self._window_title = WindowTitle()

    # --- what the panes ask of the app (ui/host.py) ------------------------------------------------------

    @property
    def read_only(self) -> bool:
        from duvo_tui.readonly import is_read_only

        return bool(self.profile is not None and self.profile.read_only) or is_read_only(self.service)

    def say(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float = 4
    ) -> None:
        """A notification whose text is shown literally; ``title`` is what a one-line notification shows whole."""
        self.notify(
            clean_line(message, 400), title=clean_line(title, 60), severity=severity, timeout=timeout, markup=False
        )

    def refuse_if_read_only(self, what: str) -> bool:
        if self.read_only:
            from duvo_tui.readonly import refusal

            self.say(refusal(profile_name(self.profile), what), title="The profile is read-only", severity="warning")
        return self.read_only

    def show_waiting(self, count: int) -> None:
        """``(2) duvo-tui`` while two requests wait: in the App's title and the terminal's (OSC 2)."""
        self.refresh_bindings()  # n and N are offered only while something waits
        self._window_title.show(self, count, self.profile.label if self.profile is not None else None)

    # --- the screen -------------------------------------------------------------------------------------

    @property
    def screen_dashboard(self) -> DashboardScreen:
        return self.get_screen("dashboard")  # type: ignore[return-value]  # installed as DashboardScreen

    def get_default_screen(self) -> Screen:
        name = (self.profile.label or self.profile.name) if self.profile is not None else "default"
        base_url = self.profile.base_url if self.profile is not None else ""
        screen = DashboardScreen(self, name, base_url, clock=self.clock, debug_log=self.debug_log)
        self.install_screen(screen, "dashboard")
        return screen

    @property
    def keymap_problems(self) -> list[str]:
        """What is wrong with the [keys] remapping (checked once, when first asked)."""
        if self._keymap_problems is None:
            from duvo_tui.ui.chrome.keymap import keymap_problems

            self._keymap_problems = keymap_problems(self.keymap_wanted) if self.keymap_wanted else []
        return self._keymap_problems

    # --- lifecycle -----------------------------------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)) and not event.is_forwarded:
            # A key or a click: the service looks for changes at its fast pace for a while (told once a second).
            now = monotonic()
            if self.service_started and now - self._person_seen_at >= 1.0:
                self._person_seen_at = now
                self.service.person_active()
        await super().on_event(event)

    def on_mount(self) -> None:
        self._theme_choosable = True
        # After the first frame the panes get their widgets; once those are drawn, the service starts.
        self.call_after_refresh(self._populate)

    @work(exclusive=True, group="populate", exit_on_error=False)
    async def _populate(self) -> None:
        await self.screen_dashboard.populate()
        self.call_after_refresh(self._start_service)

    def _service_callback(self, event: ev.Event) -> None:
        # Runs on the app's loop (the service is started from it); only post, never touch widgets here.
        self.post_message(ServiceEvent(event))

    def on_service_event(self, message: ServiceEvent) -> None:
        if not self._closed and self.is_running:  # events that arrive while the app closes have nowhere to go
            self.screen_dashboard.take(message.service_event)

    @work(exclusive=True, group="service", exit_on_error=False)
    async def _start_service(self) -> None:
        try:
            if self._service_factory is not None:
                # Built after the first frame: the client (httpx) and the service load while the screen shows.
                self.service = self._service_factory()
            self._unsubscribe = self.service.subscribe(self._service_callback)
            self.screen_dashboard.connected(self.keymap_problems)
            if self._own_service:
                await self.service.start()
        except Exception as error:
            self.say(str(error), title="Could not start", severity="error", timeout=10)
            return
        await self.screen_dashboard.opened()
        self.service_started = True
        if self._on_ready is not None:
            try:
                await self._on_ready(self.service)
            except Exception as error:
                self.say(str(error), title="Setup failed", severity="error", timeout=10)

    async def _close_service(self) -> None:
        # Not named _shutdown: that would override App._shutdown, which closes the driver and the widgets.
        if self._closed:
            return
        self._closed = True
        screen = self._installed_screens.get("dashboard")
        if isinstance(screen, DashboardScreen) and screen.populated:
            screen.closing()
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
            self.say(str(error), title="The theme was not saved", severity="warning")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Workers catch what they expect; anything else is a bug, shown rather than crashing the app.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.say(repr(event.worker.error), title="Something failed", severity="error", timeout=10)

    # --- the global keys: each asks the pane (or the screen) that does it ----------------------------------

    def action_help(self) -> None:
        from duvo_tui.ui.chrome.commands import help_sections
        from duvo_tui.ui.chrome.help_screen import HelpScreen

        self.push_screen(HelpScreen(help_sections(self.BINDINGS)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from duvo_tui.ui.chrome.commands import palette_commands

        yield from super().get_system_commands(screen)
        if isinstance(screen, DashboardScreen) and screen.populated:
            for title, help_, callback in palette_commands(screen, self.action_help):
                yield SystemCommand(title, help_, callback)


make_app = DuvoApp
"""The one way to build the dashboard (the CLI, the demo, the tests and the benchmarks all use it)."""
