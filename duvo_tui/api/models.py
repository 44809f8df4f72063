"""Typed views of what the Duvo API sends.

Every parser here is total: unknown fields are ignored, unknown status strings
are kept as they are, missing optional fields become ``None`` and timestamps
that do not parse become ``None``. Nothing in this module raises on server data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from duvo_tui.api.parse import as_dict as _dict
from duvo_tui.api.parse import as_int as _int
from duvo_tui.api.parse import as_list as _list
from duvo_tui.api.parse import as_str as _str
from duvo_tui.api.parse import opt_str as _opt_str
from duvo_tui.api.parse import parse_timestamp
from duvo_tui.api.parse import positive_seconds as _seconds
from duvo_tui.api.status import RunStatus

__all__ = [
    "HumanRequest",
    "HumanRequestResult",
    "Message",
    "MessagePage",
    "Question",
    "QuestionOption",
    "Run",
    "RunDetail",
    "RunPage",
    "RunStatus",
    "Sandbox",
    "SandboxFile",
    "StopResult",
    "TeamRun",
    "TeamRunPage",
    "ToolCall",
    "ToolResult",
    "UploadUrl",
    "UploadedFile",
    "parse_timestamp",
]



ANSWERABLE_REQUEST_TYPES = frozenset({"approval", "question"})
"""Human request types the API takes answers to; any other is answered in the Duvo web app."""

WEB_APP_ONLY = "answer this in the Duvo web app"
"""What the dashboard and the command line say of a request they cannot answer."""


@dataclass(frozen=True)
class Run:
    """One run of an assignment, as ``GET /v1/runs/{id}`` or a run listing describes it."""

    id: str
    agent_id: str = ""
    status: RunStatus = RunStatus.UNKNOWN
    build_id: str | None = None
    source: str | None = None
    sandbox_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    human_in_the_loop_enabled: bool = False
    # Only the run listings (``GET /v1/runs``, the team listing) send these.
    title: str | None = None
    agent_name: str | None = None
    run_number: int | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        # A status given as a plain string (a test, ``replace``) still reads through the one vocabulary.
        if type(self.status) is not RunStatus:
            object.__setattr__(self, "status", RunStatus(self.status or RunStatus.UNKNOWN))

    @classmethod
    def from_json(cls, data: Any) -> Run | None:
        """A run from a JSON object; None when ``data`` is null, not an object, or has no id."""
        if not isinstance(data, dict):
            return None
        run_id = _str(data.get("id"))
        if not run_id:
            return None
        return cls(
            id=run_id,
            agent_id=_str(data.get("agent_id")),
            status=RunStatus(_str(data.get("status")) or RunStatus.UNKNOWN),
            build_id=_opt_str(data.get("build_id")),
            source=_opt_str(data.get("source")),
            sandbox_id=_opt_str(data.get("sandbox_id")),
            created_at=parse_timestamp(data.get("created_at")),
            updated_at=parse_timestamp(data.get("updated_at")),
            started_at=parse_timestamp(data.get("started_at")),
            completed_at=parse_timestamp(data.get("completed_at")),
            human_in_the_loop_enabled=data.get("human_in_the_loop_enabled") is True,
            title=_opt_str(data.get("title")),
            agent_name=_opt_str(data.get("agent_name")),
            run_number=_run_number(data.get("run_number")),
            user_id=_opt_str(data.get("user_id")),
        )


def _run_number(value: Any) -> int | None:
    """The run's number in its Assignment (shown as #N); None when absent or not a positive whole number."""
    number = _int(value, 0)
    return number if number > 0 else None


@dataclass(frozen=True)
class QuestionOption:
    """One predefined answer to a question."""

    label: str
    description: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> QuestionOption | None:
        if isinstance(data, str):
            return cls(label=data)
        if not isinstance(data, dict):
            return None
        label = _str(data.get("label"))
        if not label:
            return None
        return cls(label=label, description=_opt_str(data.get("description")))


@dataclass(frozen=True)
class Question:
    """One question of a ``question`` human request. No options means free text."""

    question: str
    header: str | None = None
    options: tuple[QuestionOption, ...] = ()
    multi_select: bool = False

    @property
    def is_free_text(self) -> bool:
        return not self.options

    @classmethod
    def from_json(cls, data: Any) -> Question | None:
        if isinstance(data, str):
            return cls(question=data) if data else None
        if not isinstance(data, dict):
            return None
        text = _str(data.get("question"))
        if not text:
            return None
        options = tuple(o for o in (QuestionOption.from_json(x) for x in _list(data.get("options"))) if o)
        return cls(
            question=text,
            header=_opt_str(data.get("header")),
            options=options,
            multi_select=data.get("multi_select") is True,
        )


