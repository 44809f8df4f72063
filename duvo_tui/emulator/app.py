"""The emulator's ASGI application: the Duvo Public API routes behind the rate-limit/fault gate."""

from __future__ import annotations

import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from duvo_tui.emulator import account_routes, run_routes, sandbox_routes
from duvo_tui.emulator.endpoint import endpoint, error_response
from duvo_tui.emulator.gate import Gate
from duvo_tui.emulator.state import EmulatorState

__all__ = ["build_app"]

# The server's own channel for what goes wrong around a request: one line each, where uvicorn writes its notes.
log = logging.getLogger("uvicorn.error")

_ERROR_CODES = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed", 413: "file_too_large"}


def build_app(state: EmulatorState) -> Any:
    """The full ASGI app for ``state``."""

    def api(handler: Any, mutating: bool = False) -> Any:
        return endpoint(state, handler, mutating=mutating)

    async def presigned(request: Request) -> Response:
        return await sandbox_routes.presigned_put(state, request)

    routes = [
        Route("/v1/runs", api(run_routes.start_run, True), methods=["POST"]),
        Route("/v1/runs", api(run_routes.list_runs), methods=["GET"]),
        Route("/v1/runs/{run_id}", api(run_routes.get_run), methods=["GET"]),
        Route("/v1/runs/{run_id}/messages", api(run_routes.list_messages), methods=["GET"]),
        Route("/v1/runs/{run_id}/messages", api(run_routes.post_message, True), methods=["POST"]),
        Route("/v1/runs/{run_id}/human-requests/{request_id}/respond", api(run_routes.respond, True), methods=["POST"]),
        Route("/v1/runs/{run_id}/stop", api(run_routes.stop_run, True), methods=["POST"]),
        Route("/v1/sandboxes", api(sandbox_routes.create_sandbox, True), methods=["POST"]),
        Route("/v1/sandboxes/{sandbox_id}/upload-urls", api(sandbox_routes.create_upload_url, True), methods=["POST"]),
        Route("/v1/sandboxes/{sandbox_id}/files", api(sandbox_routes.list_files), methods=["GET"]),
        Route("/v1/sandboxes/{sandbox_id}/files", api(sandbox_routes.upload_file, True), methods=["POST"]),
        Route("/v2/teams/{teamId}/runs", api(run_routes.list_team_runs), methods=["GET"]),
        Route("/v1/agents", api(account_routes.list_agents), methods=["GET"]),
        Route("/v1/agents/{agent_id}", api(account_routes.get_agent), methods=["GET"]),
        Route("/v1/profile", api(account_routes.get_profile), methods=["GET"]),
        Route("/upload/{token}", presigned, methods=["PUT"]),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = _ERROR_CODES.get(exc.status_code, "error")
        message = {404: "No such endpoint.", 405: "Method not allowed on this endpoint."}.get(
            exc.status_code, str(exc.detail)
        )
        return error_response(exc.status_code, code, message, headers=exc.headers)

    async def client_gone(request: Request, exc: Exception) -> Response:
        # A client that stops mid-upload (killed, timed out, offline) is an everyday event, not a server failure:
        # nothing was stored, and nobody is left to answer.
        path = request.url.path
        path = "/upload/…" if path.startswith("/upload/") else path  # the token in it lets anyone upload there
        log.warning("client went away during %s %s; nothing was stored", request.method, path)
        return Response(status_code=400)

    async def server_error(request: Request, exc: Exception) -> Response:
        return error_response(500, "internal_error", "The emulator failed to handle this request.")

    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, ClientDisconnect: client_gone, Exception: server_error},
    )
    return Gate(app, state)
