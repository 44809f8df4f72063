"""The main screen: header, the four panes (a grid when there is room, one at a time when not), footer.

It composes the panes and carries what passes between them: the service's events, each to the panes that show
it (:meth:`DashboardScreen.take`), and the selected run, which the runs pane holds and the other panes show.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Tab, Tabs

from duvo_tui.ui.chrome.global_keys import NEEDS_READY
from duvo_tui.ui.chrome.header import DashboardHeader
from duvo_tui.ui.chrome.key_hints import KeyHints
from duvo_tui.ui.chrome.profile_marks import apply_profile_marks
from duvo_tui.ui.hitl.request_pane import HumanRequestPane
from duvo_tui.ui.host import Host, profile_name
from duvo_tui.ui.panes import PANE_IDS, Pane
from duvo_tui.ui.runs.run_format import short_id
from duvo_tui.ui.runs.runs_pane import RunsPane
from duvo_tui.ui.sandbox.sandbox_pane import SandboxPane
from duvo_tui.ui.stream.messages_pane import MessagesPane

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from duvo_tui.api.models import HumanRequest
    from duvo_tui.service import events as ev
    from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
    from duvo_tui.ui.runs.run_list import RunList

__all__ = ["NARROW_HEIGHT", "NARROW_WIDTH", "DashboardScreen"]

log = logging.getLogger(__name__)

NARROW_WIDTH = 100
"""Below this many columns the panes are shown one at a time."""
NARROW_HEIGHT = 30
"""Below this many rows the panes are shown one at a time."""

_PANE_NAMES = ("Runs", "Messages", "Sandbox", "Request")
# Where focus goes when a pane is chosen.
_PANE_FOCUS = ("#run-list", "#message-stream", "#sandbox-tree", "#human-request-pane")


class DashboardScreen(Screen):
    """Layout, moving between panes, and what passes between them."""

    BINDINGS = [
        Binding("tab", "next_pane", "Next pane", show=False, id="pane.next", tooltip="Move to the next pane"),
        Binding("shift+tab", "previous_pane", "Previous pane", show=False, id="pane.previous"),
        Binding("1", "show_pane(0)", "Runs", show=False, id="pane.runs"),
        Binding("2", "show_pane(1)", "Messages", show=False, id="pane.messages"),
        Binding("3", "show_pane(2)", "Sandbox", show=False, id="pane.sandbox"),
        Binding("4", "show_pane(3)", "Human request", show=False, id="pane.request"),
    ]

    def __init__(
        self,
        host: Host,
        profile: str,
        base_url: str,
        clock: Callable[[], datetime] | None = None,
        *,
        debug_log: str | None = None,
    ) -> None:
        super().__init__(id="dashboard")
        self.host = host
        self.profile_name = profile
        self.base_url = base_url
        self.debug_log = debug_log
        self.clock = clock
        self.active_pane = 0
        self.populated = False
        """True once every pane's widgets are mounted (see :meth:`populate`)."""
        self.ready = False
        """True once the panes have their widgets and the service exists: the commands work from then on."""

    def compose(self) -> ComposeResult:
        yield DashboardHeader(self.profile_name, self.base_url, debug_log=self.debug_log, id="header")
        yield Tabs(*(Tab(f"{n + 1} {name}", id=f"tab-{n}") for n, name in enumerate(_PANE_NAMES)), id="pane-tabs")
        with Container(id="panes"):
            yield RunsPane(self.host, clock=self.clock, id="runs-pane", classes="pane -active")
            yield MessagesPane(self.host, id="messages-pane", classes="pane")
            yield HumanRequestPane(self.host, id="human-request-pane", classes="pane")
            yield SandboxPane(self.host, id="sandbox-pane", classes="pane")
        yield KeyHints(id="key-hints")

    def on_mount(self) -> None:
        self.query_one(Tabs).can_focus = False
        self._apply_size(self.size.width, self.size.height)

    async def populate(self) -> None:
        """Mount the panes' widgets (the first frame shows the panes empty); the app calls it after that frame."""
        if self.populated:
            return
        async with self.batch():
            for pane in self.query(Pane):
                await pane.populate()
        self.populated = True
        self.query_one(_PANE_FOCUS[self.active_pane]).focus()

    def on_resize(self, event: events.Resize) -> None:
        self._apply_size(event.size.width, event.size.height)
        self.call_after_refresh(self._place_notifications)

    @property
    def is_narrow(self) -> bool:
        return self.has_class("-narrow")

    def _apply_size(self, width: int, height: int) -> None:
        self.set_class(width < NARROW_WIDTH or height < NARROW_HEIGHT, "-narrow")

    def pane(self, index: int) -> Widget:
        return self.query_one(f"#{PANE_IDS[index]}")

    def action_show_pane(self, index: int) -> None:
        """Make pane ``index`` (0-3) the active one and focus it."""
        index %= len(PANE_IDS)
        self.active_pane = index
        for number, pane_id in enumerate(PANE_IDS):
            self.query_one(f"#{pane_id}").set_class(number == index, "-active")
        self._place_notifications()
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{index}":
            tabs.active = f"tab-{index}"
        if not self.populated:
            return  # populate() focuses the active pane
        target = self.query_one(_PANE_FOCUS[index])
        self.call_after_refresh(self._focus_pane_widget, index, target)

    def _focus_pane_widget(self, index: int, target: Widget) -> None:
        if index == 3:
            self.request_pane.focus_control()  # the answering form, when there is one
        else:
            target.focus()

    def action_next_pane(self) -> None:
        self._tab(1)

    def action_previous_pane(self) -> None:
        self._tab(-1)

    def _tab(self, step: int) -> None:
        """The next (or previous) control in screen order: within the pane first (e.g. the sandbox tree, then its
        upload line), then on to the next pane."""
        current = self._pane_of_focus()
        pane = self.query_one(f"#{PANE_IDS[current]}")
        controls = [w for w in self.focus_chain if pane in w.ancestors]  # shown and focusable, in screen order
        if self.focused in controls:
            index = controls.index(self.focused) + step
            if 0 <= index < len(controls):
                controls[index].focus()
                return
        order = self._pane_order()
        self.action_show_pane(order[(order.index(current) + step) % len(order)])

    def _pane_order(self) -> list[int]:
        """Panes in the order a person reads them: the tabs' order when one shows at a time, else by place."""
        if self.is_narrow:
            return list(range(len(PANE_IDS)))
        places = {index: self.pane(index).region for index in range(len(PANE_IDS))}
        return sorted(places, key=lambda index: (places[index].y, places[index].x))

    def _pane_of_focus(self) -> int:
        focused = self.focused
        while focused is not None:
            if focused.id in PANE_IDS:
                return PANE_IDS.index(focused.id)
            focused = focused.parent if isinstance(focused.parent, Widget) else None
        return self.active_pane

    @on(Tabs.TabActivated)
    def _on_tab(self, event: Tabs.TabActivated) -> None:
        if event.tab.id != event.tabs.active:
            return  # a tab that was active and no longer is (the pane moved on since): acting on it would undo that
        index = int((event.tab.id or "tab-0").split("-")[1])
        if index != self.active_pane:
            self.action_show_pane(index)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Mouse clicks move focus too: keep the active pane (and tabs) in step.
        index = self._pane_of_focus()
        if index != self.active_pane:
            self.active_pane = index
            for number, pane_id in enumerate(PANE_IDS):
                self.query_one(f"#{pane_id}").set_class(number == index, "-active")
            self.query_one(Tabs).active = f"tab-{index}"
            self._place_notifications()

    def _place_notifications(self) -> None:
        """Notifications sit in the bottom-right corner; when the pane there is the one in use, in the left one."""
        pane = self.pane(self.active_pane).region
        corner = bool(pane) and pane.right >= self.region.right - 1 and pane.bottom >= self.region.bottom - 2
        self.set_class(corner and not self.is_narrow, "-notify-left")

    # --- the panes, and what passes between them ---------------------------------------------------------

    @property
    def header(self) -> DashboardHeader:
        return self.query_one("#header", DashboardHeader)

    @property
    def runs_pane(self) -> RunsPane:
        return self.query_one("#runs-pane", RunsPane)

    @property
    def run_list(self) -> RunList:
        return self.runs_pane.run_list

    @property
    def messages_pane(self) -> MessagesPane:
        return self.query_one("#messages-pane", MessagesPane)

    @property
    def sandbox_pane(self) -> SandboxPane:
        return self.query_one("#sandbox-pane", SandboxPane)

    @property
    def request_pane(self) -> HumanRequestPane:
        return self.query_one("#human-request-pane", HumanRequestPane)

    @property
    def requests(self) -> dict[str, HumanRequest]:
        """What waits for a person: run id -> its pending request (held by the request pane)."""
        return self.request_pane.requests

    @property
    def selected(self) -> str | None:
        """The run the panes show (held by the runs pane)."""
        return self.runs_pane.selected

    def connected(self, keymap_problems: Sequence[str]) -> None:
        """The service exists (it starts next): the profile's marks in the header; what cannot be done, said."""
        host = self.host
        self.ready = True
        if warning := apply_profile_marks(self.header, host.profile, host.service):
            host.say(warning, title="Profile colour not used", severity="warning")
        if host.profile is not None and host.profile.watch:
            host.refuse_if_read_only("watch")  # the profile's watched folders are not watched: say so
        host.show_waiting(0)
        for problem in keymap_problems:
            host.say(problem, title="A key binding was not set", severity="warning", timeout=10)

    async def opened(self) -> None:
        """The service started: what it knew, where this profile was left, the uploads and watched folders."""
        service = self.host.service
        self.request_pane.load(service.pending_requests())
        self.runs_pane.load(service.runs(), self.requests)
        self._waiting_changed()
        self._restore()
        try:
            await self.sandbox_pane.attach_uploads()
        except Exception as error:
            self.host.say(str(error), title="Uploads are unavailable", severity="warning")

    def _restore(self) -> None:
        """Back where this profile was left (filter, selected run, pane), when that was kept."""
        from duvo_tui.ui.session import load_sessions

        session = load_sessions()[1].get(profile_name(self.host.profile))
        if session is None:
            return
        try:
            runs = self.run_list
            if session.run_filter:
                runs.filter_text = session.run_filter
            if session.run_id and runs.row(session.run_id) is not None:
                self.runs_pane.show(session.run_id)  # the filter may hide the run now: the run matters more
                self.select(session.run_id)
            self.action_show_pane(session.pane)
        except Exception:  # a widget that changed shape must not stop the dashboard from starting
            log.warning("could not restore the session", exc_info=True)

    def closing(self) -> None:
        """The app closes: remember where this profile was left."""
        from duvo_tui.ui.session import MAX_FILTER, ProfileSession, save

        try:
            where = ProfileSession(self.selected, self.run_list.filter_text[:MAX_FILTER], self.active_pane)
        except Exception:  # the dashboard is already gone (the app is being torn down): nothing to record
            log.debug("no dashboard to save the session of", exc_info=True)
            return
        save(profile_name(self.host.profile), where)

    def take(self, event: ev.Event) -> None:
        """One service event, to the panes that show it."""
        from duvo_tui.service import events as ev  # loaded with the first event, not at start

        runs, messages = self.runs_pane, self.messages_pane
        match event:
            case ev.RunAdded() | ev.RunRemoved():
                runs.take(event)
                if isinstance(event, ev.RunRemoved):
                    self.request_pane.forget(event.run_id)
                self._waiting_changed()
            case ev.RunChanged():
                runs.take(event)
                if event.run.id == self.selected:
                    self.sandbox_pane.show_run_sandbox(event.run.sandbox_id)
                    messages.show_title(runs.run_list.row(event.run.id))
                messages.take(event)
            case ev.MessagesAppended():
                if runs.first_message(event) and event.run_id == self.selected:
                    messages.show_title(runs.run_list.row(event.run_id))
                messages.take(event)
            case ev.HumanRequestAppeared():
                self._request_appeared(event.request)
            case ev.HumanRequestResolved():
                if self.request_pane.resolved(event):
                    runs.mark_pending(event.run_id, False)
                    self._waiting_changed()
                self._show_request()  # the selected run's request, or how many others wait (the form's "n next")
                self.request_pane.went_away(event)
            case ev.BudgetChanged() | ev.ConnectionLost() | ev.ConnectionRestored():
                self.header.take(event)
                messages.take(event)
            case ev.Connected() | ev.AuthFailed():
                self.header.take(event)
            case ev.RunError():
                self.host.say(event.message, title=f"Error on run {short_id(event.run_id)}", severity="error")
            case ev.Notice():
                severity: SeverityLevel = (
                    "warning" if event.level == "warning" else "error" if event.level == "error" else "information"
                )
                # A warning (a state folder open to others, say) stays long enough to be read; information goes quickly.
                title = event.title or {"warning": "Warning", "error": "Error"}.get(severity, "Note")
                self.host.say(
                    event.message, title=title, severity=severity, timeout=4 if severity == "information" else 12
                )
            case ev.WatchStatus() | ev.UploadQueued() | ev.UploadProgress() | ev.UploadFinished() | ev.UploadFailed():
                self.sandbox_pane.take(event)

    def _request_appeared(self, request: HumanRequest) -> None:
        is_new = self.request_pane.appeared(request)
        self.runs_pane.mark_pending(request.run_id, True)
        self._waiting_changed()
        self._show_request()  # the selected run's request, or how many others wait (the form's "n next")
        if is_new:
            row = self.run_list.row(request.run_id)
            self.request_pane.announce(row.agent if row else short_id(request.run_id), request)

    def _waiting_changed(self) -> None:
        self.header.waiting = len(self.requests)
        self.runs_pane.refresh_title()
        self.host.show_waiting(len(self.requests))

    def select(self, run_id: str | None) -> None:
        """Show ``run_id`` in the messages, sandbox and request panes, and ask the service to focus it."""
        runs = self.runs_pane
        if run_id == runs.selected:
            return
        runs.selected = run_id
        service = self.host.service
        try:
            service.focus(run_id)
        except Exception as error:
            self.host.say(str(error), title="Could not focus the run", severity="warning")
        tracked = service.run(run_id) if run_id else None
        messages = list(service.messages(run_id)) if run_id else []
        self.messages_pane.show_run(run_id, messages, tracked.status if tracked else "")
        row = runs.run_list.row(run_id) if run_id else None
        self.messages_pane.show_title(row)
        self.sandbox_pane.show_run_sandbox(row.run.sandbox_id if row else None)
        self._show_request()

    def _show_request(self) -> None:
        row = self.run_list.row(self.selected) if self.selected else None
        self.request_pane.show_for(self.selected, row.agent if row else "")

    def on_run_list_highlighted(self, event: RunList.Highlighted) -> None:
        self.select(event.run_id)

    def on_run_list_opened(self, event: RunList.Opened) -> None:
        self.action_show_pane(1)

    def jump_to(self, run_id: str) -> None:
        """Select ``run_id`` and move to the request pane (its form takes focus)."""
        self.runs_pane.show(run_id)
        self.select(run_id)
        self.action_show_pane(3)

    def next_waiting(self) -> None:
        """The next run (in the list's order) waiting for a person, in the request pane."""
        waiting = [run_id for run_id in self.run_list.visible_ids if run_id in self.requests]
        waiting += [run_id for run_id in self.requests if run_id not in waiting]
        if not waiting:
            self.host.say("No run is waiting for a person")
            return
        after = waiting.index(self.selected) + 1 if self.selected in waiting else 0
        self.jump_to(waiting[after % len(waiting)])

    def open_inbox(self) -> None:
        self.request_pane.open_inbox(self.runs_pane.label, self.jump_to)

    def on_human_request_form_answered(self, event: HumanRequestForm.Answered) -> None:
        """The server took an answer: confirm it wherever the focus goes next, and give the keyboard back, to
        the next waiting request when there is one, else to the run list."""
        self.host.say(event.summary, timeout=6)
        service = self.host.service
        waiting = {r.run_id for r in service.pending_requests() if r.id != event.request_id}
        waiting.discard(event.run_id)
        order = [run_id for run_id in self.run_list.visible_ids if run_id in waiting]
        following = order + sorted(waiting - set(order))
        if following:
            self.jump_to(following[0])
        else:
            self.action_show_pane(0)

    # --- the app's keys that act on runs (ui/chrome/global_keys.py): each asks the pane that does it ----------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Until the dashboard is ready (a fraction of a second after its first frame), the commands that need
        # the panes or the service are shown but do nothing.
        if action in NEEDS_READY and not self.ready:
            return None
        if action in ("next_waiting", "inbox") and not self.requests:
            return False  # the footer offers only what works now: nothing waits for a person
        if action == "next_waiting" and set(self.requests) == {self.selected} and self.populated:
            # The only waiting request is the one in the request pane already: n would go nowhere from there.
            return self.active_pane != 3
        return True

    def action_start_run(self) -> None:
        self.runs_pane.start_run()

    def action_stop_run(self) -> None:
        self.runs_pane.stop_selected()

    def action_refresh_run(self) -> None:
        self.runs_pane.refresh_selected()

    def action_add_run(self) -> None:
        self.runs_pane.add_run()

    def action_copy_run_id(self) -> None:
        self.runs_pane.copy_run_id()

    def action_copy_curl(self) -> None:
        self.runs_pane.copy_curl()

    def action_next_waiting(self) -> None:
        self.next_waiting()

    def action_inbox(self) -> None:
        self.open_inbox()

    def action_filter_messages(self) -> None:
        self.messages_pane.filter_matching()

    def action_copy_page(self) -> None:
        self.messages_pane.copy_page()
