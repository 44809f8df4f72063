"""The four panes of the dashboard: runs, messages, sandbox, human request.

Each pane is a container with a numbered border title; the widgets inside do the work. Panes turn their
inputs into messages for the app; they never call the service.

The first frame shows the panes empty (their frames and titles): their widgets, and the modules that define
them, are loaded right after it by :meth:`Pane.populate`, so the dashboard appears before the bulk of its code
has been imported. Nothing can reach a pane's widgets before then: the app starts the service only once every
pane is populated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

if TYPE_CHECKING:
    from collections.abc import Sequence

    from textual.widgets import Input

    from duvo_tui.api.models import Message as RunMessage
    from duvo_tui.service.events import Event
    from duvo_tui.ui.runs.run_list import RunList
    from duvo_tui.ui.stream.message_stream import MessageStream
    from duvo_tui.ui.stream.stream_filter import StreamFilter
    from duvo_tui.ui.stream.stream_health import StreamHealth

__all__ = ["PANE_IDS", "HumanRequestPane", "MessagesPane", "Pane", "RunsPane", "SandboxPane"]

PANE_IDS = ("runs-pane", "messages-pane", "sandbox-pane", "human-request-pane")
"""Panes in the order of the keys 1-4."""


class Pane(Widget):
    """A pane whose widgets are composed by :meth:`compose_content` once :meth:`populate` is called."""

    populated = False

    def compose(self) -> ComposeResult:
        if self.populated:
            yield from self.compose_content()

    def compose_content(self) -> ComposeResult:
        """The pane's widgets (import their modules here, not at the top of this module)."""
        yield from ()

    async def populate(self) -> None:
        """Mount the pane's widgets (once)."""
        if not self.populated:
            self.populated = True
            await self.recompose()


class RunsPane(Pane, Vertical):
    """The run list with its filter line."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="runs.filter", tooltip="Show only runs that contain some text"),
    ]

    def __init__(self, clock: Callable[[], datetime] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.border_title = "1 Runs"

    def compose_content(self) -> ComposeResult:
        from textual.widgets import Input

        from duvo_tui.ui.runs.run_list import RunList

        yield Input(placeholder="filter runs (esc clears)", id="run-filter", compact=True, classes="-hidden")
        yield RunList(clock=self.clock, id="run-list")

    @property
    def run_list(self) -> RunList:
        return self.query_one("#run-list")  # type: ignore[return-value]  # found by id: the widget's module is loaded with its pane, not here

    def action_filter(self) -> None:
        box = self.query_one("#run-filter")
        box.remove_class("-hidden")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "run-filter":
            self.run_list.filter_text = event.value
            self._update_title()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "run-filter":
            if not event.value.strip():
                event.input.add_class("-hidden")
            self.run_list.focus()

    def on_key(self, event) -> None:
        if not self.populated:
            return
        box: Input = self.query_one("#run-filter")  # type: ignore[assignment]  # found by id: the widget's module is loaded with its pane, not here
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.value = ""
            box.add_class("-hidden")
            self.run_list.focus()

    def _update_title(self) -> None:
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

    def on_run_list_highlighted(self) -> None:
        self._update_title()

    def refresh_title(self) -> None:
        """Recount after the list changed."""
        self._update_title()


class StatusLine(Widget):
    """One line of plain text; changing it repaints the line only (no layout pass)."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    text: reactive[str] = reactive("", layout=False)

    def render(self) -> Text:
        return Text(self.text, no_wrap=True, overflow="ellipsis", end="")


