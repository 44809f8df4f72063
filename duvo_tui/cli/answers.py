"""``runs respond --answer QUESTION=ANSWER``: the arguments checked against the request's questions.

QUESTION is the question's text, its header or its number; ANSWER is free text, or one of the offered
labels (case does not matter), or for a multi-select question several labels separated by commas.
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


def _check_answer(question: Question, value: str) -> str:
    value = value.strip()
    if not value:
        raise UsageError(f"the answer to {question.question!r} is empty")
    if question.is_free_text:
        return value
    labels = {option.label.casefold(): option.label for option in question.options}
    if value.casefold() in labels:
        return labels[value.casefold()]
    parts = [part.strip() for part in value.split(",") if part.strip()] if question.multi_select else [value]
    chosen = []
    for part in parts:
        if part.casefold() not in labels:
            known = ", ".join(option.label for option in question.options)
            raise UsageError(f"{part!r} is not an option of {question.question!r} (options: {known})")
        if labels[part.casefold()] not in chosen:
            chosen.append(labels[part.casefold()])
    return ", ".join(chosen)


def build_answers(request: HumanRequest, raw_answers: list[str]) -> dict[str, str]:
    """``QUESTION=ANSWER`` arguments checked against the request's questions: question text -> answer.

    UsageError for an unknown question, an option that is not offered, or a question left unanswered.
    """
    answers: dict[str, str] = {}
    for raw in raw_answers:
        question, value = _match_question(request, raw)
        answers[question.question] = _check_answer(question, value)
    missing = [q.question for q in request.questions if q.question not in answers]
    if missing:
        raise UsageError(f"no answer for {missing[0]!r} (questions: {_question_list(request)})")
    return answers
