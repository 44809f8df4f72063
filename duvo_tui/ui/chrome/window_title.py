"""The terminal window's title: ``(2) duvo-tui`` while two human requests wait, so tmux window lists and
terminal tabs show that a person is needed.

The app sets it (``App.title``) and writes it to the terminal with OSC 2, only when :class:`WindowTitle`
says it changed. It is built from clean text only: a profile label with escapes or controls cannot reach the
terminal through it.
"""

from __future__ import annotations

import re
from typing import Any

from textual.app import App

from duvo_tui.text import clean_line

__all__ = ["APP_NAME", "WindowTitle", "window_title"]

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


class WindowTitle:
    """The title last written to the terminal: a new one is written only when it differs."""

    def __init__(self) -> None:
        self.written: str | None = None

    def changed(self, pending: int, label: str | None = None) -> str | None:
        """The title to write now, or None when the terminal already shows it."""
        title = window_title(pending, label)
        if title == self.written:
            return None
        self.written = title
        return title

    def show(self, app: App[Any], pending: int, label: str | None = None) -> None:
        """Put the title in ``app.title`` and, on a real terminal, in its window title (OSC 2), when it changed."""
        title = self.changed(pending, label)
        if title is None:
            return
        app.title = title
        driver = app._driver
        if driver is not None and not driver.is_headless:
            driver.write(f"\x1b]2;{title}\x07")
