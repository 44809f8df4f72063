"""Modal dialogs: start a run, confirm, and a one-line prompt (add a run by id, save a transcript)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Static

__all__ = ["ConfirmScreen", "PromptScreen", "StartRunRequest", "StartRunScreen"]


@dataclass(frozen=True)
class StartRunRequest:
    """What the start dialog returns."""

    agent: str
    message: str | None
    sandbox: str | None


class StartRunScreen(ModalScreen[StartRunRequest | None]):
    """Assignment (name, alias or uuid), first message, optional sandbox; Enter in any field starts the run."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def __init__(self, aliases: list[str], error: str = "", initial: StartRunRequest | None = None) -> None:
        super().__init__()
        self.aliases = aliases
        self.error = error
        self.initial = initial

    def compose(self) -> ComposeResult:
        hint = "name, alias or id of an Assignment"
        with Vertical(classes="dialog"):
            yield Label("Start a run", classes="dialog-title")
            yield Label("Assignment", classes="field-label")
            yield Input(
                value=self.initial.agent if self.initial else "",
                placeholder=hint,
                id="agent",
                suggester=SuggestFromList(self.aliases, case_sensitive=False) if self.aliases else None,
            )
            yield Label("Message (optional)", classes="field-label")
            yield Input(
                value=(self.initial.message or "") if self.initial else "",
                placeholder="what the agent should do",
                id="message",
            )
            yield Label("Sandbox id (optional)", classes="field-label")
            yield Input(
                value=(self.initial.sandbox or "") if self.initial else "",
                placeholder="leave empty for none",
                id="sandbox",
            )
            yield Static(Text(self.error), id="dialog-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Start", id="ok", variant="primary")

    def _submit(self) -> None:
        agent = self.query_one("#agent", Input).value.strip()
        if not agent:
            self.query_one("#dialog-error", Static).update(Text("Give an Assignment: its name, an alias or its id."))
            self.query_one("#agent", Input).focus()
            return
        message = self.query_one("#message", Input).value.strip() or None
        sandbox = self.query_one("#sandbox", Input).value.strip() or None
        self.dismiss(StartRunRequest(agent, message, sandbox))

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        # One Enter starts the run from any field; Tab moves between them.
        self._submit()

    @on(Button.Pressed, "#ok")
    def _on_ok(self) -> None:
        self._submit()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question whose default (focused) answer is No."""

    BINDINGS = [
        Binding("escape,n", "answer(False)", "No", id="confirm.no"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("left,right,h,l", "app.focus_next", "Other button", show=False, id="confirm.switch"),
    ]

    def __init__(self, question: Text, yes: str = "Yes") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-question")
            with Horizontal(classes="dialog-buttons"):
                yield Button("No", id="no")
                yield Button(self.yes, id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _on_button(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class PromptScreen(ModalScreen[str | None]):
    """One line of input, with a title; returns the text, or None (cancelled, or nothing typed unless
    ``allow_empty``: then nothing typed is ``""``)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, placeholder: str = "", value: str = "", *, allow_empty: bool = False) -> None:
        super().__init__()
        self.allow_empty = allow_empty
        self.title_text = title
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt")

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        self.dismiss(value if value or self.allow_empty else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
