"""The form that answers a run's pending human request from the keyboard.

Data goes down (:meth:`HumanRequestForm.show` with the request and who asks), a :class:`HumanRequestForm.Submit`
message goes up, and exactly one :class:`HumanRequestForm.Finished` comes back with the outcome.

- Approval: the title, the description (markdown, rendered from cleaned text with links that open nothing),
  ``a`` approve / ``d`` deny, each confirmed by ``y``; any other key cancels.
- Questions: every question with its header; options picked with digits, arrows and space; an "other" answer
  or free text in an input; ``tab`` between questions; ``ctrl+s`` (or enter on the last question) sends.

What the person chooses or types is saved as a draft on disk (lightly debounced) and is only forgotten once the
server has confirmed the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Markdown, Static

from duvo_tui.api.models import HumanRequest
from duvo_tui.service.drafts import Draft, DraftStore, QuestionDraft
from duvo_tui.service.events import Event, HumanRequestResolved
from duvo_tui.service.responder import Outcome
from duvo_tui.text import clean, clean_line
from duvo_tui.ui.chrome.notify import fits_one_line
from duvo_tui.ui.hitl.hitl_choices import QuestionBlock
from duvo_tui.ui.hitl.human_request_view import request_kind, web_app_only

__all__ = ["HumanRequestForm"]

SAVE_DELAY = 0.3
"""Seconds of quiet before a changed draft is written to disk."""

_CLOSED = (
    "This request was answered elsewhere or the run stopped waiting: nothing was sent from here. "
    "Your draft is kept below."
)
_CLOSED_ELSEWHERE = "This request was answered in the Duvo web app or the run stopped waiting."


class HumanRequestForm(Vertical, can_focus=True):
    """Answers one human request. Shows nothing when there is none."""

    DEFAULT_CSS = """
    HumanRequestForm { height: auto; padding: 0 1; }
    HumanRequestForm.-empty { display: none; }
    HumanRequestForm:focus { background: $boost; }
    HumanRequestForm #hitl-head { height: auto; }
    HumanRequestForm #hitl-body { height: auto; }
    HumanRequestForm #hitl-description { height: auto; margin: 0; padding: 0; background: transparent; }
    /* One blank line under the description, whatever follows (a question, the status or the keys): its last
       block's own margin would add a second. */
    HumanRequestForm #hitl-description > MarkdownBlock:last-child { margin-bottom: 0; }
    HumanRequestForm #hitl-status { height: auto; margin-top: 1; }
    HumanRequestForm #hitl-status.-none { display: none; }
    HumanRequestForm.-no-status #hitl-keys { margin-top: 1; }
    HumanRequestForm #hitl-status.-error { color: $error; text-style: bold; }
    HumanRequestForm #hitl-status.-ok { color: $success; text-style: bold; }
    HumanRequestForm #hitl-status.-ask { color: $warning; text-style: bold; }
    HumanRequestForm #hitl-keys { height: auto; color: $text-muted; }
    """

    BINDINGS = [
        Binding("a", "decide(True)", "Approve", id="hitl.approve", tooltip="Approve (then y to confirm)"),
        Binding("d", "decide(False)", "Deny", id="hitl.deny", tooltip="Deny (then y to confirm)"),
        Binding("ctrl+s", "submit", "Send answers", id="hitl.submit", tooltip="Send the answers to the questions"),
        Binding("tab", "move(1)", "Next question", show=False, id="hitl.next_question", tooltip="Next question"),
        Binding(
            "shift+tab",
            "move(-1)",
            "Previous question",
            show=False,
            id="hitl.previous_question",
            tooltip="Previous question",
        ),
    ]

    @dataclass
    class Submit(Message):
        """The person answered: send ``approved`` (approval) or ``answers`` (question -> answer)."""

        run_id: str
        request_id: str
        approved: bool | None
        answers: dict[str, str] | None

    @dataclass
    class Finished(Message):
        """What became of a :class:`Submit`: exactly one for each, posted to the form by whoever sent it."""

        request_id: str
        outcome: Outcome

    @dataclass
    class Answered(Message):
        """The server confirmed the answer: the form is read-only now and gives the keyboard back."""

        run_id: str
        request_id: str
        summary: str
        """One short line saying it was sent (and to whom, when that fits): a notification shows it whole."""

    def __init__(self, drafts: DraftStore | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.drafts = drafts
        self._request: HumanRequest | None = None
        self._draft: Draft | None = None
        self._agent = ""
        self._waiting_elsewhere = 0
        self._confirming: bool | None = None
        self._sending = False
        self._answered = False
        self._request_closed = False
        self._save_timer: Timer | None = None
        self.save_error: str | None = None
        self._status = ""
        self._parked = False
        self.add_class("-empty")

    # --- data down -------------------------------------------------------------------------------------

    @property
    def request(self) -> HumanRequest | None:
        """The request shown (it stays shown, with a notice, after it was closed elsewhere)."""
        return self._request

    @property
    def draft(self) -> Draft | None:
        return self._draft

    @property
    def status_text(self) -> str:
        """The status line as plain text (what failed, what to press)."""
        return self._status

    @property
    def is_open(self) -> bool:
        """True while the shown request can still be answered from here."""
        return self._request is not None and not (self._answered or self._request_closed)

    def show(
        self,
        request: HumanRequest | None,
        *,
        agent: str = "",
        run_id: str | None = None,
        waiting_elsewhere: int = 0,
    ) -> None:
        """Show ``request`` (asked by ``agent``). ``None`` for ``run_id``'s run means its request went away."""
        self._waiting_elsewhere = waiting_elsewhere
        current = self._request
        if request is not None and current is not None and request.id == current.id:
            self._agent = agent or self._agent
            self._render_head()
            self._render_keys()
            return
        if request is None and current is not None and run_id == current.run_id:
            self._went_away()
            self._render_keys()
            return
        if request is None and current is None:
            return  # nothing shown, nothing to show: only the count of other waiting requests changed
        self._save_now()
        self._request = request
        self._agent = agent
        self._confirming = None
        self._sending = self._answered = self._request_closed = False
        self._draft = self._load_draft(request) if request is not None else None
        self.set_class(request is None, "-empty")
        if self.is_mounted:
            self.call_later(self._rebuild)

    def handle_service_event(self, event: Event) -> None:
        """The app forwards service events; a request closed elsewhere is said so."""
        if isinstance(event, HumanRequestResolved) and self._request is not None:
            if event.request_id == self._request.id and not event.answered_here:
                self._went_away()

    def on_human_request_form_finished(self, message: Finished) -> None:
        message.stop()
        self.submit_finished(message.request_id, message.outcome)

    def submit_finished(self, request_id: str, outcome: Outcome) -> None:
        """What became of a :class:`Submit` (its :class:`Finished` message calls this)."""
        if self._request is None or request_id != self._request.id:
            return
        self._sending = False
        if outcome.ok:
            self._answered = True
            sent = self._sent_summary()
            self._draft = None
            # Read-only from now on: nothing typed afterwards can change what was sent.
            self.query_one("#hitl-body").disabled = True
            self._set_status(f"✓ {outcome.message} {sent}".strip(), "-ok", reveal=True)
            self.post_message(self.Answered(self._request.run_id, self._request.id, self._headline(outcome)))
        elif outcome.final:
            self._request_closed = True
            self._set_status(f"{outcome.message} Your draft is kept below.", "-error")
        else:
            again = "a or d" if self._request.is_approval else "ctrl+s"
            self._set_status(
                f"{outcome.message} Your answer is kept; press {again} to send it again.", "-error", reveal=True
            )
        self._render_keys()
        self.refresh_bindings()

    def _headline(self, outcome: Outcome) -> str:
        """``✓ Answers sent · reports``: the outcome and who asked, in a line a notification shows whole (the
        form's own line says what was sent); who asked is left out when that would not fit."""
        verdict = f"✓ {clean_line(outcome.message, 40).rstrip('.')}"
        named = f"{verdict} · {clean_line(self._agent)}"
        return named if self._agent and fits_one_line(named) else verdict

    def _sent_summary(self) -> str:
        """What was sent, in one line: each question's header (or number) and its answer. Nothing for an
        approval: the outcome ("Approved." or "Denied.") says it already."""
        draft = self._draft
        if draft is None or draft.approved is not None:
            return ""
        parts = [
            f"{clean_line(block.question.header or str(block.number), 30)}: {clean_line(block.answer, 60)}"
            for block in self.query(QuestionBlock)
        ]
        return " · ".join(parts)

    # --- building --------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="hitl-head")
        yield Vertical(id="hitl-body")
        yield Static(id="hitl-status")
        yield Static(id="hitl-keys")

    def on_mount(self) -> None:
        if self._request is not None:
            self.call_later(self._rebuild)

    def on_unmount(self) -> None:
        self._save_now()

    async def _rebuild(self) -> None:
        body = self.query_one("#hitl-body", Vertical)
        await body.remove_children()
        body.disabled = False
        self._set_status("", "")
        request, draft = self._request, self._draft
        self._render_head()
        self._render_keys()
        if request is None or draft is None:
            return
        widgets: list[Widget] = []
        if request.description:
            widgets.append(Markdown(clean(request.description), id="hitl-description", open_links=False))
        total = len(request.questions)
        for number, question in enumerate(request.questions, 1):
            answer = draft.answers.setdefault(question.question, QuestionDraft())
            widgets.append(QuestionBlock(question, number, total, answer))
        await body.mount_all(widgets)
        if not request.is_answerable:
            self._set_status(web_app_only(request), "-ask")
        elif draft.approved is not None:
            verb = "approve" if draft.approved else "deny"
            self._set_status(f"Not confirmed by the server yet: you chose to {verb}. Press {verb[0]} to send again.")
        elif not request.is_approval and not draft.is_empty():
            self._set_status("Draft restored.")
        if self.has_focus:
            self._focus_first_open()

    def _render_head(self) -> None:
        request = self._request
        head = self.query_one("#hitl-head", Static)
        if request is None:
            head.update("")
            return
        text = Text()
        text.append(f"◆ {request_kind(request)}", style="bold")
        if self._agent:
            text.append(" · " + clean_line(self._agent, 60))
        text.append("\n")
        text.append(clean_line(request.title or "(untitled request)", 400), style="bold")
        head.update(text)

    def _render_keys(self) -> None:
        request = self._request
        keys = self.query_one("#hitl-keys", Static)
        next_key = " · n next" if self._waiting_elsewhere else ""  # only what works now
        if request is None:
            keys.update("")
        elif self._answered or self._request_closed:
            more = self._waiting_elsewhere
            keys.update(Text(f"n: next waiting request ({more} more)" if more else "Nothing else waits for you."))
        elif not request.is_answerable:
            keys.update(Text(f"Nothing can be sent from here · ↑↓ scroll{next_key}"))
        elif request.is_approval:
            # Short lines rather than one that wraps mid-hint in a narrow pane.
            keys.update(Text(f"a approve · d deny\nthen y confirms, any other key cancels\n↑↓ scroll{next_key}"))
        else:
            keys.update(
                Text(
                    "digits pick · ↑↓ move · space toggles · tab next question · "
                    "ctrl+s send (or enter on the last) · esc leave"
                )
            )

    def _set_status(self, message: str, kind: str = "", *, reveal: bool = False) -> None:
        """Show ``message`` under the questions; ``reveal`` scrolls it into view (sending, sent, failed)."""
        self._status = message
        status = self.query_one("#hitl-status", Static)
        status.update(Text(message))
        for name in ("-error", "-ok", "-ask"):
            status.set_class(name == kind, name)
        # No empty line where there is nothing to say: the keys take the status line's blank above them.
        status.set_class(not message, "-none")
        self.set_class(not message, "-no-status")
        if reveal and message:
            self.call_after_refresh(self._reveal, status)

    def _reveal(self, widget: Widget) -> None:
        if widget.is_attached:
            widget.scroll_visible(animate=False)

    def _went_away(self) -> None:
        if self._sending or self._answered or self._request_closed or self._request is None:
            return
        self._request_closed = True
        self._confirming = None
        self._set_status(_CLOSED if self._request.is_answerable else _CLOSED_ELSEWHERE, "-error")
        self._render_keys()

    # --- drafts ----------------------------------------------------------------------------------------

    def _load_draft(self, request: HumanRequest) -> Draft:
        stored = None
        if self.drafts is not None:
            stored = self.drafts.load(request.id)
        return stored or Draft(run_id=request.run_id, request_id=request.id)

    def _changed(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(SAVE_DELAY, self._save_now)

    def _save_now(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
            self._save_timer = None
        draft = self._draft
        if self.drafts is None or draft is None or self._answered:
            return
        if draft.is_empty():
            self.drafts.delete(draft.request_id)
            return
        try:
            self.drafts.save(draft)
            self.save_error = None
        except OSError as error:
            self.save_error = str(error)
            self._set_status(f"The draft could not be saved to disk: {clean_line(str(error), 200)}", "-error")

    # --- keys ------------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        request = self._request
        if request is None:
            return False
        if not request.is_answerable and action in ("decide", "submit", "move"):
            return False  # answered in the web app: no answer keys here
        if action == "decide":
            return request.is_approval and self.is_open
        if action in ("submit", "move"):
            return not request.is_approval and self.is_open
        return True

    def action_decide(self, approved: bool) -> None:
        if self._request is None or not self._request.is_answerable:
            return
        if not self.is_open or self._sending:
            if self._sending:
                self._set_status("Still sending the answer…")
            return
        self._confirming = approved
        verb = "APPROVE" if approved else "DENY"
        self._set_status(f"Press y to {verb}. Any other key cancels.", "-ask", reveal=True)

    def on_key(self, event: events.Key) -> None:
        request = self._request
        if request is not None and not request.is_answerable and event.key in ("a", "d", "ctrl+s"):
            # Answer keys on a request answered in the web app: say so (instead of what the key does elsewhere).
            event.stop()
            event.prevent_default()
            self._set_status(web_app_only(request), "-ask")
            self.app.bell()
            return
        if self._confirming is None:
            if event.key == "escape" and self.screen.focused is not self and self._block_of_focus() >= 0:
                # Leave the questions (the draft stays): pane keys such as 1-4 and n work again.
                event.stop()
                self._parked = True
                self.focus()
            return
        event.stop()
        event.prevent_default()
        approved, self._confirming = self._confirming, None
        if event.key != "y":
            self._set_status("Cancelled: nothing was sent.")
            return
        self._send(approved=approved, answers=None)

    def on_focus(self) -> None:
        if self._parked:
            self._parked = False
            return
        if self._request is not None and not self.is_open and self._status:
            # Back on a request already sent (or closed): what became of it is the line to read, wherever it is.
            self.call_after_refresh(self._reveal, self.query_one("#hitl-status"))
            return
        self._focus_first_open()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Textual scrolls a focused widget into view only when it lies outside the screen, not when the pane
        # around it clips it: show the whole question (its text and its options) as it is reached.
        node = event.widget
        while node is not None and node is not self and not isinstance(node, QuestionBlock):
            node = node.parent  # type: ignore[assignment]
        target = node if isinstance(node, QuestionBlock) else event.widget
        self.call_after_refresh(self._reveal, target)

    def _focus_first_open(self) -> None:
        blocks = list(self.query(QuestionBlock))
        if not blocks or not self.is_open:
            return
        target = next((b for b in blocks if not b.answer), blocks[0])
        self.call_after_refresh(target.entry.focus)

    def _block_of_focus(self) -> int:
        blocks = list(self.query(QuestionBlock))
        focused = self.screen.focused if self.is_mounted else None
        for index, block in enumerate(blocks):
            node = focused
            while node is not None and node is not self:
                if node is block:
                    return index
                node = node.parent  # type: ignore[assignment]  # a widget's parent is a widget or the screen
        return -1

    def action_move(self, step: int) -> None:
        blocks = list(self.query(QuestionBlock))
        if not blocks:
            return
        index = self._block_of_focus()
        if index >= 0 and not 0 <= index + step < len(blocks):
            raise SkipAction()  # past the first or last question: tab moves on to the next pane, as elsewhere
        target = blocks[index + step] if index >= 0 else blocks[0 if step > 0 else -1]
        target.entry.focus()

    def on_question_block_edited(self, event: QuestionBlock.Edited) -> None:
        event.stop()
        self._changed()
        if not event.advance:
            return
        blocks = list(self.query(QuestionBlock))
        index = blocks.index(event.block) if event.block in blocks else -1
        if index == len(blocks) - 1:
            if event.advance == "enter":
                self.action_submit()
            return
        if index >= 0:
            blocks[index + 1].entry.focus()

    def action_submit(self) -> None:
        request = self._request
        if request is None or request.is_approval or not request.is_answerable:
            return
        if not self.is_open:
            closed = self._request_closed
            self._set_status(_CLOSED if closed else "Already answered.", "-error" if closed else "")
            return
        if self._sending:
            self._set_status("Still sending the answers…")
            return
        blocks = list(self.query(QuestionBlock))
        missing = [b for b in blocks if not b.answer]
        for block in blocks:
            block.mark_missing(block in missing[:1])
        if missing:
            name = missing[0].question.header or missing[0].question.question
            self._set_status(f"Answer “{clean_line(name, 80)}” first.", "-error")
            missing[0].entry.focus()
            self.call_after_refresh(self._reveal, missing[0])  # it may have focus already, and it grew a line
            return
        self._send(approved=None, answers={b.question.question: b.answer for b in blocks})

    def _send(self, *, approved: bool | None, answers: dict[str, str] | None) -> None:
        request, draft = self._request, self._draft
        if request is None or draft is None:
            return
        draft.approved = approved
        self._save_now()
        self._sending = True
        self._set_status("Sending…", reveal=True)
        self.post_message(self.Submit(request.run_id, request.id, approved, answers))
