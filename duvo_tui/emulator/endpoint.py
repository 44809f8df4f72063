"""What every API route shares: the error envelope, auth, body and id validation, Idempotency-Key.

Idempotency: a mutating request carrying ``Idempotency-Key`` is remembered per (API key, method, path,
Idempotency-Key). A repeat gets the first answer again (with ``idempotent-replayed: true``) and nothing is
done twice; a repeat that arrives while the first is still being handled waits for it. Answers with status
401, 429 or 5xx are not remembered, so a retry after them really is tried again.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from duvo_tui.emulator.state import EmulatorState, User

__all__ = ["ApiError", "Caller", "endpoint", "error_response", "json_body", "parse_uuid", "query_int"]


class ApiError(Exception):
    """An error answer: ``{error, message}`` with ``status``."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message


def error_response(status: int, error: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": error, "message": message}, status_code=status, headers=headers)


class Caller:
    """The authenticated key, its team and the person it belongs to (a superadmin reads every team's runs)."""

    def __init__(self, key: str, team_id: str, user: User | None = None) -> None:
        self.key = key
        self.team_id = team_id
        self.user = user

    @property
    def user_id(self) -> str | None:
        return self.user.id if self.user else None

    @property
    def admin(self) -> bool:
        return bool(self.user and self.user.admin)

    def check_team(self, team_id: str, what: str) -> None:
        if team_id != self.team_id and not self.admin:
            raise ApiError(403, "forbidden", f"This API key has no access to this {what}.")


def authenticate(state: EmulatorState, request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    if not header:
        raise ApiError(401, "invalid_token", "Missing Authorization header (expected 'Bearer <API key>').")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "invalid_token", "Malformed Authorization header (expected 'Bearer <API key>').")
    team = state.key_teams.get(token.strip())
    if team is None:
        raise ApiError(401, "invalid_token", "The API key is not valid.")
    return Caller(token.strip(), team, state.key_users.get(token.strip()))


def parse_uuid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value)) if len(value) == 36 else _bad(name)
    except ValueError:
        return _bad(name)


def _bad(name: str) -> str:
    raise ApiError(400, "invalid_request", f"{name} must be a UUID.")


async def json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        raise ApiError(400, "invalid_request", "A JSON body is required.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ApiError(400, "invalid_request", "The body is not valid JSON.") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The body must be a JSON object.")
    try:
        # A "\ud800" escape is valid JSON syntax but no text: stored, it could never be sent back as UTF-8.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        message = "The body holds a lone UTF-16 surrogate (a \\ud800-\\udfff escape); text must be valid Unicode."
        raise ApiError(400, "invalid_request", message) from exc
    return body


def query_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, "invalid_request", f"{name} must be an integer.") from exc
    if not low <= value <= high:
        raise ApiError(400, "invalid_request", f"{name} must be between {low} and {high}.")
    return value


Handler = Callable[[EmulatorState, Request, Caller], Awaitable[Response]]


def endpoint(state: EmulatorState, handler: Handler, *, mutating: bool = False) -> Callable[[Request], Awaitable]:
    """A Starlette route function: auth, errors as ``{error, message}``, Idempotency-Key for ``mutating``."""

    async def run(request: Request) -> Response:
        try:
            caller = authenticate(state, request)
            return await handler(state, request, caller)
        except ApiError as exc:
            return error_response(exc.status, exc.error, exc.message)

    @wraps(handler)
    async def route(request: Request) -> Response:
        idem = request.headers.get("idempotency-key") if mutating else None
        if not idem:
            return await run(request)
        key = (request.headers.get("authorization", ""), request.method, request.url.path, idem)
        stored = state.idempotency.get(key)
        if isinstance(stored, asyncio.Future):
            stored = await asyncio.shield(stored)
        if stored is not None:
            status, body, media = stored
            return Response(body, status_code=status, media_type=media, headers={"idempotent-replayed": "true"})
        pending = asyncio.get_running_loop().create_future()
        state.idempotency[key] = pending
        try:
            response = await run(request)
        except BaseException:
            state.idempotency.pop(key, None)
            pending.set_result(None)
            raise
        if response.status_code in (401, 429) or response.status_code >= 500:
            state.idempotency.pop(key, None)
            pending.set_result(None)
        else:
            record = (response.status_code, bytes(response.body), response.media_type or "application/json")
            state.idempotency[key] = record
            pending.set_result(record)
        return response

    return route
