"""``runs respond --answer QUESTION=ANSWER``: the arguments checked against the request's questions.

QUESTION is the question's text, its header or its number; ANSWER is one of the offered labels (case does
not matter), for a multi-select question several labels separated by commas, or an answer of one's own (free
text, as "Other" in the dashboard; a multi-select may mix labels and it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from duvo_tui.cli.context import UsageError

if TYPE_CHECKING:
    from duvo_tui.api.models import HumanRequest, Question

__all__ = ["build_answers"]


def _question_list(request: HumanRequest) -> str:
    return "; ".join(f"{i}) {q.question}" for i, q in enumerate(request.questions, 1))


def _match_question(request: HumanRequest, raw: str) -> tuple[Question, str]:
    if "=" not in raw:
        raise UsageError(f"--answer {raw!r} must look like QUESTION=ANSWER")
    best: tuple[int, Question, str] | None = None
    for index, question in enumerate(request.questions, 1):
        names = (question.question, *([question.header] if question.header else []), str(index))
        for name in names:
            prefix = name + "="
            # Case does not matter, unless case-folding changes the length (then only the exact text matches).
            same = raw.startswith(prefix) or (
                len(prefix.casefold()) == len(prefix) and raw[: len(prefix)].casefold() == prefix.casefold()
            )
            if same and (best is None or len(name) > best[0]):
                best = (len(name), question, raw[len(prefix) :])
    if best is None:
        asked = raw.split("=", 1)[0]
        raise UsageError(f"no question {asked!r} in this request (questions: {_question_list(request)})")
    return best[1], best[2]


def _check_answer(question: Question, value: str, notes: list[str] | None) -> str:
    """The answer to send: offered labels in their own spelling, anything else as the person's own answer.

    The API takes any string as an answer (``answers`` maps question text to a string), and the dashboard
    offers "Other" beside the options, so text that is not a label is sent as typed (with a note). What is
    refused: an empty answer, and several labels for a single-choice question.
    """
    value = value.strip()
    if not value:
        raise UsageError(f"the answer to {question.question!r} is empty")
    if question.is_free_text:
        return value
    labels = {option.label.casefold(): option.label for option in question.options}
    if value.casefold() in labels:
        return labels[value.casefold()]
    parts = [part.strip() for part in value.split(",")]
    if not question.multi_select:
        picked = [labels[part.casefold()] for part in parts if part.casefold() in labels]
        if len(picked) > 1 and all(part.casefold() in labels for part in parts if part):
            raise UsageError(
                f"{question.question!r} takes one option, not {len(picked)} ({', '.join(picked)}); "
                "several options are for multi-select questions"
            )
        _note_own(question, value, notes)
        return value
    chosen: list[str] = []
    own: list[str] = []
    for part in filter(None, parts):
        label = labels.get(part.casefold())
        if label is None:
            own.append(part)
        elif label not in chosen:
            chosen.append(label)
    if not chosen and not own:
        raise UsageError(f"the answer to {question.question!r} is empty")
    if own:
        _note_own(question, ", ".join(own), notes)
    return ", ".join([*chosen, *own])


def _note_own(question: Question, text: str, notes: list[str] | None) -> None:
    if notes is not None:
        known = ", ".join(option.label for option in question.options)
        notes.append(f"{text!r} is not an option of {question.question!r} (options: {known}); sent as your own answer")


def build_answers(request: HumanRequest, raw_answers: list[str], notes: list[str] | None = None) -> dict[str, str]:
    """``QUESTION=ANSWER`` arguments checked against the request's questions: question text -> answer.

    UsageError for an unknown question, an empty answer, several options for a single-choice question, or
    a question left unanswered. An answer that is not an offered label is the person's own (as "Other" in
    the dashboard): it is kept as typed and, when ``notes`` is given, a line saying so is appended to it.
    """
    answers: dict[str, str] = {}
    for raw in raw_answers:
        question, value = _match_question(request, raw)
        answers[question.question] = _check_answer(question, value, notes)
    missing = [q.question for q in request.questions if q.question not in answers]
    if missing:
        raise UsageError(f"no answer for {missing[0]!r} (questions: {_question_list(request)})")
    return answers
