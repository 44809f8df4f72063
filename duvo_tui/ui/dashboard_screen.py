"""The main screen: header, the four panes (a grid when there is room, one at a time when not), footer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Tab, Tabs

from duvo_tui.ui.chrome.header import DashboardHeader
from duvo_tui.ui.chrome.key_hints import KeyHints
from duvo_tui.ui.panes import PANE_IDS, HumanRequestPane, MessagesPane, Pane, RunsPane, SandboxPane

__all__ = ["NARROW_HEIGHT", "NARROW_WIDTH", "DashboardScreen"]

NARROW_WIDTH = 100
"""Below this many columns the panes are shown one at a time."""
NARROW_HEIGHT = 30
"""Below this many rows the panes are shown one at a time."""

_PANE_NAMES = ("Runs", "Messages", "Sandbox", "Request")
# Where focus goes when a pane is chosen.
_PANE_FOCUS = ("#run-list", "#message-stream", "#sandbox-tree", "#human-request-pane")


class DashboardScreen(Screen):
    """Layout and moving between panes; the app feeds the panes."""

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
        profile: str,
        base_url: str,
        clock: Callable[[], datetime] | None = None,
        *,
        debug_log: str | None = None,
    ) -> None:
        super().__init__(id="dashboard")
        self.profile_name = profile
        self.base_url = base_url
        self.debug_log = debug_log
        self.clock = clock
        self.active_pane = 0
        self.populated = False
        """True once every pane's widgets are mounted (see :meth:`populate`)."""

    def compose(self) -> ComposeResult:
        yield DashboardHeader(self.profile_name, self.base_url, debug_log=self.debug_log, id="header")
        yield Tabs(*(Tab(f"{n + 1} {name}", id=f"tab-{n}") for n, name in enumerate(_PANE_NAMES)), id="pane-tabs")
        with Container(id="panes"):
            yield RunsPane(clock=self.clock, id="runs-pane", classes="pane -active")
            yield MessagesPane(id="messages-pane", classes="pane")
            yield HumanRequestPane(id="human-request-pane", classes="pane")
            yield SandboxPane(id="sandbox-pane", classes="pane")
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
        tabs = self.query_one(Tabs)
        if tabs.active != f"tab-{index}":
            tabs.active = f"tab-{index}"
        if not self.populated:
            return  # populate() focuses the active pane
        target = self.query_one(_PANE_FOCUS[index])
        self.call_after_refresh(self._focus_pane_widget, index, target)

    def _focus_pane_widget(self, index: int, target: Widget) -> None:
        # The answering form, when there is one, takes focus in the request pane.
        if index == 3:
            for widget in self.query_one("#human-request").query("*"):
                if widget.focusable:
                    widget.focus()
                    return
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
