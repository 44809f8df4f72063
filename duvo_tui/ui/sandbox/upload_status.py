"""Under the sandbox tree: the watched folders' status, a progress bar per upload, and "upload a file by path".

The widget renders ``Upload*`` and ``WatchStatus`` events (the sandbox pane hands it those events through
``handle_service_event``) and asks for an upload through the function it is given (the service's ``upload``:
the service owns the uploads and the watched folders). When a file lands in the sandbox shown above, it asks
the tree to list that folder again.
Every path and message is shown as a ``Text`` object: file names and server messages are data, not markup.
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.widgets import Input, ProgressBar, Static

from duvo_tui.service import events as ev
from duvo_tui.text import clean_line
from duvo_tui.ui.chrome.notify import fits_one_line
from duvo_tui.ui.sandbox.sandbox_tree import ROOT_PATH, SandboxTree, format_size

__all__ = ["UploadRow", "UploadStatus"]

MAX_ROWS = 5
"""Upload rows kept on screen; finished ones make room first."""


def _rate(rate: float, eta: float | None) -> str:
    text = f"{format_size(int(rate))}/s" if rate > 0 else ""
    if eta is not None and eta >= 1:
        text += f" {int(eta) // 60}:{int(eta) % 60:02d}" if eta >= 60 else f" {int(eta)}s"
    return text


def short_path(path: str, width: int) -> str:
    """``path`` with the home folder as ``~``, cut at the start (the end says most) to ``width``."""
    text = clean_line(path, 2000)
    home = str(Path.home())
    if home != "/" and (text == home or text.startswith(home + "/")):
        text = "~" + text[len(home) :]
    return text if len(text) <= width else "…" + text[-(width - 1) :]


class UploadRow(Horizontal):
    """One upload: name, bar, state."""

    DEFAULT_CSS = """
    UploadRow { height: 1; }
    UploadRow .upload-name { width: 1fr; min-width: 8; }
    UploadRow ProgressBar { width: auto; }
    UploadRow ProgressBar Bar { width: 12; }
    UploadRow .upload-state { width: 16; }
    UploadRow.-failed .upload-state { color: $error; }
    UploadRow.-done .upload-state { color: $success; }
    """

    def __init__(self, upload_id: str, name: str, size: int) -> None:
        super().__init__(id=None)
        self.upload_id = upload_id
        self.file_size = size
        self.finished = False
        # Not ``_name``: that is the widget's own name in Textual.
        self._file_name = Static(Text(clean_line(name, 80)), classes="upload-name")
        self._bar = ProgressBar(total=max(size, 1), show_eta=False)
        self._state = Static(Text("queued"), classes="upload-state")

    def compose(self) -> ComposeResult:
        yield self._file_name
        yield self._bar
        yield self._state

    @property
    def state_text(self) -> str:
        return str(self._state.render())

    def progress(self, sent: int, rate: float, eta: float | None) -> None:
        self._bar.update(progress=sent)
        self._state.update(Text(_rate(rate, eta) or "sending"))

    def done(self) -> None:
        self.finished = True
        self._bar.update(progress=max(self.file_size, 1))
        self.add_class("-done")
        self._state.update(Text("done"))

    def failed(self, message: str, final: bool) -> None:
        self.finished = final
        self.set_class(final, "-failed")
        self._state.update(Text("failed" if final else "retrying"))
        self.tooltip = Text(clean_line(message, 300))


class UploadStatus(Vertical):
    """The upload and folder-watch status of the sandbox pane."""

    DEFAULT_CSS = """
    UploadStatus { height: auto; }
    UploadStatus #watch-lines { height: auto; color: $text-muted; }
    UploadStatus #upload-message { height: auto; }
    UploadStatus #upload-path { height: 1; border: none; background: $boost; padding: 0 1; }
    """

    def __init__(
        self,
        upload: Callable[[Path, str], object] | None = None,
        *,
        current_sandbox: Callable[[], str | None] | None = None,
        id: str | None = "upload-status-widget",
    ) -> None:
        super().__init__(id=id)
        self.upload = upload
        """Sends a file (path, sandbox id); None: nothing can be sent, the status shows only."""
        self.current_sandbox = current_sandbox or (lambda: None)
        self.watches: dict[str, ev.WatchStatus] = {}
        self.rows: dict[str, UploadRow] = {}
        self.names: dict[str, str] = {}
        self._last_refresh: dict[str, float] = {}
        self._typed: set[str] = set()
        """Local paths a person typed into the upload line and whose outcome is not known yet."""
        self._asked: dict[str, str] = {}
        """upload id -> file name, for those uploads: their outcome is told in a notification (a watched
        folder's files are not: the pane counts them)."""

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="watch-lines")
        yield Vertical(id="upload-rows")
        yield Static(Text(""), id="upload-message")
        yield Input(
            placeholder="u: upload a file, type its path (enter sends, esc leaves)",
            id="upload-path",
            disabled=self.upload is None,
        )

    # ------------------------------------------------------------------ events

    def handle_service_event(self, event: ev.Event) -> None:
        """Show what an upload or watch event says; other events are not for this widget."""
        try:
            self._show(event)
        except NoMatches:
            pass  # the widget is being taken down; nothing left to show it on

    def _show(self, event: ev.Event) -> None:
        if isinstance(event, ev.WatchStatus):
            self.watches[event.folder] = event
            self._draw_watches()
        elif isinstance(event, ev.UploadQueued):
            self.names[event.upload_id] = event.dest_path
            if event.local_path in self._typed:
                self._typed.discard(event.local_path)
                self._asked[event.upload_id] = posixpath.basename(event.dest_path)
            self._add_row(UploadRow(event.upload_id, posixpath.basename(event.dest_path), event.size))
        elif isinstance(event, ev.UploadProgress):
            row = self.rows.get(event.upload_id)
            if row is not None:
                row.progress(event.sent, event.rate, event.eta)
        elif isinstance(event, ev.UploadFinished):
            row = self.rows.get(event.upload_id)
            if row is not None:
                row.done()
            self._refresh_tree(event.sandbox_id, event.dest_path)
            if (name := self._asked.pop(event.upload_id, None)) is not None:
                where = f"{clean_line(event.sandbox_id, 40)}:{clean_line(event.dest_path, 120)}"
                self._tell(f"✓ Uploaded {name}", "✓ File uploaded", f"{name} → {where}")
        elif isinstance(event, ev.UploadFailed):
            row = self.rows.get(event.upload_id)
            if row is not None:
                row.failed(event.message, event.final)
            if event.final and event.upload_id not in self.rows:
                self._say(f"Upload failed: {event.message}", error=True)
            if event.final and (event.upload_id in self._asked or event.local_path in self._typed):
                self._typed.discard(event.local_path)
                name = self._asked.pop(event.upload_id, None) or Path(event.local_path).name
                detail = f"{name}: {event.message}"
                self._tell(f"Upload failed: {name}", "Upload failed", detail, severity="error")

    def _draw_watches(self) -> None:
        text = Text()
        for status in self.watches.values():
            if text:
                text.append("\n")
            mark = "● watching " if status.watching else "○ not watching "
            text.append(mark, style="bold" if status.watching else "dim")
            text.append(short_path(status.folder, 50))
            text.append(" → ")
            text.append(clean_line(status.sandbox_id, 40))
            text.append(f"  queued {status.queued} · uploading {status.uploading} · done {status.done} · ")
            text.append(f"failed {status.failed}", style="bold red" if status.failed else "")
            if status.detail:
                text.append("  " + clean_line(status.detail, 80), style="dim")
        self.query_one("#watch-lines", Static).update(text)

    def _add_row(self, row: UploadRow) -> None:
        container = self.query_one("#upload-rows", Vertical)
        while len(self.rows) >= MAX_ROWS:
            oldest = next((r for r in self.rows.values() if r.finished), None)
            if oldest is None:
                break
            del self.rows[oldest.upload_id]
            oldest.remove()
        if len(self.rows) >= MAX_ROWS:
            return  # all shown rows are busy; this one still counts in the watch status
        self.rows[row.upload_id] = row
        container.mount(row)

    def _refresh_tree(self, sandbox_id: str, dest_path: str) -> None:
        if sandbox_id != self.current_sandbox():
            return
        folder = posixpath.dirname(dest_path) or ROOT_PATH
        now = time.monotonic()
        if now - self._last_refresh.get(folder, 0.0) < 1.0:
            return  # a burst of files in one folder: one listing a second is enough
        self._last_refresh[folder] = now
        self.post_message(SandboxTree.ListingWanted(sandbox_id, folder))

    def _tell(self, title: str, short: str, detail: str, *, severity: SeverityLevel = "information") -> None:
        """A notification of an upload's outcome: ``title`` when a one-line notification shows it whole, else
        ``short``; the details below it."""
        heading = clean_line(title) if fits_one_line(clean_line(title)) else short
        self.notify(clean_line(detail, 300), title=heading, severity=severity, timeout=6, markup=False)

    def _say(self, message: str, *, error: bool = False) -> None:
        self.query_one("#upload-message", Static).update(
            Text(clean_line(message, 300), style="bold red" if error else "")
        )

    # ------------------------------------------------------------------ input

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "upload-path":
            return
        event.stop()
        raw = event.value.strip()
        if not raw or self.upload is None:
            return
        path = Path(raw).expanduser()
        if not path.is_file():
            self._say(f"{raw}: no such file", error=True)
            return
        sandbox_id = self.current_sandbox()
        if not sandbox_id:
            self._say("Select a run that has a sandbox first", error=True)
            return
        self._typed.add(str(path))
        self.upload(path, sandbox_id)
        event.input.value = ""
        self._say(f"Uploading {path.name} to {sandbox_id}")

