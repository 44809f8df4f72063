"""One question of a human request, answered from the keyboard: its options, an "other" answer, or free text.

Every string shown comes from the server, so it is cleaned and rendered as ``Text`` (never markup).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Static

from duvo_tui.api.models import Question
from duvo_tui.service.drafts import QuestionDraft
from duvo_tui.text import clean_line

__all__ = ["ChoiceList", "QuestionBlock", "answer_for"]

OTHER_LABEL = "Other (type an answer of your own)"


def answer_for(question: Question, draft: QuestionDraft) -> str:
    """The answer string the API takes: a label, labels joined by ", " (multi-select), or the typed text."""
    other = draft.text.strip()
    if question.is_free_text:
        return other
    labels = [o.label for o in question.options if o.label in draft.chosen]
    if question.multi_select:
        return ", ".join([*labels, *([other] if other else [])])
    return other if other and not labels else (labels[0] if labels else other)


class ChoiceList(Widget, can_focus=True):
    """The options of a question, numbered; one chosen (single choice) or any number (multi-select).

    Keys: digits pick an option, up/down move, space picks (or toggles) the highlighted one; the last row,
    "Other", moves to the free-text answer.
    """

    DEFAULT_CSS = """
    ChoiceList { height: auto; padding: 0 0 0 2; }
    ChoiceList:focus { background: $boost; }
    """

    cursor: reactive[int] = reactive(0)

    @dataclass
    class Changed(Message):
        """The chosen options changed. ``advance``: "choice" (a single choice was made) or "enter"."""

        choice_list: ChoiceList
        advance: str = ""

    @dataclass
    class OtherWanted(Message):
        """The "Other" row was picked: the free-text answer should take focus."""

        choice_list: ChoiceList

    def __init__(self, question: Question, chosen: list[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.question = question
        self.chosen: list[str] = [o.label for o in question.options if o.label in chosen]

    @property
    def row_count(self) -> int:
        return len(self.question.options) + 1

    def _rows(self) -> list[Text]:
        """One Text per row: the options, then "Other" (a row wraps when its label and description are long)."""
        rows: list[Text] = []
        multi = self.question.multi_select
        for index, option in enumerate(self.question.options):
            picked = option.label in self.chosen
            mark = ("☒ " if picked else "☐ ") if multi else ("● " if picked else "○ ")
            pointer = "▸ " if index == self.cursor and self.has_focus else "  "
            line = Text(f"{pointer}{index + 1 if index < 9 else ' '} {mark}")
            line.append(clean_line(option.label, 200), style="bold" if picked else "")
            if option.description:
                line.append("  — " + clean_line(option.description, 300))  # server text: full contrast, not dim
            rows.append(line)
        pointer = "▸ " if self.cursor == len(self.question.options) and self.has_focus else "  "
        other_number = len(self.question.options) + 1
        rows.append(Text(f"{pointer}{other_number if other_number <= 9 else ' '} … {OTHER_LABEL}", style="italic"))
        return rows

    def render(self) -> Text:
        return Text("\n", no_wrap=False, end="").join(self._rows())

    def cursor_lines(self) -> tuple[int, int]:
        """The first line of the cursor's row inside this widget's content, and how many lines it takes."""
        width = max(1, self.content_size.width)
        console = self.app.console
        top = 0
        for index, row in enumerate(self._rows()):
            height = max(1, len(row.wrap(console, width)))
            if index == self.cursor:
                return top, height
            top += height
        return top, 1

    def reveal_cursor(self) -> None:
        """Scroll every container around this list so that the cursor's row is on screen."""
        if not self.is_attached or not self.has_focus:
            return
        top, height = self.cursor_lines()
        virtual = self.virtual_region
        gutter = self.styles.gutter
        region = Region(virtual.x, virtual.y + gutter.top + top, virtual.width, height)
        widget: Widget = self
        while isinstance(widget.parent, Widget):
            container = widget.parent
            offset = container.scroll_to_region(region, animate=False, immediate=True)
            # Into the parent's own coordinates, as Textual's scroll_to_widget does.
            region = (
                region.translate(-offset)
                .translate(container.styles.margin.top_left)
                .translate(container.styles.border.spacing.top_left)
                .translate(container.virtual_region_with_margin.offset)
                .grow(container.styles.margin)
                .intersection(container.virtual_region_with_margin)
            )
            if not region:
                return
            widget = container

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def watch_cursor(self) -> None:
        self.refresh()
        # The row under the cursor must be on screen, however many options the question has.
        self.call_after_refresh(self.reveal_cursor)

    def pick(self, index: int) -> None:
        """Choose (single) or toggle (multi) option ``index``; the row after the options is "Other"."""
        self.cursor = max(0, min(index, self.row_count - 1))
        if index >= len(self.question.options):
            self.post_message(self.OtherWanted(self))
            return
        label = self.question.options[index].label
        if self.question.multi_select:
            if label in self.chosen:
                self.chosen.remove(label)
            else:
                self.chosen.append(label)
            self.chosen = [o.label for o in self.question.options if o.label in self.chosen]
            self.post_message(self.Changed(self))
        else:
            self.chosen = [label]
            self.post_message(self.Changed(self, advance="choice"))
        self.refresh()

    def on_key(self, event: events.Key) -> None:
        key = event.key
        handled = True
        if key in ("up", "k"):
            self.cursor = (self.cursor - 1) % self.row_count
        elif key in ("down", "j"):
            self.cursor = (self.cursor + 1) % self.row_count
        elif key == "space":
            self.pick(self.cursor)
        elif key == "enter":
            options = self.question.options
            if not self.question.multi_select and not self.chosen and self.cursor < len(options):
                self.chosen = [options[self.cursor].label]
                self.refresh()
            if self.cursor >= len(options):
                self.post_message(self.OtherWanted(self))
            else:
                self.post_message(self.Changed(self, advance="enter"))
        elif len(key) == 1 and key.isdigit() and key != "0":
            number = int(key)
            if number <= self.row_count:
                self.pick(number - 1)
        else:
            handled = False
        if handled:
            event.stop()
            event.prevent_default()


