"""Pane 2, the messages: the selected run's stream, a search line, a status line and the post-a-message input.

It owns what belongs to the stream in view: its filter ("only matching"), its health (live, reconnecting,
stale...) and its title; it posts messages to the run and saves or copies what it shows, through the service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from duvo_tui.ui.host import Host
from duvo_tui.ui.panes import Pane
from duvo_tui.ui.runs.run_format import short_id

if TYPE_CHECKING:
    from textual import events
    from textual.widgets import Input

    from duvo_tui.api.models import Message as RunMessage
    from duvo_tui.service import events as ev
    from duvo_tui.ui.runs.run_format import RunRow
    from duvo_tui.ui.stream.message_stream import MessageStream
    from duvo_tui.ui.stream.stream_filter import StreamFilter
    from duvo_tui.ui.stream.stream_health import StreamHealth

__all__ = ["MessagesPane", "StatusLine"]


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
        """The person wants to send ``text`` to ``run_id`` (the pane sends it)."""

        run_id: str
        text: str

    def __init__(self, host: Host, **kwargs) -> None:
        super().__init__(host, **kwargs)
        self.border_title = "2 Messages"
        # The pane's own state about its stream, made when first needed (their modules load with the widgets).
        self._filter: StreamFilter | None = None
        self._health: StreamHealth | None = None
        self._health_text: str | None = None

    # --- the stream's run, its filter and its health ---------------------------------------------------

    @property
    def stream_filter(self) -> StreamFilter:
        """ "Only matching messages" for the run in view."""
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

    def show_title(self, row: RunRow | None) -> None:
        """The run in view named in the border: its agent and title."""
        # Content, not a str: a title is server text and a str border title is parsed as markup.
        self.border_title = Content(f"2 Messages · {row.agent} · {row.title}") if row else "2 Messages"

    def take(
        self, event: ev.MessagesAppended | ev.RunChanged | ev.ConnectionLost | ev.ConnectionRestored | ev.BudgetChanged
    ) -> None:
        """The run in view's new messages go into the stream; the events that say how fresh it is, to its health."""
        from duvo_tui.service.events import MessagesAppended

        if isinstance(event, MessagesAppended) and event.run_id == self.stream.run_id:
            self.stream_filter.append(self.stream, event)
        self.stream_health.observe(event)
        self.show_health()

    def filter_matching(self) -> None:
        """Only the matching messages of the run in view, or all again; said in a notification."""
        run_id = self.stream.run_id
        messages = self.host.service.messages(run_id) if run_id else []
        title, detail = self.stream_filter.toggle(self.stream, messages)
        self.host.say(detail, title=title)

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

    # --- search, post, save, copy -----------------------------------------------------------------------

    def action_search(self) -> None:
        box = self.query_one("#message-search")
        box.remove_class("-hidden")
        box.focus()

    def action_compose(self) -> None:
        self.query_one("#post-input").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "message-search":
            self.stream.set_search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "message-search":
            self.stream.search(forward=True)
        elif event.input.id == "post-input":
            self._post_typed(event)

    def _post_typed(self, event: Input.Submitted) -> None:
        text = event.value
        if not text.strip():
            return
        if self.stream.run_id is None:
            self.notify("Select a run first", severity="warning", timeout=2)
            return
        event.input.value = ""
        self.post_message(self.PostRequested(self.stream.run_id, text))

    def on_messages_pane_post_requested(self, event: PostRequested) -> None:
        event.stop()
        if self.host.refuse_if_read_only("post messages"):
            self.restore_draft(event.text)
            return
        self._post(event.run_id, event.text)

    @work(group="post", exit_on_error=False)
    async def _post(self, run_id: str, text: str) -> None:
        try:
            await self.host.service.post_message(run_id, text)
        except Exception as error:
            self.restore_draft(text)
            self.host.say(str(error), title="The message was not sent", severity="error")
            return
        self.host.say("Message sent", timeout=2)

    def restore_draft(self, text: str) -> None:
        """Put back a message that could not be sent (nothing the user typed is lost)."""
        box: Input = self.query_one("#post-input")  # type: ignore[assignment]  # found by id: the widget's module is loaded with its pane, not here
        if not box.value:
            box.value = text

    def action_save(self) -> None:
        run_id = self.stream.run_id
        if run_id is None:
            return
        default = str(Path.cwd() / f"duvo-run-{short_id(run_id)}.txt")
        from duvo_tui.ui.dialogs import PromptScreen

        self.app.push_screen(PromptScreen("Save the transcript to", "file path", default), self.save_transcript)

    def save_transcript(self, path: str | None) -> None:
        """Write the run's transcript to ``path`` (private: a transcript may hold secrets)."""
        if not path:
            return
        from duvo_tui.locations import atomic_write

        stream = self.stream
        target = Path(path).expanduser()
        try:
            atomic_write(target, stream.transcript(), mode=0o600)
        except OSError as error:
            self.host.say(str(error), title="Could not save the messages", severity="error")
            return
        self.host.say(f"In {target}", title=f"Saved {stream.message_count} messages")

    def copy_page(self) -> None:
        from duvo_tui.ui.chrome.clipboard import copy_text, visible_text

        copy_text(self.app, visible_text(self.stream), "the visible messages")

    # --- keys and the status line -----------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
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
