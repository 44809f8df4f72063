"""Copy that works over SSH: text goes to the terminal's clipboard through OSC 52
(``App.copy_to_clipboard``), and, because no terminal says whether it accepted that, also to a file
in the state dir whose path the notification names.

What can be copied: the selected message, the visible page of the stream, the selected run's id, and
the ``curl`` command that fetches the selected run, with ``$DUVO_API_KEY`` in place of the key.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from duvo_tui import locations
from duvo_tui.text import clean

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["copy_text", "curl_command", "fallback_file", "visible_text"]


def fallback_file() -> Path:
    """Where the last copied text is also written."""
    return locations.state_dir() / "clipboard.txt"


def curl_command(base_url: str, run_id: str) -> str:
    """The ``curl`` command that fetches ``run_id``; the key is left to the shell's ``$DUVO_API_KEY``."""
    url = f"{base_url.rstrip('/')}/v1/runs/{run_id}"
    return f'curl -sS -H "Authorization: Bearer $DUVO_API_KEY" {shlex.quote(url)}'


def visible_text(widget: Any) -> str:
    """The text a Line-API widget shows now, one line per row, trailing blanks trimmed."""
    lines = []
    for y in range(widget.size.height):
        strip = widget.render_line(y)
        lines.append("".join(segment.text for segment in strip).rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def copy_text(app: App[Any], text: str, what: str) -> Path | None:
    """Send ``text`` to the clipboard (OSC 52) and to :func:`fallback_file`; tell the user both.

    Returns the fallback file, or None when it could not be written (the OSC 52 copy is still made).
    """
    text = clean(text)  # never pass escapes on to the terminal or a file
    app.copy_to_clipboard(text)
    path = fallback_file()
    try:
        locations.atomic_write(path, text, mode=0o600)
    except OSError as error:
        app.notify(
            f"To the clipboard (OSC 52); the fallback file failed: {error}",
            title=f"Copied {what}",
            markup=False,
            timeout=5,
        )
        return None
    app.notify(f"To the clipboard (OSC 52); also in {path}", title=f"Copied {what}", markup=False, timeout=5)
    return path