@dataclass(frozen=True)
class HumanRequest:
    """A run's pending request for a person: an approval (yes/no) or structured questions."""

    id: str
    run_id: str
    title: str = ""
    description: str | None = None
    type: str = "approval"
    created_at: datetime | None = None
    questions: tuple[Question, ...] = ()

    @property
    def is_approval(self) -> bool:
        return self.type != "question"

    @property
    def is_answerable(self) -> bool:
        """An approval or questions: the kinds the API takes answers to. Others (a login request) are
        answered in the Duvo web app."""
        return self.type in ANSWERABLE_REQUEST_TYPES

    @classmethod
    def from_json(cls, data: Any, run_id: str = "") -> HumanRequest | None:
        if not isinstance(data, dict):
            return None
        req_id = _str(data.get("id"))
        if not req_id:
            return None
        questions = tuple(q for q in (Question.from_json(x) for x in _list(data.get("questions"))) if q)
        kind = _str(data.get("type"), "approval") or "approval"
        return cls(
            id=req_id,
            run_id=_str(data.get("run_id")) or run_id,
            title=_str(data.get("title")),
            description=_opt_str(data.get("description")),
            type=kind,
            created_at=parse_timestamp(data.get("created_at")),
            questions=questions,
        )


@dataclass(frozen=True)
class RunDetail:
    """``GET /v1/runs/{id}``: the run (None when it no longer exists) and its pending request."""

    run: Run | None
    pending_human_request: HumanRequest | None = None

    @classmethod
    def from_json(cls, data: Any) -> RunDetail:
        body = _dict(data)
        run = Run.from_json(body.get("run"))
        request = HumanRequest.from_json(body.get("pending_human_request"), run.id if run else "")
        return cls(run=run, pending_human_request=request)


@dataclass(frozen=True)
class ToolCall:
    """An assistant's call of a tool."""

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> ToolCall | None:
        if not isinstance(data, dict):
            return None
        args = data.get("arguments")
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except (ValueError, RecursionError):
                args = {"_raw": args}
        if not isinstance(args, dict):
            args = {} if args is None else {"_value": args}
        return cls(id=_str(data.get("id")), name=_str(data.get("name"), "?") or "?", arguments=args)


@dataclass(frozen=True)
class ToolResult:
    """What a tool returned (``result``, any JSON value) or the error it raised."""

    tool_call_id: str
    result: Any = None
    error: str | None = None

    @property
    def is_error(self) -> bool:
        return bool(self.error)

    @classmethod
    def from_json(cls, data: Any) -> ToolResult | None:
        if not isinstance(data, dict):
            return None
        return cls(
            tool_call_id=_str(data.get("tool_call_id")),
            result=data.get("result"),
            error=_opt_str(data.get("error")),
        )


@dataclass(frozen=True)
class Message:
    """One message of a run's conversation."""

    id: str
    type: str = "message"
    role: str = "assistant"
    timestamp: datetime | None = field(default=None, metadata={"raw": "raw_timestamp"})
    text_content: str | None = None
    tool_call: ToolCall | None = None
    tool_result: ToolResult | None = None
    raw_timestamp: str | None = field(default=None, metadata={"local": True})
    """The timestamp as the server wrote it (no API field of its own: JSON output shows it as ``timestamp``
    only when it could not be parsed)."""

    @classmethod
    def from_json(cls, data: Any) -> Message | None:
        if not isinstance(data, dict):
            return None
        raw_ts = _opt_str(data.get("timestamp"))
        return cls(
            id=_str(data.get("id")),
            type=_str(data.get("type"), "message"),
            role=_str(data.get("role"), "unknown") or "unknown",
            timestamp=parse_timestamp(raw_ts),
            text_content=_opt_str(data.get("text_content")),
            tool_call=ToolCall.from_json(data.get("tool_call")),
            tool_result=ToolResult.from_json(data.get("tool_result")),
            raw_timestamp=raw_ts,
        )


