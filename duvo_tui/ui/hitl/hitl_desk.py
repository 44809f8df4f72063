"""The dashboard's answering desk: feeds the request form, sends its answers through the service, opens the
inbox and announces new requests. The app delegates to it so that its own module stays about layout and runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from duvo_tui.service.drafts import DraftStore
from duvo_tui.service.responder import Outcome, Submission
from duvo_tui.ui.chrome.notify import Notifier

if TYPE_CHECKING:
    from duvo_tui.api.models import HumanRequest
    from duvo_tui.ui.app import DuvoApp
    from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
    from duvo_tui.ui.runs.run_list import RunList

__all__ = ["HitlDesk"]


class HitlDesk:
    """Answering human requests inside the dashboard app (``app.service`` is the DuvoService)."""

    def __init__(self, app: DuvoApp, notifier: Notifier | None = None) -> None:
        self.app = app
        self.notifier = notifier or Notifier()

    def _form(self, create: bool = False) -> HumanRequestForm | None:
        """The answering form; it is made (and its module loaded) when the first request is shown."""
        forms = list(self.app.screen_dashboard.query("#hitl-form"))
        if forms or not create:
            return forms[0] if forms else None  # type: ignore[return-value]  # by id: its module loads with the form
        from duvo_tui.ui.hitl.hitl_form import HumanRequestForm

        # The service's drafts: the form keeps the answer in progress there, the service removes it once sent.
        drafts = self.app.service.drafts or DraftStore()
        form = HumanRequestForm(drafts=drafts, id="hitl-form")
        self.app.screen_dashboard.query_one("#human-request").mount(form)
        return form

    def _runs(self) -> RunList:
        return self.app.screen_dashboard.query_one("#run-list")  # type: ignore[return-value]  # found by id

    def _label(self, run_id: str) -> tuple[str, str]:
        row = self._runs().row(run_id)
        return (row.agent, row.title) if row is not None else ("", "")

    def announce(self, who: str, request: HumanRequest) -> None:
        """A new request appeared: toast, bell, desktop notification (as configured)."""
        if request.is_answerable:
            self.notifier.announce(self.app, who, request.title)
        else:
            from duvo_tui.api.models import WEB_APP_ONLY

            self.notifier.announce(self.app, who, request.title, hint=f"n: see it; {WEB_APP_ONLY}")

    def show(
        self, request: HumanRequest | None, *, agent: str = "", run_id: str | None = None, waiting_elsewhere: int = 0
    ) -> None:
        """Put the selected run's request (or None) in the form; the read-only view shows only when it is empty."""
        form = self._form(create=request is not None)
        if form is not None:
            form.show(request, agent=agent, run_id=run_id, waiting_elsewhere=waiting_elsewhere)
        for view in self.app.screen_dashboard.query("#human-request-view"):
            view.display = form is None or form.request is None

    def submit(self, event: HumanRequestForm.Submit) -> None:
        """Send the form's answer in a worker; its one outcome goes back to the form."""
        if self.app.read_only:
            self._finished(event.request_id, Outcome("refused", "This profile is read-only: it may not answer."))
            return
        self.app.run_worker(self._send(event), group="hitl", exit_on_error=False)

    async def _send(self, event: HumanRequestForm.Submit) -> None:
        submission = Submission(event.run_id, event.request_id, event.approved, event.answers)
        outcome = await self.app.service.respond(submission)
        self._finished(event.request_id, outcome)

    def _finished(self, request_id: str, outcome: Outcome) -> None:
        form = self._form()
        if form is not None:
            form.post_message(form.Finished(request_id, outcome))
        if not outcome.ok:
            self.app.say(outcome.message, severity="error", timeout=8)

    def answered(self, event: HumanRequestForm.Answered) -> None:
        """The server took an answer: confirm it wherever the focus goes next, and give the keyboard back, to
        the next waiting request when there is one, else to the run list."""
        self.app.say(event.summary, timeout=6)
        waiting = {r.run_id for r in self.app.service.pending_requests() if r.id != event.request_id}
        waiting.discard(event.run_id)
        order = [run_id for run_id in self._runs().visible_ids if run_id in waiting]
        following = order + sorted(waiting - set(order))
        if following:
            self.jump_to(following[0])
        else:
            self.app.screen_dashboard.action_show_pane(0)

    def open_inbox(self) -> None:
        """Every waiting request, oldest first; choosing one shows it in the request pane."""
        from duvo_tui.ui.hitl.inbox import InboxScreen, inbox_entries

        entries = inbox_entries(self.app.service.pending_requests(), self._label)
        self.app.push_screen(InboxScreen(entries, now=self.app.clock()), self._chosen)

    def _chosen(self, run_id: str | None) -> None:
        if run_id:
            self.jump_to(run_id)

    def jump_to(self, run_id: str) -> None:
        """Select ``run_id`` and move to the request pane (its form takes focus)."""
        runs = self._runs()
        if not runs.select(run_id):
            runs.filter_text = ""
            runs.select(run_id)
        self.app.select_run(run_id)
        self.app.screen_dashboard.action_show_pane(3)
