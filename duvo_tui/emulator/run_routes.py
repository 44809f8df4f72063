"""Routes for runs, messages, human requests and the run listings (``/v1/runs`` and the team's)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from duvo_tui.emulator import run_driver
from duvo_tui.emulator.endpoint import ApiError, Caller, json_body, parse_uuid, query_int
from duvo_tui.emulator.scenarios import script_for
from duvo_tui.emulator.state import EmulatorState, RunRecord

__all__ = [
    "get_run",
    "list_messages",
    "list_runs",
    "list_team_runs",
    "post_message",
    "respond",
    "start_run",
    "stop_run",
]

TEAM_STATUSES = (
    "not_started pending starting running waiting completed failed interrupted stopped needs_attention".split()
)


def _find_run(state: EmulatorState, request: Request, caller: Caller, *, allow_deleted: bool = False) -> RunRecord:
    run_id = parse_uuid(request.path_params["run_id"], "run_id")
    run = state.runs.get(run_id)
    if run is None or (run.deleted and not allow_deleted):
        raise ApiError(404, "not_found", "No run with this id.")
    caller.check_team(run.team_id, "run")
    return run


def _optional_str(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ApiError(400, "invalid_request", f"{name} must be a string.")
    return value


async def start_run(state: EmulatorState, request: Request, caller: Caller) -> Response:
    body = await json_body(request)
    agent_id = body.get("agent_id")
    if not isinstance(agent_id, str):
        raise ApiError(400, "invalid_request", "agent_id is required and must be a UUID string.")
    agent = state.agents.get(parse_uuid(agent_id, "agent_id"))
    if agent is None:
        raise ApiError(404, "not_found", "No agent with this id.")
    message = _optional_str(body, "message")
    sandbox_id = _optional_str(body, "sandbox_id")
    webhook_url = _optional_str(body, "webhook_url")
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise ApiError(400, "invalid_request", "webhook_url must be an http(s) URL.")
    if sandbox_id is not None:
        sandbox = state.sandboxes.get(sandbox_id)
        if sandbox is None:
            raise ApiError(404, "not_found", "No sandbox with this id.")
        caller.check_team(sandbox.team_id, "sandbox")
        if sandbox.expired():
            raise ApiError(404, "sandbox_expired", "The sandbox has expired; create a new one.")
    first_line = (message or "").strip().splitlines()[0][:80] if (message or "").strip() else ""
    run, nth = state.new_run(
        agent,
        caller.team_id,
        user_id=caller.user_id,
        title=first_line,
        sandbox_id=sandbox_id,
        webhook_url=webhook_url,
        initial_message=message,
    )
    if message:
        run_driver.add_message(run, "text", "user", text_content=message)
    run_driver.start_run(state, run, script_for(agent.scenario), f"{agent.scenario}:{nth}")
    return JSONResponse({"run": run.run_json()}, status_code=201)


async def get_run(state: EmulatorState, request: Request, caller: Caller) -> Response:
    run = _find_run(state, request, caller, allow_deleted=True)
    if run.deleted:
        return JSONResponse({"run": None, "pending_human_request": None})
    pending = run.pending.pending_json() if run.pending else None
    return JSONResponse({"run": run.run_json(), "pending_human_request": pending})


async def list_messages(state: EmulatorState, request: Request, caller: Caller) -> Response:
    run = _find_run(state, request, caller)
    limit = query_int(request, "limit", 20, 1, 50)
    offset = query_int(request, "offset", 0, 0, 2**53 - 1)
    page = run.messages[offset : offset + limit]
    return JSONResponse({"messages": page, "total": len(run.messages), "limit": limit, "offset": offset})


async def post_message(state: EmulatorState, request: Request, caller: Caller) -> Response:
    run = _find_run(state, request, caller)
    body = await json_body(request)
    text = body.get("message")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "invalid_request", "message is required and must be a non-empty string.")
    message = run_driver.post_user_message(state, run, text)
    shown = {k: message[k] for k in ("id", "type", "role", "timestamp", "text_content")}
    return JSONResponse({"message": shown}, status_code=201)


def _check_answers(run_request: Any, body: dict[str, Any]) -> tuple[Any, str]:
    """The scenario's value and the stored response text, or a 422."""
    approved, answers = body.get("approved"), body.get("answers")
    if approved is None and answers is None:
        raise ApiError(422, "validation_error", "Give either 'approved' (approval) or 'answers' (question).")
    if approved is not None and answers is not None:
        raise ApiError(422, "validation_error", "Give only one of 'approved' and 'answers'.")
    if run_request.type == "approval":
        if answers is not None:
            raise ApiError(422, "validation_error", "This is an approval request: answer with 'approved'.")
        if not isinstance(approved, bool):
            raise ApiError(422, "validation_error", "'approved' must be true or false.")
        return approved, "approved" if approved else "denied"
    if approved is not None:
        raise ApiError(422, "validation_error", "This is a question request: answer with 'answers'.")
    if not isinstance(answers, dict) or not answers:
        raise ApiError(422, "validation_error", "'answers' must be a non-empty object of question -> answer.")
    known = {q["question"] for q in run_request.questions or []}
    for question, answer in answers.items():
        if question not in known:
            raise ApiError(422, "validation_error", f"Unknown question: {question[:200]!r}.")
        if not isinstance(answer, str):
            raise ApiError(422, "validation_error", f"The answer to {question[:200]!r} must be a string.")
    return dict(answers), json.dumps(answers, ensure_ascii=False)


