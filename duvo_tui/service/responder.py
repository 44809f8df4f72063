"""Sending a person's answer to a human request, and saying plainly what happened.

:func:`answer` is the one way an answer leaves duvo-tui (the dashboard's form and ``runs respond`` both come
here, through ``DuvoService.respond``): it keeps the answer as a draft until the server confirmed it, sends it
once with an Idempotency-Key derived from the draft (so a retry, even after a restart, is the same answer; the
client retries transient failures and 429s with that key), and turns every failure into an :class:`Outcome`.
It never raises for a failure of the answer: one submission, one outcome.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from duvo_tui.api.errors import ConflictError, DuvoError, NotFoundError, ValidationError
from duvo_tui.api.models import HumanRequestResult
from duvo_tui.service.drafts import Draft, DraftStore, QuestionDraft
from duvo_tui.text import clean_line

__all__ = ["Outcome", "RespondCall", "Submission", "answer", "idempotency_key_for"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submission:
    """One answer to send: ``approved`` for an approval, ``answers`` (question -> answer) for questions.

    ``idempotency_key`` is for callers that keep their own (a benchmark); otherwise the draft's key is used."""

    run_id: str
    request_id: str
    approved: bool | None = None
    answers: Mapping[str, str] | None = None
    idempotency_key: str = ""


@dataclass(frozen=True)
class Outcome:
    """What became of a submission. ``kind``: answered, answered_elsewhere, not_waiting, gone, refused, failed."""

    kind: str
    message: str
    result: HumanRequestResult | None = None
    """The server's reply, when it took the answer."""
    error: Exception | None = field(default=None, compare=False)
    """What went wrong, when something did (the command line turns it into its exit status)."""

    @property
    def ok(self) -> bool:
        return self.kind == "answered"

    @property
    def final(self) -> bool:
        """True when sending again cannot help (the request is closed)."""
        return self.kind in ("answered", "answered_elsewhere", "not_waiting", "gone")


def idempotency_key_for(salt: str, approved: bool | None, answers: Mapping[str, str] | None) -> str:
    """A key that is the same for the same answer (so retries, even after a restart, are one answer) and
    different for a changed answer. ``salt`` is the draft's own random key."""
    value = {"approved": approved, "answers": dict(answers or {})}
    payload = json.dumps(value, sort_keys=True, ensure_ascii=False)
    try:
        payload.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the client will refuse the answer, but the key must not fail
        payload = json.dumps(value, sort_keys=True)
    try:
        namespace = uuid.UUID(salt)
    except ValueError:
        namespace = uuid.uuid5(uuid.NAMESPACE_URL, salt)
    return str(uuid.uuid5(namespace, payload))


class RespondCall(Protocol):
    """The client's ``respond``: one POST with the given Idempotency-Key (retried inside with that key)."""

    async def __call__(
        self,
        run_id: str,
        request_id: str,
        *,
        approved: bool | None = None,
        answers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> HumanRequestResult: ...


def _key(submission: Submission, drafts: DraftStore | None) -> str:
    """The submission's Idempotency-Key: from its draft's random salt, the draft kept on disk until confirmed."""
    if submission.idempotency_key:
        return submission.idempotency_key
    draft = drafts.load(submission.request_id) if drafts is not None else None
    if draft is None:
        draft = Draft(run_id=submission.run_id, request_id=submission.request_id)
    draft.approved = submission.approved
    if submission.answers and not draft.answers:
        # Answered without the form (the command line): keep the answers, so a failed send loses nothing.
        draft.answers = {q: QuestionDraft(text=a) for q, a in submission.answers.items()}
    if drafts is not None:
        try:
            drafts.save(draft)
        except OSError as error:  # the answer is still sent; only a retry after a restart would get a new key
            log.warning("draft of %s not saved: %s", submission.request_id, error)
    return idempotency_key_for(draft.idempotency_key, submission.approved, submission.answers)


async def answer(respond: RespondCall, submission: Submission, drafts: DraftStore | None = None) -> Outcome:
    """Send ``submission`` through ``respond``; delete its draft once the server confirmed. Never raises DuvoError."""
    try:
        key = _key(submission, drafts)
        result = await respond(
            submission.run_id,
            submission.request_id,
            approved=submission.approved,
            answers=submission.answers,
            idempotency_key=key,
        )
    except ConflictError as error:
        text = clean_line(error.message, 300)
        if "answered" in text.lower():
            return Outcome("answered_elsewhere", f"This request was already answered elsewhere ({text}).", error=error)
        return Outcome("not_waiting", f"The run is no longer waiting for this answer ({text}).", error=error)
    except NotFoundError as error:
        message = f"The request or its run no longer exists ({clean_line(error.message, 300)})."
        return Outcome("gone", message, error=error)
    except ValidationError as error:
        return Outcome("refused", f"The server refused the answer: {clean_line(str(error), 300)}", error=error)
    except DuvoError as error:
        return Outcome("failed", f"Not sent: {clean_line(str(error), 300)}", error=error)
    except Exception as error:
        return Outcome("failed", f"Not sent: {clean_line(repr(error), 300)}", error=error)
    if drafts is not None:
        try:
            drafts.delete(submission.request_id)
        except OSError:
            pass
    if submission.approved is None:
        return Outcome("answered", "Answers sent.", result)
    return Outcome("answered", "Approved." if submission.approved else "Denied.", result)