class QuestionBlock(Vertical):
    """A question's header and text, and the widget that answers it."""

    DEFAULT_CSS = """
    QuestionBlock { height: auto; margin: 1 0 0 0; }
    QuestionBlock .question-text { height: auto; }
    QuestionBlock Input { margin: 0 0 0 2; width: 1fr; }
    QuestionBlock .-other-hidden { display: none; }
    QuestionBlock .question-missing { height: 1; color: $text-error; text-style: bold; padding-left: 2; }
    """

    @dataclass
    class Edited(Message):
        """Something in this question's answer changed. ``advance``: "" (stay), "choice" or "enter"."""

        block: QuestionBlock
        advance: str = ""

    def __init__(self, question: Question, number: int, total: int, draft: QuestionDraft, **kwargs) -> None:
        super().__init__(**kwargs)
        self.question = question
        self.number = number
        self.total = total
        self.draft = draft

    def compose(self) -> ComposeResult:
        question = self.question
        text = Text(f"{self.number}/{self.total} ", style="bold")
        if question.header:
            text.append(clean_line(question.header, 80), style="bold reverse")
            text.append(" ")
        text.append(clean_line(question.question, 500), style="bold")
        if question.is_free_text:
            text.append("  (type the answer)", style="dim")
        elif question.multi_select:
            text.append("  (any number: digits or space toggle)", style="dim")
        else:
            text.append("  (one: press its digit)", style="dim")
        yield Static(text, classes="question-text")
        yield Static(Text("← answer this question first"), classes="question-missing -other-hidden")
        if question.is_free_text:
            yield Input(self.draft.text, placeholder="your answer", compact=True, classes="answer-text")
        else:
            yield ChoiceList(question, self.draft.chosen)
            hidden = "" if self.draft.text else " -other-hidden"
            yield Input(
                self.draft.text,
                placeholder="other: your own answer (↑ or esc: back to the options)",
                compact=True,
                classes="answer-other" + hidden,
            )

    @property
    def entry(self) -> Widget:
        """The widget that takes focus when this question is reached."""
        if self.question.is_free_text:
            return self.query_one(Input)
        return self.query_one(ChoiceList)

    @property
    def answer(self) -> str:
        return answer_for(self.question, self.draft)

    def mark_missing(self, missing: bool) -> None:
        """Say under the question that it still needs an answer (next to where the focus goes)."""
        self.query_one(".question-missing").set_class(not missing, "-other-hidden")

    def on_choice_list_changed(self, event: ChoiceList.Changed) -> None:
        event.stop()
        self.mark_missing(False)
        self.draft.chosen = list(event.choice_list.chosen)
        if not self.question.multi_select and self.draft.chosen and self.draft.text:
            # A single choice replaces an "other" answer; the text stays in the box (hidden) in case it is wanted.
            self.draft.text = ""
            self.query_one(".answer-other", Input).value = ""
        self.post_message(self.Edited(self, advance=event.advance))

    def on_choice_list_other_wanted(self, event: ChoiceList.OtherWanted) -> None:
        event.stop()
        box = self.query_one(".answer-other", Input)
        box.remove_class("-other-hidden")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.draft.text == event.value:
            return
        self.draft.text = event.value
        self.mark_missing(False)
        if not self.question.is_free_text and not self.question.multi_select and event.value.strip():
            self.draft.chosen = []
            choices = self.query_one(ChoiceList)
            choices.chosen = []
            choices.refresh()
        self.post_message(self.Edited(self))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Edited(self, advance="enter"))

    def on_key(self, event: events.Key) -> None:
        if self.question.is_free_text:
            return
        box = self.query_one(".answer-other", Input)
        if box.has_focus and event.key in ("up", "escape"):
            event.stop()
            if not box.value:
                box.add_class("-other-hidden")
            self.query_one(ChoiceList).focus()
