"""``--debug``: request logs and tracebacks with keys masked, on stderr or, under the dashboard, in a file.

A full-screen dashboard owns the terminal, so its log lines go to a file of their own in the state folder
(``logs/debug-<time>-<pid>.log``, created 0600); the dashboard shows its path in the header and it is printed on
exit. The newest :data:`KEEP` such files are kept.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from duvo_tui.cli.secrets import scrub

__all__ = ["KEEP", "new_log_file", "setup_debug_logging", "shown_path"]

KEEP = 10
"""How many debug log files the state folder keeps (the oldest go when a new one is made)."""

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def new_log_file(folder: Path | None = None) -> Path:
    """A new, empty debug log file only its owner can read, in ``folder`` (default: the state folder's
    ``logs``); older ones beyond :data:`KEEP` are removed. Raises ``OSError`` when it cannot be made."""
    from duvo_tui.locations import ensure_private_dir, state_dir

    folder = ensure_private_dir(state_dir() / "logs" if folder is None else folder)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = folder / f"debug-{stamp}-{os.getpid()}.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    _prune(folder, keep=path)
    return path


def _prune(folder: Path, keep: Path) -> None:
    try:
        logs = sorted(folder.glob("debug-*.log"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in [log for log in logs if log != keep][KEEP - 1 :]:
        try:
            old.unlink()
        except OSError:
            pass


def shown_path(path: Path) -> str:
    """``path`` as a person reads it: under the home folder as ``~/...``."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except (ValueError, RuntimeError):
        return str(path)


def setup_debug_logging(log_file: Path | None = None) -> Callable[[], None]:
    """Request logs with keys masked, on stderr or appended to ``log_file``; returns a function that undoes it."""

    class ScrubbingFormatter(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return scrub(super().format(record))

    handler: logging.Handler
    if log_file is None:
        handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.FileHandler(log_file, encoding="utf-8")
    handler.setFormatter(ScrubbingFormatter(_FORMAT))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    # These log every byte of the connection; the request lines of httpx are enough.
    quiet = {name: logging.getLogger(name) for name in ("httpcore", "hpack", "asyncio")}
    levels = {name: logger.level for name, logger in quiet.items()}
    for logger in quiet.values():
        logger.setLevel(logging.INFO)

    def undo() -> None:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(previous)
        for name, logger in quiet.items():
            logger.setLevel(levels[name])

    return undo
