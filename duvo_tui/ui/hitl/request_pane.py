"""Pane 4, the human request: the selected run's pending request, the form that answers it, the inbox of every
waiting request, and the announcement of a new one. It owns what waits for a person (one request per run) and
sends each answer through the service, handing the form exactly one outcome per submission.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll

from duvo_tui.ui.chrome.notify import Notifier
from duvo_tui.ui.host import Host
from duvo_tui.ui.panes import Pane

if TYPE_CHECKING:
    from duvo_tui.api.models import HumanRequest
    from duvo_tui.service import events as ev
    from duvo_tui.service.responder import Outcome
    from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
    from duvo_tui.ui.hitl.human_request_view import HumanRequestView

__all__ = ["HumanRequestPane"]


class HumanRequestPane(Pane, VerticalScroll, can_focus=True):
    """The selected run's pending request; the answering form is mounted in ``#human-request``."""

    def __init__(self, host: Host, notifier: Notifier | None = None, **kwargs) -> None:
        super().__init__(host, **kwargs)
        self.border_title = "4 Human request"
        self.notifier = notifier or Notifier()
        self.requests: dict[str, HumanRequest] = {}
        """What waits for a person: run id -> its pending request."""

    def compose_content(self) -> ComposeResult:
        from duvo_tui.ui.hitl.human_request_view import HumanRequestView

        with Vertical(id="human-request"):
            yield HumanRequestView(id="human-request-view")
            # The answering form (ui/hitl/hitl_form.py) is mounted here when a request is first shown.

    # --- what waits -------------------------------------------------------------------------------------

    def load(self, requests: Iterable[HumanRequest]) -> None:
        """The requests the service knew before the dashboard opened."""
        for request in requests:
            self.requests[request.run_id] = request

    def appeared(self, request: HumanRequest) -> bool:
        """A request waits now; True when it is new to the dashboard (not one seen again)."""
        is_new = request.run_id not in self.requests
        self.requests[request.run_id] = request
        return is_new

    def resolved(self, event: ev.HumanRequestResolved) -> bool:
        """A request was answered (here or elsewhere) or went away; True when it was the one waiting."""
        current = self.requests.get(event.run_id)
        if current is None or current.id != event.request_id:
            return False
        del self.requests[event.run_id]
        return True

    def went_away(self, event: ev.HumanRequestResolved) -> None:
        """The form says so when the request it shows was closed elsewhere."""
        form = self._form()
        if form is not None:
            form.handle_service_event(event)

    def forget(self, run_id: str) -> None:
        """The run is no longer tracked."""
        self.requests.pop(run_id, None)

    def announce(self, who: str, request: HumanRequest) -> None:
        """A new request appeared: toast, bell, desktop notification (as configured)."""
        if request.is_answerable:
            self.notifier.announce(self.app, who, request.title)
        else:
            from duvo_tui.api.models import WEB_APP_ONLY

            self.notifier.announce(self.app, who, request.title, hint=f"n: see it; {WEB_APP_ONLY}")

    # --- the form ---------------------------------------------------------------------------------------

    def _form(self, create: bool = False) -> HumanRequestForm | None:
        """The answering form; it is made (and its module loaded) when the first request is shown."""
        forms = list(self.query("#hitl-form"))
        if forms or not create:
            return forms[0] if forms else None  # type: ignore[return-value]  # by id: its module loads with the form
        from duvo_tui.service.drafts import DraftStore
        from duvo_tui.ui.hitl.hitl_form import HumanRequestForm

        # The service's drafts: the form keeps the answer in progress there, the service removes it once sent.
        drafts = self.host.service.drafts or DraftStore()
        form = HumanRequestForm(drafts=drafts, id="hitl-form")
        self.query_one("#human-request").mount(form)
        return form

    def show_for(self, run_id: str | None, agent: str = "") -> None:
        """Show ``run_id``'s request (or none), with how many wait elsewhere; the read-only view shows only when
        the form has nothing."""
        request = self.requests.get(run_id) if run_id else None
        others = len(self.requests) - (1 if request else 0)
        view: HumanRequestView = self.query_one("#human-request-view")  # type: ignore[assignment]  # by id: its module loads with the pane
        view.show_request(request, others)
        form = self._form(create=request is not None)
        if form is not None:
            form.show(request, agent=agent, run_id=run_id, waiting_elsewhere=others)
        view.display = form is None or form.request is None
        if request is not None and self.has_focus:
            # The pane was focused before its request arrived (4 pressed as the run was chosen): the form takes
            # the keys, so a and d, digits and typing land on it and not on the other panes.
            self.call_after_refresh(self._keys_to_form)

    def on_focus(self) -> None:
        # However the pane itself came to have the keys (4, a click, focus handed back while the form was being
        # built), they go on to the form when it shows a request.
        self.call_after_refresh(self._keys_to_form)

    def _keys_to_form(self) -> None:
        if self.has_focus:
            self.focus_control()

    def focus_control(self) -> None:
        """Put the keys on the pane's main control: the answering form when it shows a request, else the pane
        (which hands them on once its form shows one)."""
        form = self._form()
        if form is not None and form.request is not None:
            # The form scrolls itself: to the question it hands focus to, or to what became of it.
            form.focus(scroll_visible=False)
        else:
            self.focus()

    def on_human_request_form_submit(self, event: HumanRequestForm.Submit) -> None:
        """Send the form's answer in a worker; its one outcome goes back to the form."""
        event.stop()
        if self.host.read_only:
            from duvo_tui.service.responder import Outcome

            self._finished(event.request_id, Outcome("refused", "This profile is read-only: it may not answer."))
            return
        self.run_worker(self._send(event), group="hitl", exit_on_error=False)

    async def _send(self, event: HumanRequestForm.Submit) -> None:
        from duvo_tui.service.responder import Submission

        submission = Submission(event.run_id, event.request_id, event.approved, event.answers)
        outcome = await self.host.service.respond(submission)
        self._finished(event.request_id, outcome)

    def _finished(self, request_id: str, outcome: Outcome) -> None:
        form = self._form()
        if form is not None:
            form.post_message(form.Finished(request_id, outcome))
        if not outcome.ok:
            self.host.say(outcome.message, title="The answer was not sent", severity="error", timeout=8)

    # --- the inbox --------------------------------------------------------------------------------------

    def open_inbox(self, label: Callable[[str], tuple[str, str]], chosen: Callable[[str], None]) -> None:
        """Every waiting request, oldest first, named by ``label(run_id)``; ``chosen(run_id)`` shows one."""
        from duvo_tui.ui.hitl.inbox import InboxScreen, inbox_entries

        entries = inbox_entries(self.host.service.pending_requests(), label)
        inbox = InboxScreen(entries, now=self.host.clock())
        self.app.push_screen(inbox, lambda run_id: chosen(run_id) if run_id else None)
