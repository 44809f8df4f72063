"""Only matching messages: with a search on, one key hides every message of the run that does not match.

The stream itself stays a plain view of a list; this module decides which list it shows. While the
filter is on, new messages of the run are appended only when they match, and switching the filter off
(or choosing another run) shows every message again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from duvo_tui.api.models import Message
from duvo_tui.ui.stream.message_layout import message_plain_text

if TYPE_CHECKING:
    from duvo_tui.service.events import MessagesAppended
    from duvo_tui.ui.stream.message_stream import MessageStream

__all__ = ["StreamFilter"]


@dataclass
class StreamFilter:
    """The filter in force: the run it applies to and the literal, case-insensitive text. The messages pane owns it."""

    run_id: str | None = None
    query: str = ""

    def active_for(self, run_id: str | None) -> bool:
        return bool(self.query) and run_id is not None and run_id == self.run_id

    def matching(self, messages: Sequence[Message]) -> list[Message]:
        pattern = re.compile(re.escape(self.query), re.IGNORECASE)
        return [m for m in messages if pattern.search(message_plain_text(m))]

    def toggle(self, stream: MessageStream, messages: Sequence[Message]) -> tuple[str, str]:
        """Switch "only matching" on (using the stream's search text) or off, given the run's ``messages``;
        what to tell the person: a short title and the details."""
        run_id = stream.run_id
        if self.active_for(run_id):
            self.query = ""
            stream.set_messages(run_id, list(messages))
            return "Showing every message", "F shows only the matching ones again"
        query = stream.search_query
        if not run_id or not query:
            return "Search first", "/ in the messages pane searches; then F shows only the matching messages"
        self.run_id, self.query = run_id, query
        shown = self.matching(messages)
        stream.set_messages(run_id, shown)
        stream.set_search(query)  # keep the matches highlighted
        return f"Showing {len(shown)} matching", f"The messages that contain {query!r} (F again: all)"

    def append(self, stream: MessageStream, event: MessagesAppended) -> None:
        """Add the event's messages to ``stream``, through the filter when it is on."""
        if self.active_for(event.run_id) and stream.run_id == event.run_id:
            matching = self.matching(event.messages)
            if matching:
                stream.append(matching)
            return
        if self.run_id != stream.run_id:
            self.query = ""  # another run is in view: the filter belonged to the previous one
        stream.append(list(event.messages), event.start)

    def reset(self) -> None:
        """Another run came into view: the filter (which belonged to the previous one) is off."""
        self.query = ""
