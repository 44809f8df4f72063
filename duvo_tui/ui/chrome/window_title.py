"""The terminal window's title: ``(2) duvo-tui`` while two human requests wait, so tmux window lists and
terminal tabs show that a person is needed.

The title is set on the App (``App.title``) and written to the terminal with OSC 2, only when it
changed. It is built from clean text only: a profile label with escapes or controls cannot reach the
terminal through it.
"""

from __future__ import annotations

import re
from typing import Any

from duvo_tui.text import clean_line

__all__ = ["APP_NAME", "set_window_title", "window_title"]

APP_NAME = "duvo-tui"

# Anything that could end or extend the OSC sequence, beyond what clean_line already removes.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def window_title(pending: int, label: str | None = None) -> str:
    """``(2) duvo-tui · label``: the count only when requests wait, the label only when given."""
    title = APP_NAME
    if label:
        shown = _UNSAFE.sub("", clean_line(label, 40)).strip()
        if shown:
            title = f"{title} · {shown}"
    if pending > 0:
        title = f"({pending}) {title}"
    return title


def set_window_title(app: Any, pending: int, label: str | None = None) -> bool:
    """Set ``app.title`` and the terminal's title when they changed; True when they did."""
    title = window_title(pending, label)
    if app.title == title and getattr(app, "_duvo_terminal_title", None) == title:
        return False
    app.title = title
    driver = getattr(app, "_driver", None)
    if driver is not None and not getattr(driver, "is_headless", True):
        driver.write(f"\x1b]2;{title}\x07")
    app._duvo_terminal_title = title
    return True
