"""A read-only view of a run's pending human request (title, description, questions)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from duvo_tui.api.models import WEB_APP_ONLY, HumanRequest
from duvo_tui.text import clean, clean_line

__all__ = ["HumanRequestView", "request_kind", "request_text", "web_app_only"]


def request_kind(request: HumanRequest) -> str:
    """``Approval``, ``2 question(s)``, or for a kind the API takes no answers to, its type: ``Login request``."""
    if not request.is_answerable:
        name = clean_line(request.type, 40).strip() or "unknown"
        return f"{name[0].upper()}{name[1:]} request"
    return "Approval" if request.is_approval else f"{len(request.questions)} question(s)"


def web_app_only(request: HumanRequest) -> str:
    """The sentence shown for a request this dashboard cannot answer (the command line says the same)."""
    return f"This {request_kind(request).lower()} cannot be answered here: {WEB_APP_ONLY}."


def request_text(request: HumanRequest | None, waiting_elsewhere: int = 0) -> Text:
    """The request as Text built from cleaned server strings (never markup)."""
    if request is None:
        text = Text("No pending request for this run.", style="italic")
        if waiting_elsewhere:
            text.append(f"\n{waiting_elsewhere} other run(s) wait for a person: press n.", style="bold")
        return text
    text = Text()
    text.append(f"◆ {request_kind(request)}: ", style="bold")
    text.append(clean_line(request.title or "(untitled)", 300), style="bold")
    if request.description:
        text.append("\n")
        text.append(clean(request.description))
    if not request.is_answerable:
        text.append("\n" + web_app_only(request), style="bold")
    for number, question in enumerate(request.questions, 1):
        text.append(f"\n{number}. ", style="bold")
        if question.header:
            text.append(clean_line(question.header, 80) + ": ", style="bold")
        text.append(clean_line(question.question, 400))
        for option in question.options:
            text.append("\n   • " + clean_line(option.label, 120))
            if option.description:
                text.append(" — " + clean_line(option.description, 200))  # server text: full contrast
    return text


class HumanRequestView(Static):
    """Shows one request read-only; the answering form replaces or joins it in the pane."""

    DEFAULT_CSS = """
    HumanRequestView { height: auto; padding: 0 1; }
    """

    def show_request(self, request: HumanRequest | None, waiting_elsewhere: int = 0) -> None:
        """Display ``request`` (None: say there is none)."""
        self.update(request_text(request, waiting_elsewhere))