class MessagesPane(Pane, Vertical):
    """The selected run's message stream, a search line, a status line and the post-a-message input."""

    BINDINGS = [
        Binding("slash", "search", "Search", id="messages.search", tooltip="Find text in this run's messages"),
        Binding("i", "compose", "Post", id="messages.post", tooltip="Write a message to the run"),
        Binding("ctrl+s", "save", "Save", id="messages.save", tooltip="Save the transcript to a file"),
    ]

    @dataclass
    class PostRequested(Message):
        """The user wants to send ``text`` to ``run_id``."""

        run_id: str
        text: str

    @dataclass
    class SaveRequested(Message):
        """The user wants the transcript saved."""

        run_id: str

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "2 Messages"
        # The pane's own state about its stream, made when first needed (their modules load with the widgets).
        self._filter: StreamFilter | None = None
        self._health: StreamHealth | None = None
        self._health_text: str | None = None

    # --- the stream's run, its filter and its health ---------------------------------------------------

    @property
    def stream_filter(self) -> StreamFilter:
        """"Only matching messages" for the run in view."""
        if self._filter is None:
            from duvo_tui.ui.stream.stream_filter import StreamFilter

            self._filter = StreamFilter()
        return self._filter

    @property
    def stream_health(self) -> StreamHealth:
        """How fresh the stream is; shown under the border, checked by one slow timer of the pane's own."""
        if self._health is None:
            from duvo_tui.ui.stream.stream_health import StreamHealth

            self._health = StreamHealth()
            # Slow, and cheap when nothing changed: the text is compared before anything is set.
            self.set_interval(5.0, self.show_health)
        return self._health

    def show_run(self, run_id: str | None, messages: Sequence[RunMessage], status: str) -> None:
        """Another run came into view: its messages, no filter, its stream fresh from now."""
        self.stream.set_messages(run_id, list(messages))
        self.stream_filter.reset()
        self.stream_health.select(run_id, status)
        self.update_status()
        self.show_health()

    def take_event(self, event: Event, selected: str | None) -> None:
        """A service event: the selected run's new messages go into the stream; everything feeds its health."""
        from duvo_tui.service.events import MessagesAppended

        if isinstance(event, MessagesAppended) and event.run_id == selected:
            self.stream_filter.append(self.stream, event)
        self.stream_health.observe(event)
        self.show_health()

    def toggle_filter(self, messages: Sequence[RunMessage]) -> str:
        """Only the matching messages of the run in view, or all again; what to tell the person."""
        return self.stream_filter.toggle(self.stream, messages)

    def show_health(self) -> None:
        text = self.stream_health.describe()
        if text == self._health_text:
            return
        self._health_text = text
        self.border_subtitle = Content(f"stream: {text}") if text else ""

    def compose_content(self) -> ComposeResult:
        from textual.widgets import Input

        from duvo_tui.ui.stream.message_stream import MessageStream

        yield MessageStream(id="message-stream")
        yield Input(
            placeholder="search (enter: next, esc: close)", id="message-search", compact=True, classes="-hidden"
        )
        yield StatusLine(id="stream-status")
        yield Input(placeholder="i: write to this run, enter sends", id="post-input", compact=True)

    @property
    def stream(self) -> MessageStream:
        return self.query_one("#message-stream")  # type: ignore[return-value]  # found by id: the widget's module is loaded with its pane, not here

    def action_search(self) -> None:
        box = self.query_one("#message-search")
        box.remove_class("-hidden")
        box.focus()

    def action_compose(self) -> None:
        self.query_one("#post-input").focus()

    def action_save(self) -> None:
        if self.stream.run_id is not None:
            self.post_message(self.SaveRequested(self.stream.run_id))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "message-search":
            self.stream.set_search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "message-search":
            self.stream.search(forward=True)
        elif event.input.id == "post-input":
            self._post(event)

    def _post(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip():
            return
        if self.stream.run_id is None:
            self.notify("Select a run first", severity="warning", timeout=2)
            return
        event.input.value = ""
        self.post_message(self.PostRequested(self.stream.run_id, text))

    def restore_draft(self, text: str) -> None:
        """Put back a message that could not be sent (nothing the user typed is lost)."""
        box: Input = self.query_one("#post-input")  # type: ignore[assignment]  # found by id: the widget's module is loaded with its pane, not here
        if not box.value:
            box.value = text

    def on_key(self, event) -> None:
        if event.key != "escape" or not self.populated:
            return
        search: Input = self.query_one("#message-search")  # type: ignore[assignment]  # found by id: the widget's module is loaded with its pane, not here
        post = self.query_one("#post-input")
        if search.has_focus:
            event.stop()
            search.value = ""
            search.add_class("-hidden")
            self.stream.focus()
        elif post.has_focus:
            event.stop()
            self.stream.focus()

    def on_message_stream_state_changed(self, event: MessageStream.StateChanged) -> None:
        self.update_status()

    def update_status(self) -> None:
        """Redraw the one-line summary under the stream."""
        if not self.populated:
            return
        stream = self.stream
        parts = [
            f"{stream.message_count} msgs",
            ("● follow" if stream.follow else "○ follow (f)"),
            ("wrap" if stream.wrap else "no wrap"),
        ]
        if stream.timestamps:
            parts.append("times")
        if stream.search_query:
            parts.append("search: " + stream.search_query)
        self.query_one("#stream-status", StatusLine).text = " · ".join(parts)


class SandboxPane(Pane, Vertical):
    """The sandbox tree and, under it, the upload and folder-watch status."""

    BINDINGS = [
        Binding("u", "upload", "Upload", id="sandbox.upload", tooltip="Type the path of a file to upload"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "3 Sandbox"

    def compose_content(self) -> ComposeResult:
        from duvo_tui.ui.sandbox.sandbox_tree import SandboxTree

        yield SandboxTree(id="sandbox-tree")
        yield Vertical(id="upload-status")

    def action_upload(self) -> None:
        for box in self.query("#upload-path"):
            if box.focusable:
                box.focus()

    def on_key(self, event) -> None:
        # esc leaves the upload line (what was typed stays) for the tree.
        if event.key == "escape" and self.populated and any(b.has_focus for b in self.query("#upload-path")):
            event.stop()
            self.query_one("#sandbox-tree").focus()


class HumanRequestPane(Pane, VerticalScroll, can_focus=True):
    """The selected run's pending request; the answering form is mounted in ``#human-request``."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "4 Human request"

    def compose_content(self) -> ComposeResult:
        from duvo_tui.ui.hitl.human_request_view import HumanRequestView

        with Vertical(id="human-request"):
            yield HumanRequestView(id="human-request-view")
            # The answering form (ui/hitl/hitl_form.py) is mounted here when a request is first shown
            # (ui/hitl/hitl_desk.py).
