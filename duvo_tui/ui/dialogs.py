"""Modal dialogs: start a run, confirm, and a one-line prompt (add a run by id, save a transcript)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text
from textual import on
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from duvo_tui.service.assignments import Choice, matching
from duvo_tui.text import clean_line
from duvo_tui.ui.runs.run_format import format_age

__all__ = ["ConfirmScreen", "PromptScreen", "StartRunRequest", "StartRunScreen"]


@dataclass(frozen=True)
class StartRunRequest:
    """What the start dialog returns."""

    agent: str
    message: str | None
    sandbox: str | None


class StartRunScreen(ModalScreen[StartRunRequest | None]):
    """Assignment (name, alias or uuid), first message, optional sandbox; Enter in any field starts the run.

    Under the Assignment field, the Assignments the key can start (``load_choices``), filtered as the person
    types, each with its last run; ↑/↓ choose one, and Enter starts the chosen one. Without a choice, what was
    typed is resolved (a unique name, an alias or an id; an ambiguous name is refused with the candidates).
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="dialog.cancel"),
        Binding("down", "choose(1)", "Next Assignment", show=False, id="dialog.assignment_next"),
        Binding("up", "choose(-1)", "Previous Assignment", show=False, id="dialog.assignment_previous"),
    ]

    def __init__(
        self,
        aliases: list[str],
        error: str = "",
        initial: StartRunRequest | None = None,
        *,
        load_choices: Callable[[], Awaitable[Sequence[Choice]]] | None = None,
        now: datetime | None = None,
    ) -> None:
        super().__init__()
        self.aliases = aliases
        self.error = error
        self.initial = initial
        self.load_choices = load_choices
        self.now = now or datetime.now(UTC)
        self.options: list[Choice] = []
        """Every Assignment offered (once loaded)."""
        self.shown: list[Choice] = []
        """Those that fit what is typed, in the list's order."""
        self.chosen: Choice | None = None
        """The one picked with ↑/↓ (or a click); None until the person picks (then what was typed is resolved)."""

    def compose(self) -> ComposeResult:
        hint = "name, alias or id of an Assignment"
        with Vertical(classes="dialog start-dialog"):
            yield Label("Start a run", classes="dialog-title")
            yield Label("Assignment", classes="field-label")
            yield Input(
                value=self.initial.agent if self.initial else "",
                placeholder=hint,
                id="agent",
                compact=True,
                suggester=SuggestFromList(self.aliases, case_sensitive=False) if self.aliases else None,
            )
            assignments = OptionList(id="assignments", compact=True)
            assignments.can_focus = False  # the keys stay in the field: ↑/↓ choose, Tab goes on to the message
            yield assignments
            yield Label("Message (optional)", classes="field-label")
            yield Input(
                value=(self.initial.message or "") if self.initial else "",
                placeholder="what the agent should do",
                id="message",
                compact=True,
            )
            yield Label("Sandbox id (optional)", classes="field-label")
            yield Input(
                value=(self.initial.sandbox or "") if self.initial else "",
                placeholder="leave empty for none",
                id="sandbox",
                compact=True,
            )
            yield Static(Text(self.error), id="dialog-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Start", id="ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#agent", Input).focus()
        if self.load_choices is None:
            self.query_one("#assignments", OptionList).display = False
            return
        self._placeholder("Reading the Assignments…")
        self.run_worker(self._load(self.load_choices), group="assignments", exit_on_error=False)

    async def _load(self, load: Callable[[], Awaitable[Sequence[Choice]]]) -> None:
        try:
            self.options = list(await load())
        except Exception as error:  # the list is a help: an alias, a name or an id still start a run
            self._placeholder(f"Could not list the Assignments ({clean_line(str(error), 120)}); type an alias or id")
            return
        self._filter()

    def _placeholder(self, text: str) -> None:
        assignments = self.query_one("#assignments", OptionList)
        assignments.clear_options()
        assignments.add_option(Option(Text(text, style="italic"), disabled=True))

    def _filter(self) -> None:
        """Show the Assignments that fit the field; nothing is chosen yet."""
        typed = self.query_one("#agent", Input).value
        self.shown = matching(typed, self.options)
        self.chosen = None
        if not self.options:
            self._placeholder("No Assignments listed: type an alias or id")
            return
        if not self.shown:
            self._placeholder("No Assignment fits: an alias or an id still works")
            return
        assignments = self.query_one("#assignments", OptionList)
        assignments.clear_options()
        assignments.add_options([Option(choice_text(c, self.now), id=str(i)) for i, c in enumerate(self.shown)])
        # One left: lit, since Enter starts it (what was typed fits it alone); several: none until ↑/↓ picks.
        assignments.highlighted = 0 if len(self.shown) == 1 else None

    @on(Input.Changed, "#agent")
    def _on_agent_changed(self) -> None:
        if self.options:
            self._filter()

    def action_choose(self, step: int) -> None:
        """↑/↓ in the Assignment field: pick the next or previous Assignment in the list."""
        if self.focused is not self.query_one("#agent", Input) or not self.shown:
            raise SkipAction()
        assignments = self.query_one("#assignments", OptionList)
        if self.chosen is None or assignments.highlighted is None:
            index = 0 if step > 0 else len(self.shown) - 1  # the first pick: the top (↓) or the bottom (↑)
        else:
            index = max(0, min(len(self.shown) - 1, assignments.highlighted + step))
        assignments.highlighted = index
        self.chosen = self.shown[index]

    @on(OptionList.OptionSelected, "#assignments")
    def _on_assignment_clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.chosen = self.shown[int(event.option.id)]
            self._submit()

    def _submit(self) -> None:
        typed = self.query_one("#agent", Input).value.strip()
        agent = self.chosen.agent_id if self.chosen is not None else typed
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


def choice_text(choice: Choice, now: datetime) -> Text:
    """One Assignment in the start dialog: its name (or alias, or short id), its alias, its last run."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clean_line(choice.label, 80), style="bold")
    if choice.alias and choice.name:
        text.append(f"  ({clean_line(choice.alias, 30)})")
    age = format_age(choice.last_run_at, now)
    text.append(
        "  · never run" if choice.last_run_at is None else f"  · last run {age}" + ("" if age == "now" else " ago"),
        style="dim",
    )
    return text


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
