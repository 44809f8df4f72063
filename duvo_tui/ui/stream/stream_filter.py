"""Only matching messages: with a search on, one key hides every message of the run that does not match.

The stream itself stays a plain view of a list; this module decides which list it shows. While the
filter is on, new messages of the run are appended only when they match, and switching the filter off
(or choosing another run) shows every message again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from duvo_tui.api.models import Message
from duvo_tui.ui.stream.message_layout import message_plain_text

__all__ = ["StreamFilter", "append_to_stream", "reset_filter", "toggle_filter"]


@dataclass
class StreamFilter:
    """The filter in force: the run it applies to and the literal, case-insensitive text."""

    run_id: str | None = None
    query: str = ""

    def active_for(self, run_id: str | None) -> bool:
        return bool(self.query) and run_id is not None and run_id == self.run_id

    def matching(self, messages: Sequence[Message]) -> list[Message]:
        pattern = re.compile(re.escape(self.query), re.IGNORECASE)
        return [m for m in messages if pattern.search(message_plain_text(m))]


def _filter(app: Any) -> StreamFilter:
    state = getattr(app, "_stream_filter", None)
    if state is None:
        state = StreamFilter()
        app._stream_filter = state
    return state


def toggle_filter(app: Any, stream: Any) -> bool:
    """Switch "only matching" on (using the stream's search text) or off; True when it is now on."""
    state = _filter(app)
    run_id = stream.run_id
    if state.active_for(run_id):
        state.query = ""
        stream.set_messages(run_id, app.service.messages(run_id))
        app.say("Showing every message")
        return False
    query = stream.search_query
    if not run_id or not query:
        app.say("Search first (/ in the messages pane), then F shows only the matching messages")
        return False
    state.run_id, state.query = run_id, query
    shown = state.matching(app.service.messages(run_id))
    stream.set_messages(run_id, shown)
    stream.set_search(query)  # keep the matches highlighted
    app.say(f"Showing {len(shown)} messages that contain {query!r} (F again: all)")
    return True


def append_to_stream(app: Any, stream: Any, event: Any) -> None:
    """Add a ``MessagesAppended`` event's messages to ``stream``, through the filter when it is on."""
    state = _filter(app)
    if state.active_for(event.run_id) and stream.run_id == event.run_id:
        matching = state.matching(event.messages)
        if matching:
            stream.append(matching)
        return
    if state.run_id != stream.run_id:
        state.query = ""  # another run is in view: the filter belonged to the previous one
    stream.append(list(event.messages), event.start)


def reset_filter(app: Any) -> None:
    """Another run came into view: the filter (which belonged to the previous one) is off."""
    _filter(app).query = ""
