"""The dashboard ends when its terminal goes away, and never blocks on a dead terminal.

A dropped SSH connection or a killed tmux session closes the terminal (the pty's master side), with or without
a SIGHUP. Textual's output thread then dies on the first write error, its bounded queue fills, and the next
frame blocks the event loop for good; its input thread spins on end-of-file. The process stays alive with no
terminal, polling the API on the user's key, deaf to SIGTERM (whose handler needs the blocked loop).

:class:`GuardedLinuxDriver` writes through a file that drops output once the terminal fails and watches the
terminal for a hang-up; either way it reports the loss once. :class:`StopGuard` turns that report and
SIGTERM/SIGHUP (caught in the main thread, not through the event loop) into the app's own quit, and ends the
process itself if that quit has not finished within :data:`GRACE_SECONDS`.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from textual.drivers.linux_driver import LinuxDriver

__all__ = ["GRACE_SECONDS", "GuardedLinuxDriver", "StopGuard"]

GRACE_SECONDS = 5.0
"""How long the app's own quit (saving the session and drafts, stopping the service) may take after a signal or
a lost terminal before the process ends without it."""

_POLL_MS = 250


class _TerminalFile:
    """The terminal's output file; after a write error (EIO, EPIPE, EBADF) it drops all output and reports once."""

    def __init__(self, file: IO[str], gone: Callable[[], None]) -> None:
        self._file = file
        self._gone = gone
        self.lost = False

    def _lose(self) -> None:
        if not self.lost:
            self.lost = True
            self._gone()

    def write(self, text: str) -> int:
        if not self.lost:
            try:
                return self._file.write(text)
            except (OSError, ValueError):
                self._lose()
        return len(text)

    def flush(self) -> None:
        if not self.lost:
            try:
                self._file.flush()
            except (OSError, ValueError):
                self._lose()

    def fileno(self) -> int:
        return self._file.fileno()

    def isatty(self) -> bool:
        return True


class GuardedLinuxDriver(LinuxDriver):
    """Textual's Linux driver, told by :class:`StopGuard` whom to tell when the terminal goes away."""

    on_terminal_lost: Callable[[], None] | None = None

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._lost_once = threading.Lock()
        self._lost = False
        self._file = _TerminalFile(self._file, self._terminal_lost)  # type: ignore[assignment, arg-type]
        self._watching = threading.Event()

    def _terminal_lost(self) -> None:
        with self._lost_once:
            if self._lost:
                return
            self._lost = True
        self.exit_event.set()  # the input thread stops reading a terminal that only returns end-of-file
        report = type(self).on_terminal_lost
        if report is not None:
            report()

    def start_application_mode(self) -> None:
        super().start_application_mode()  # type: ignore[no-untyped-call]
        self._watching.set()
        threading.Thread(target=self._watch_for_hangup, name="terminal-hangup", daemon=True).start()

    def stop_application_mode(self) -> None:
        self._watching.clear()
        super().stop_application_mode()

    def _watch_for_hangup(self) -> None:
        """Wait (without spinning) for the terminal to hang up: its other side closed or its line dropped."""
        if not os.isatty(self.fileno):
            return  # input from a pipe or a file ends without the terminal going away
        poller = select.poll()
        try:
            poller.register(self.fileno, select.POLLHUP | select.POLLERR)
        except (OSError, ValueError):
            return
        while self._watching.is_set():
            try:
                events = poller.poll(_POLL_MS)
            except OSError:
                return
            if any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _fd, mask in events):
                self._terminal_lost()
                return


class StopGuard:
    """Ends the app on SIGTERM, SIGHUP or a lost terminal: its own quit first, the process itself after a grace."""

    def __init__(self, app: Any, exit_status: Callable[[int], int], grace: float = GRACE_SECONDS) -> None:
        self.app = app
        self.exit_status = exit_status
        self.grace = grace
        self.ended_by: list[int] = []
        self.terminal_lost = False
        self._loop: Any = None
        self._previous: dict[int, Any] = {}
        self._lock = threading.Lock()

    def install(self, loop: Any, signals: list[int]) -> None:
        self._loop = loop
        for signum in signals:
            try:
                self._previous[signum] = signal.signal(signum, self._on_signal)
            except (OSError, ValueError):
                continue
        if getattr(self.app, "driver_class", None) is LinuxDriver:
            self.app.driver_class = type("DashboardDriver", (GuardedLinuxDriver,), {"on_terminal_lost": self.lost})

    def uninstall(self) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        self._previous.clear()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        # A Python-level handler runs in the main thread even when the event loop is stuck.
        self.stop(signum)

    def lost(self) -> None:
        """The terminal went away (from any thread): as a hang-up."""
        self.terminal_lost = True
        _silence_terminal()
        self.stop(signal.SIGHUP)

    def stop(self, signum: int) -> None:
        with self._lock:
            if self.ended_by:
                return
            self.ended_by.append(signum)
        threading.Thread(target=self._deadline, name="stop-deadline", daemon=True).start()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                # The app's own quit (what ``q`` does): it saves the session while the panes still exist.
                loop.call_soon_threadsafe(self.app.call_later, self.app.run_action, "quit")
            except RuntimeError:
                pass

    def _deadline(self) -> None:
        threading.Event().wait(self.grace)
        # Still here: the quit is stuck. End the process; an unsaved session beats a process that never ends.
        os._exit(self.exit_status(self.ended_by[0]))


def _silence_terminal() -> None:
    """Point stdout and stderr at /dev/null, so nothing written later (a traceback, a last flush) can fail or block."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                os.dup2(null, stream.fileno())
        except (OSError, ValueError):
            pass
    os.close(null)
