"""Telling the person that a run waits for them: a toast, the terminal bell, a desktop notification.

Desktop notifications are escape sequences some terminals turn into system notifications: OSC 9
(iTerm2, WezTerm, Ghostty, kitty, Windows Terminal) and OSC 777 (VTE terminals such as GNOME Terminal,
foot, Konsole's newer versions). A terminal that does not know them may print garbage, so the sequence is
only sent when the terminal is recognised or the user asked for it. Over SSH the terminal's identity
usually does not travel, so it stays off unless configured.

Settings come from the environment (``DUVO_TUI_BELL=0|1``, ``DUVO_TUI_DESKTOP_NOTIFY=auto|osc9|osc777|off``)
or from a :class:`NotifySettings` given by the caller.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.notifications import Notification, Notify

from duvo_tui.text import clean_line

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["ONE_LINE", "Notifier", "NotifySettings", "desktop_sequence", "detect_desktop_protocol", "fits_one_line"]

ONE_LINE = 31
"""Cells of text a notification shows when it has one line (at 80x24 and on dialogs): ``Toast`` is 34 wide there
(styles/dashboard.tcss), less its border and padding. A confirmation meant to be read whole stays within it."""


def fits_one_line(text: str) -> bool:
    """True when ``text`` is read whole in a one-line notification."""
    from rich.cells import cell_len

    return "\n" not in text and cell_len(text) <= ONE_LINE


PROTOCOLS = ("osc9", "osc777")

# Terminals known to show OSC 9 / OSC 777 as desktop notifications, by TERM_PROGRAM or TERM.
_OSC9_PROGRAMS = {"iterm.app", "wezterm", "ghostty", "warpterminal"}
_OSC9_TERMS = ("xterm-kitty", "xterm-ghostty", "wezterm")
_OSC777_TERMS = ("foot",)


@dataclass
class NotifySettings:
    """How a new human request is announced."""

    toast: bool = True
    """Show a notification inside duvo-tui."""
    bell: bool = True
    """Ring the terminal bell."""
    desktop: str = "auto"
    """Desktop notification escape: ``auto`` (only for recognised terminals), ``osc9``, ``osc777`` or ``off``."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> NotifySettings:
        """Settings from ``DUVO_TUI_BELL`` and ``DUVO_TUI_DESKTOP_NOTIFY`` (bad values keep the default)."""
        env = os.environ if env is None else env
        settings = cls()
        bell = env.get("DUVO_TUI_BELL", "").strip().lower()
        if bell in ("0", "false", "no", "off"):
            settings.bell = False
        elif bell in ("1", "true", "yes", "on"):
            settings.bell = True
        desktop = env.get("DUVO_TUI_DESKTOP_NOTIFY", "").strip().lower()
        if desktop in ("auto", "off", *PROTOCOLS):
            settings.desktop = desktop
        return settings


def detect_desktop_protocol(env: Mapping[str, str] | None = None) -> str | None:
    """The desktop-notification escape the terminal is known to understand, or None when unsure."""
    env = os.environ if env is None else env
    program = env.get("TERM_PROGRAM", "").lower()
    term = env.get("TERM", "").lower()
    if program in _OSC9_PROGRAMS or env.get("WT_SESSION") or any(term.startswith(t) for t in _OSC9_TERMS):
        return "osc9"
    if env.get("VTE_VERSION") or any(term.startswith(t) for t in _OSC777_TERMS):
        return "osc777"
    # Nothing recognised (typical over plain SSH, where TERM_PROGRAM is not forwarded): send nothing.
    return None


_UNSAFE = re.compile(r"[;\x07\x1b\x9c]")


def desktop_sequence(protocol: str, title: str, body: str) -> str:
    """The escape sequence for a desktop notification; server text is cleaned and cannot end it early."""
    safe_title = _UNSAFE.sub(" ", clean_line(title, 80))
    safe_body = _UNSAFE.sub(" ", clean_line(body, 200))
    if protocol == "osc777":
        return f"\x1b]777;notify;{safe_title};{safe_body}\x1b\\"
    if protocol == "osc9":
        # OSC 9 has no title: put both in the message.
        return f"\x1b]9;{safe_title}: {safe_body}\x1b\\"
    raise ValueError(f"unknown desktop notification protocol {protocol!r}")


ANSWER_HINT = "n: answer it"
TOAST_SECONDS = 8.0
"""How long an announcement shows (from the latest request it names)."""
LISTED = 3
"""Requests named in one announcement; more are counted."""


class Notifier:
    """Announces new requests through an app (anything with ``post_message``, ``bell`` and a driver).

    One announcement at a time: a request that arrives while the last announcement still shows replaces it with
    one naming them all ("2 runs wait for you"), never a second toast saying the same.
    """

    def __init__(self, settings: NotifySettings | None = None, env: Mapping[str, str] | None = None) -> None:
        self.settings = settings or NotifySettings.from_env(env)
        desktop = self.settings.desktop
        self.protocol: str | None = detect_desktop_protocol(env) if desktop == "auto" else desktop
        if self.protocol not in PROTOCOLS:
            self.protocol = None
        self.sent: list[str] = []
        """What was written to the terminal (for tests and the log)."""
        self._toast: Notification | None = None
        self._named: list[tuple[str, str, str]] = []
        """What the toast on screen announces: (who, title, hint), oldest first."""

    def announce(self, app: App[Any], who: str, title: str, hint: str = ANSWER_HINT) -> None:
        """Tell the person that ``who`` asks ``title`` (``hint``: what to do). Server text is shown literally."""
        who_text, title_text = clean_line(who, 80), clean_line(title or "a person is needed", 300)
        if self.settings.toast:
            self._show(app, (who_text, title_text, hint))
        if self.settings.bell:
            self._write(app, "\a")
        if self.protocol is not None:
            self._write(app, desktop_sequence(self.protocol, f"duvo-tui: {who_text}", title_text))

    def _show(self, app: App[Any], entry: tuple[str, str, str]) -> None:
        previous = self._toast
        if previous is not None and not previous.has_expired:
            # Still on screen: expired now, so the app drops it as the new one arrives (Notifications.add reaps
            # what has expired, and the toast rack removes toasts no longer listed).
            previous.timeout = 0
            self._named.append(entry)
        else:
            self._named = [entry]
        count = len(self._named)
        if count == 1:
            who, title, hint = entry
            message, heading = f"{who} asks: {title}  ({hint})", "A run waits for you"
        else:
            lines = [
                f"{who} asks: {title}" + ("" if hint == ANSWER_HINT else f"  ({hint})")
                for who, title, hint in self._named[-LISTED:]
            ]
            if count > LISTED:
                lines.insert(0, f"… and {count - LISTED} more")
            lines.append("(n: next waiting · N: inbox)")
            message, heading = "\n".join(lines), f"{count} runs wait for you"
        self._toast = Notification(message, heading, "warning", TOAST_SECONDS, markup=False)
        app.post_message(Notify(self._toast))

    def _write(self, app: App[Any], data: str) -> None:
        self.sent.append(data)
        driver = getattr(app, "_driver", None)
        if driver is None or getattr(app, "is_headless", False):
            return
        try:
            driver.write(data)
        except Exception:
            pass
