"""Sending a person's answer to a human request, and saying plainly what happened.

:func:`submit` calls ``respond`` (``DuvoService.respond`` or ``DuvoClient.respond``) once with the answer's
Idempotency-Key (the client retries transient failures and 429s with that same key), clears the draft only
when the server confirmed, and turns every failure into an :class:`Outcome` a form can show.
"""

from __future__ import annotations

import inspect
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from duvo_tui.api.errors import ConflictError, DuvoError, NotFoundError, ValidationError
from duvo_tui.service.drafts import DraftStore
from duvo_tui.text import clean_line

__all__ = ["Outcome", "Submission", "idempotency_key_for", "submit"]


@dataclass(frozen=True)
class Submission:
    """One answer to send: ``approved`` for an approval, ``answers`` (question -> answer) for questions."""

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


def _takes_key(respond: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(respond).parameters
    except (TypeError, ValueError):
        return False
    return "idempotency_key" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


async def submit(
    respond: Callable[..., Awaitable[Any]], submission: Submission, drafts: DraftStore | None = None
) -> Outcome:
    """Send ``submission`` through ``respond``; delete its draft once the server confirmed. Never raises DuvoError."""
    kwargs: dict[str, Any] = {"approved": submission.approved, "answers": submission.answers}
    if submission.idempotency_key and _takes_key(respond):
        kwargs["idempotency_key"] = submission.idempotency_key
    try:
        await respond(submission.run_id, submission.request_id, **kwargs)
    except ConflictError as error:
        text = clean_line(error.message, 300)
        if "answered" in text.lower():
            return Outcome("answered_elsewhere", f"This request was already answered elsewhere ({text}).")
        return Outcome("not_waiting", f"The run is no longer waiting for this answer ({text}).")
    except NotFoundError as error:
        return Outcome("gone", f"The request or its run no longer exists ({clean_line(error.message, 300)}).")
    except ValidationError as error:
        return Outcome("refused", f"The server refused the answer: {clean_line(str(error), 300)}")
    except DuvoError as error:
        return Outcome("failed", f"Not sent: {clean_line(str(error), 300)}")
    except Exception as error:
        return Outcome("failed", f"Not sent: {clean_line(repr(error), 300)}")
    if drafts is not None:
        try:
            drafts.delete(submission.request_id)
        except OSError:
            pass
    what = {True: "Approved.", False: "Denied."}.get(submission.approved, "Answers sent.")  # type: ignore[arg-type]
    return Outcome("answered", what)