@dataclass(frozen=True)
class MessagePage:
    """One page of ``GET /v1/runs/{id}/messages``."""

    messages: tuple[Message, ...]
    total: int
    limit: int
    offset: int

    @classmethod
    def from_json(cls, data: Any) -> MessagePage:
        body = _dict(data)
        messages = tuple(m for m in (Message.from_json(x) for x in _list(body.get("messages"))) if m)
        offset = max(0, _int(body.get("offset")))
        total = _int(body.get("total"), offset + len(messages))
        # A total the server got wrong must not make a caller skip or refetch.
        total = max(total, offset + len(messages))
        return cls(messages=messages, total=total, limit=max(0, _int(body.get("limit"), len(messages))), offset=offset)


@dataclass(frozen=True)
class HumanRequestResult:
    """The answered request, as ``respond`` returns it."""

    id: str
    run_id: str = ""
    title: str = ""
    response: str | None = None
    responded_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Any) -> HumanRequestResult:
        body = _dict(_dict(data).get("human_request"))
        return cls(
            id=_str(body.get("id")),
            run_id=_str(body.get("run_id")),
            title=_str(body.get("title")),
            response=_opt_str(body.get("response")),
            responded_at=parse_timestamp(body.get("responded_at")),
        )


@dataclass(frozen=True)
class StopResult:
    """``POST /v1/runs/{id}/stop``."""

    success: bool
    message: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> StopResult:
        body = _dict(data)
        return cls(success=body.get("success") is True, message=_opt_str(body.get("message")))


@dataclass(frozen=True)
class Sandbox:
    """A file space a run can be given."""

    sandbox_id: str
    expires_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Any) -> Sandbox:
        body = _dict(data)
        return cls(sandbox_id=_str(body.get("sandbox_id")), expires_at=parse_timestamp(body.get("expires_at")))


@dataclass(frozen=True)
class SandboxFile:
    """One entry of a sandbox directory listing."""

    name: str
    path: str
    type: str = "file"
    size_bytes: int = 0

    @property
    def is_dir(self) -> bool:
        return self.type == "dir"

    @classmethod
    def from_json(cls, data: Any) -> SandboxFile | None:
        if not isinstance(data, dict):
            return None
        path = _str(data.get("path"))
        name = _str(data.get("name")) or path.rstrip("/").rsplit("/", 1)[-1]
        if not name and not path:
            return None
        return cls(
            name=name,
            path=path,
            type=_str(data.get("type"), "file"),
            size_bytes=max(0, _int(data.get("size_bytes"))),
        )

    @staticmethod
    def list_from_json(data: Any) -> list[SandboxFile]:
        return [f for f in (SandboxFile.from_json(x) for x in _list(_dict(data).get("files"))) if f]


@dataclass(frozen=True)
class UploadUrl:
    """A presigned URL that takes the file body by HTTP PUT."""

    upload_url: str
    path: str
    expires_in_seconds: float = 0.0

    @classmethod
    def from_json(cls, data: Any) -> UploadUrl:
        body = _dict(data)
        expires = body.get("expires_in_seconds")
        return cls(
            upload_url=_str(body.get("upload_url")),
            path=_str(body.get("path")),
            expires_in_seconds=_seconds(expires),
        )


@dataclass(frozen=True)
class UploadedFile:
    """A file the sandbox accepted."""

    path: str
    size_bytes: int

    @classmethod
    def from_json(cls, data: Any) -> UploadedFile:
        body = _dict(data)
        return cls(path=_str(body.get("path")), size_bytes=max(0, _int(body.get("size_bytes"))))


@dataclass(frozen=True)
class RunPage:
    """One page of a run listing (``GET /v1/runs`` or ``GET /v2/teams/{team}/runs``): ``{data, total}``."""

    runs: tuple[Run, ...]
    total: int

    @classmethod
    def from_json(cls, data: Any) -> RunPage:
        body = _dict(data)
        runs = tuple(r for r in (Run.from_json(x) for x in _list(body.get("data"))) if r)
        return cls(runs=runs, total=max(len(runs), _int(body.get("total"), len(runs))))


TeamRun = Run
"""The listings' rows parse into :class:`Run` (with ``title``, ``agent_name``, ``run_number`` filled in)."""

TeamRunPage = RunPage
"""The team listing's page is the same shape as ``GET /v1/runs``'s."""
