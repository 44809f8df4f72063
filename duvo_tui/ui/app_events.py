"""How the dashboard app takes the service's events: each event kind has one handler, chosen by its type, that
updates the panes; the messages pane feeds its stream and its health, the upload status and the answering form
take the events they want (``handle_service_event``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from duvo_tui.text import clean_line
from duvo_tui.ui.bridge import ServiceEvent
from duvo_tui.ui.chrome.header import BudgetPicture
from duvo_tui.ui.runs.run_format import short_id

if TYPE_CHECKING:
    from duvo_tui.service import events as ev

__all__ = ["ServiceEvents"]


class ServiceEvents:
    """The app's service-event handlers (mixed into :class:`~duvo_tui.ui.app.DuvoApp`)."""

    def on_service_event(self, message: ServiceEvent) -> None:
        if self._closed or not self.is_running:
            return  # events that arrive while the app closes have nowhere to go
        from duvo_tui.service import events as ev  # loaded with the first event, not at start

        event = message.service_event
        match event:
            case ev.RunAdded():
                self._event_run_added(event)
            case ev.RunChanged():
                self._event_run_changed(event)
            case ev.RunRemoved():
                self._event_run_removed(event)
            case ev.MessagesAppended():
                self._event_messages_appended(event)
            case ev.HumanRequestAppeared():
                self._event_human_request_appeared(event)
            case ev.HumanRequestResolved():
                self._event_human_request_resolved(event)
            case ev.BudgetChanged():
                self._event_budget_changed(event)
            case ev.Connected():
                self._event_connected(event)
            case ev.ConnectionLost():
                self._event_connection_lost(event)
            case ev.ConnectionRestored():
                self._event_connection_restored(event)
            case ev.AuthFailed():
                self._event_auth_failed(event)
            case ev.RunError():
                self._event_run_error(event)
            case ev.Notice():
                self._event_notice(event)
        self._messages_pane().take_event(event, self._selected)
        self._forward(event)

    def _forward(self, event: ev.Event) -> None:
        # The two widgets that take service events of their own: the upload status and the answering form.
        for widget in self.screen_dashboard.query("#upload-status UploadStatus, #hitl-form"):
            widget.handle_service_event(event)

    def _event_run_added(self, event: ev.RunAdded) -> None:
        self._runs().upsert(self._row_for(event.run, event.agent_name))
        self._update_counts()

    def _event_run_changed(self, event: ev.RunChanged) -> None:
        self._runs().upsert(self._row_for(event.run))
        if event.run.id == self._selected:
            self._show_sandbox(event.run)
            self._title_messages_pane()
        self._pane("#runs-pane").refresh_title()

    def _event_run_removed(self, event: ev.RunRemoved) -> None:
        self._runs().remove_run(event.run_id)
        self._requests.pop(event.run_id, None)
        self._update_counts()

    def _event_messages_appended(self, event: ev.MessagesAppended) -> None:
        row = self._runs().row(event.run_id)
        if row is not None and event.start == 0 and not row.first_message:
            first = next((m for m in event.messages if m.role == "user" and m.text_content), None)
            if first is not None:
                row.first_message = clean_line(first.text_content, 200)
                self._runs().upsert(row)
                if event.run_id == self._selected:
                    self._title_messages_pane()

    def _event_human_request_appeared(self, event: ev.HumanRequestAppeared) -> None:
        request = event.request
        is_new = request.run_id not in self._requests
        self._requests[request.run_id] = request
        self._mark_pending(request.run_id, True)
        if request.run_id == self._selected:
            self._show_request()
        if is_new:
            row = self._runs().row(request.run_id)
            who = row.agent if row else short_id(request.run_id)
            self.hitl.announce(who, request)

    def _event_human_request_resolved(self, event: ev.HumanRequestResolved) -> None:
        current = self._requests.get(event.run_id)
        if current is not None and current.id == event.request_id:
            del self._requests[event.run_id]
            self._mark_pending(event.run_id, False)
        if event.run_id == self._selected:
            self._show_request()

    def _event_budget_changed(self, event: ev.BudgetChanged) -> None:
        self._header().budget = BudgetPicture(
            used=event.used,
            limit=event.limit,
            resets_in=event.resets_in,
            paused_for=event.paused_for,
            processes=event.processes,
            recent=event.recent,
            window=event.window,
            server_remaining=event.server_remaining,
            server_resets_in=event.server_resets_in,
            others=event.others,
        )
        header = self._header()
        if header.connection == "connecting":
            header.connection = "connected"

    def _event_connected(self, event: ev.Connected) -> None:
        header = self._header()
        who = clean_line(event.name or event.email or "", 40)
        team = f"team {clean_line(event.team_id)[:8]}" if event.team_id else ""
        header.account = " · ".join(part for part in (who, team) if part)
        if header.connection != "auth failed":
            header.retry_at = None
            header.connection = "connected"

    def _event_connection_lost(self, event: ev.ConnectionLost) -> None:
        import time

        header = self._header()
        if header.connection != "disconnected":
            self.say(f"Cannot reach the server: {event.reason}. Retrying by itself.", severity="warning")
        header.retry_at = time.monotonic() + event.retry_in if event.retry_in > 0 else None
        header.connection = "disconnected"

    def _event_connection_restored(self, event: ev.ConnectionRestored) -> None:
        header = self._header()
        header.retry_at = None
        header.connection = "connected"
        self.say("Connected again")

    def _event_auth_failed(self, event: ev.AuthFailed) -> None:
        header = self._header()
        header.auth_status = event.status
        header.connection = "auth failed"
        fix = (
            "Set DUVO_API_KEY (or the profile's api_key in config.toml) to a valid key and start again."
            if event.status == 401
            else "The key is valid but has no access here: use a key of this team."
        )
        self.say(f"The API key was refused: {event.message}. {fix}", severity="error", timeout=20)

    def _event_run_error(self, event: ev.RunError) -> None:
        self.say(f"Run {short_id(event.run_id)}: {event.message}", severity="error")

    def _event_notice(self, event: ev.Notice) -> None:
        severity = {"warning": "warning", "error": "error"}.get(event.level, "information")
        # A warning (a state folder open to others, say) stays long enough to be read; information goes quickly.
        self.say(event.message, severity=severity, timeout=4 if severity == "information" else 12)

    def _mark_pending(self, run_id: str, pending: bool) -> None:
        row = self._runs().row(run_id)
        if row is not None and row.pending_request != pending:
            row.pending_request = pending
            self._runs().upsert(row)
        self._update_counts()

    def _update_counts(self) -> None:
        self._header().waiting = len(self._requests)
        self.refresh_bindings()  # n and N are offered only while something waits
        self._pane("#runs-pane").refresh_title()
        self._show_window_title()