async def respond(state: EmulatorState, request: Request, caller: Caller) -> Response:
    run = _find_run(state, request, caller)
    request_id = parse_uuid(request.path_params["request_id"], "request_id")
    body = await json_body(request)
    record = run.requests.get(request_id)
    if record is None:
        raise ApiError(404, "not_found", "No human request with this id on this run.")
    if record.responded_at is not None:
        raise ApiError(409, "conflict", "This request has already been answered.")
    if record.type not in ("approval", "question"):
        raise ApiError(
            422, "validation_error", "This request cannot be answered through the API: use the Duvo web app."
        )
    if run.status != "waiting" or run.pending is not record:
        raise ApiError(409, "conflict", f"The run is not waiting for this request (status: {run.status}).")
    value, text = _check_answers(record, body)
    run_driver.answer_request(state, run, record, value, text)
    return JSONResponse({"human_request": record.result_json()})


async def stop_run(state: EmulatorState, request: Request, caller: Caller) -> Response:
    run = _find_run(state, request, caller)
    previous = run.status
    if run_driver.stop_run(state, run):
        return JSONResponse({"success": True, "message": "Run stopped."})
    return JSONResponse({"success": False, "message": f"Run is not running (status: {previous}); nothing to stop."})


async def list_team_runs(state: EmulatorState, request: Request, caller: Caller) -> Response:
    team_id = request.path_params["teamId"]
    if team_id not in state.teams and team_id != caller.team_id:
        raise ApiError(404, "not_found", "No team with this id.")
    caller.check_team(team_id, "team")
    return _listing(state, request, lambda r: r.team_id == team_id)


async def list_runs(state: EmulatorState, request: Request, caller: Caller) -> Response:
    """``GET /v1/runs``: the caller's own runs; a superadmin's listing holds every run (``user_id`` narrows it)."""
    q = request.query_params
    wanted_user = parse_uuid(q["user_id"], "user_id") if "user_id" in q else None
    if not caller.admin:
        # Non-superadmin callers are scoped to themselves whatever user_id says.
        return _listing(state, request, lambda r: r.team_id == caller.team_id and r.user_id == caller.user_id)
    return _listing(state, request, lambda r: wanted_user is None or r.user_id == wanted_user)


def _listing(state: EmulatorState, request: Request, scope: Callable[[RunRecord], bool]) -> Response:
    """One page of runs in ``scope`` with the listing filters of the query applied; 400 on a bad filter."""
    q = request.query_params
    limit = query_int(request, "limit", 20, 1, 100)
    offset = query_int(request, "offset", 0, 0, 2**53 - 1)
    sort_order = q.get("sort_order", "desc")
    if sort_order not in ("asc", "desc"):
        raise ApiError(400, "invalid_request", "sort_order must be 'asc' or 'desc'.")
    if q.get("sort_by", "created_at") != "created_at":
        raise ApiError(400, "invalid_request", "sort_by must be 'created_at'.")
    status = q.get("status")
    if status is not None and status not in TEAM_STATUSES:
        raise ApiError(400, "invalid_request", f"status must be one of {', '.join(TEAM_STATUSES)}.")
    agent_id = parse_uuid(q["agent_id"], "agent_id") if "agent_id" in q else None
    for name in ("user_id", "case_queue_id", "digest_id"):
        if name in q:
            parse_uuid(q[name], name)
    if q.get("has_issues", "false") not in ("true", "false"):
        raise ApiError(400, "invalid_request", "has_issues must be 'true' or 'false'.")
    if q.get("issue_severity", "low") not in ("critical", "medium", "low"):
        raise ApiError(400, "invalid_request", "issue_severity must be one of critical, medium, low.")
    since = _since(q.get("since"))
    # No emulated run belongs to a queue or a digest, or has evaluation issues.
    nothing = (
        any(name in q for name in ("case_queue_id", "digest_id", "issue_severity")) or q.get("has_issues") == "true"
    )
    source, search = q.get("source"), (q.get("search") or "").lower()
    rows = [
        r
        for r in state.runs.values()
        if not nothing
        and scope(r)
        and not r.deleted
        and (status is None or r.status == status)
        and (agent_id is None or r.agent.id == agent_id)
        and (source is None or r.source == source)
        and (since is None or r.created_at >= since)
        and (not search or search in r.title.lower())
    ]
    rows.sort(key=lambda r: (r.created_at, r.run_number), reverse=sort_order == "desc")
    return JSONResponse({"data": [r.team_row_json() for r in rows[offset : offset + limit]], "total": len(rows)})


def _since(raw: str | None) -> float | None:
    """The ``since`` filter as a Unix time; 400 when it is not an ISO 8601 date-time."""
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ApiError(400, "invalid_request", "since must be an ISO 8601 date-time.") from exc
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
