"""A read-only view of a run's pending human request (title, description, questions)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from duvo_tui.api.models import HumanRequest
from duvo_tui.text import clean, clean_line

__all__ = ["HumanRequestView", "request_text"]


def request_text(request: HumanRequest | None, waiting_elsewhere: int = 0) -> Text:
    """The request as Text built from cleaned server strings (never markup)."""
    if request is None:
        text = Text("No pending request for this run.", style="italic")
        if waiting_elsewhere:
            text.append(f"\n{waiting_elsewhere} other run(s) wait for a person: press n.", style="bold")
        return text
    kind = "Approval" if request.is_approval else "Questions"
    text = Text()
    text.append(f"◆ {kind}: ", style="bold")
    text.append(clean_line(request.title or "(untitled)", 300), style="bold")
    if request.description:
        text.append("\n")
        text.append(clean(request.description))
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
