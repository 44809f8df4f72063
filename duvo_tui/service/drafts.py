"""Draft answers to human requests, kept on disk so nothing typed is lost.

One JSON file per request under ``<state dir>/drafts/`` (owner-only, written atomically). A draft holds
what the person has chosen or typed so far and the Idempotency-Key of its submission, so a retry after a
restart is still recognised by the server as the same answer. A draft is removed only once the server has
confirmed the answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from duvo_tui.locations import atomic_write, state_dir

__all__ = ["Draft", "DraftStore", "QuestionDraft"]

log = logging.getLogger(__name__)

_VERSION = 1


@dataclass
class QuestionDraft:
    """What is chosen for one question: option labels (in option order) and free text ("other" or the answer)."""

    chosen: list[str] = field(default_factory=list)
    text: str = ""

    def is_empty(self) -> bool:
        return not self.chosen and not self.text.strip()


@dataclass
class Draft:
    """A person's answer in progress to one request."""

    run_id: str
    request_id: str
    idempotency_key: str = field(default_factory=lambda: str(uuid.uuid4()))
    approved: bool | None = None
    """An approval decision that was submitted but not confirmed by the server."""
    answers: dict[str, QuestionDraft] = field(default_factory=dict)
    """Question text -> what is chosen or typed for it."""
    updated_at: float = field(default_factory=time.time)

    def is_empty(self) -> bool:
        return self.approved is None and all(a.is_empty() for a in self.answers.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "version": _VERSION,
            "run_id": self.run_id,
            "request_id": self.request_id,
            "idempotency_key": self.idempotency_key,
            "approved": self.approved,
            "answers": {q: {"chosen": list(a.chosen), "text": a.text} for q, a in self.answers.items()},
            "updated_at": self.updated_at,
        }

    @classmethod
    def from_json(cls, data: Any) -> Draft | None:
        """A draft from what :meth:`to_json` wrote; None for anything else."""
        if not isinstance(data, dict):
            return None
        run_id, request_id = data.get("run_id"), data.get("request_id")
        if not isinstance(run_id, str) or not isinstance(request_id, str) or not request_id:
            return None
        key = data.get("idempotency_key")
        approved = data.get("approved")
        answers: dict[str, QuestionDraft] = {}
        raw_answers = data.get("answers")
        for question, raw in raw_answers.items() if isinstance(raw_answers, dict) else ():
            if not isinstance(question, str) or not isinstance(raw, dict):
                continue
            chosen = raw.get("chosen")
            text = raw.get("text")
            answers[question] = QuestionDraft(
                chosen=[c for c in chosen if isinstance(c, str)] if isinstance(chosen, list) else [],
                text=text if isinstance(text, str) else "",
            )
        updated = data.get("updated_at")
        return cls(
            run_id=run_id,
            request_id=request_id,
            idempotency_key=key if isinstance(key, str) and key else str(uuid.uuid4()),
            approved=approved if isinstance(approved, bool) else None,
            answers=answers,
            updated_at=float(updated) if isinstance(updated, (int, float)) else 0.0,
        )


class DraftStore:
    """Drafts on disk, one file per request. File names are hashes, so no server id can name a path."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = (root if root is not None else state_dir()) / "drafts"

    def path_for(self, request_id: str) -> Path:
        digest = hashlib.sha256(request_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]
        return self.root / f"{digest}.json"

    def load(self, request_id: str) -> Draft | None:
        """The stored draft for ``request_id``; None when there is none or the file is unreadable."""
        path = self.path_for(request_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            log.warning("draft %s unreadable: %s", path.name, error)
            return None
        draft = Draft.from_json(data)
        return draft if draft is not None and draft.request_id == request_id else None

    def save(self, draft: Draft) -> None:
        """Write ``draft`` (atomically, 0600). Raises OSError when the disk refuses."""
        draft.updated_at = time.time()
        text = json.dumps(draft.to_json(), ensure_ascii=False)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (pasted, or bytes that are not UTF-8): keep it as a JSON escape
            text = json.dumps(draft.to_json())
        atomic_write(self.path_for(draft.request_id), text, mode=0o600)

    def delete(self, request_id: str) -> None:
        """Forget the draft of ``request_id`` (after the server confirmed the answer)."""
        try:
            self.path_for(request_id).unlink()
        except FileNotFoundError:
            pass

    def all(self) -> list[Draft]:
        """Every readable draft, oldest change first."""
        drafts = []
        for path in sorted(self.root.glob("*.json")) if self.root.is_dir() else []:
            try:
                draft = Draft.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
            if draft is not None:
                drafts.append(draft)
        return sorted(drafts, key=lambda d: d.updated_at)
