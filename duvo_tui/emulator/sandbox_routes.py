"""Routes for sandboxes: create, list, direct multipart upload, presigned upload URLs and the PUT they take.

An expired sandbox answers 404 with ``{"error": "sandbox_expired"}`` (the schema has no 410 for these paths).
Uploads are written to a hidden temporary file beside the target and renamed into place when complete,
so a half-sent file never shows up in a listing. Neither kind of upload keeps the body in memory: the
direct upload is parsed by python-multipart, which spools the file to disk past 1 MB, and the byte count
is checked while it streams; the presigned PUT is written to disk chunk by chunk.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from duvo_tui.emulator.endpoint import ApiError, Caller, error_response, json_body
from duvo_tui.emulator.sandbox_store import (
    WORKSPACE,
    PathRefused,
    TokenRefused,
    disk_path,
    list_dir,
    normalise,
    sign_upload,
    verify_upload,
)
from duvo_tui.emulator.state import EmulatorState, SandboxRecord, iso

__all__ = ["create_sandbox", "create_upload_url", "list_files", "presigned_put", "upload_file"]

MULTIPART_OVERHEAD = 64 * 1024
"""Bytes of multipart framing and form fields allowed on top of the file size limit."""


class _TooLarge(Exception):
    pass


def _sandbox(state: EmulatorState, request: Request, caller: Caller) -> SandboxRecord:
    sandbox = state.sandboxes.get(request.path_params["sandbox_id"])
    if sandbox is None:
        raise ApiError(404, "not_found", "No sandbox with this id.")
    caller.check_team(sandbox.team_id, "sandbox")
    if sandbox.expired():
        raise ApiError(404, "sandbox_expired", "The sandbox has expired; create a new one.")
    return sandbox


def _file_target(sandbox: SandboxRecord, path: str) -> tuple[str, Path]:
    try:
        clean = normalise(path)
        if clean == WORKSPACE:
            raise PathRefused("path must name a file inside /workspace, not /workspace itself")
        target = disk_path(sandbox.root, clean)
    except PathRefused as exc:
        raise ApiError(400, "invalid_path", str(exc)) from exc
    if target.is_dir():
        raise ApiError(400, "invalid_path", f"{clean} is a directory.")
    for parent in target.relative_to(sandbox.root).parents:
        if (sandbox.root / parent).is_file():
            raise ApiError(400, "invalid_path", f"{WORKSPACE}/{parent.as_posix()} is a file, not a directory.")
    return clean, target


async def create_sandbox(state: EmulatorState, request: Request, caller: Caller) -> Response:
    now = time.time()
    sandbox_id = "sbx_" + uuid.uuid4().hex
    root = state.data_dir / "sandboxes" / sandbox_id / "workspace"
    root.mkdir(parents=True)
    sandbox = SandboxRecord(sandbox_id, caller.team_id, root, now, now + state.options.sandbox_ttl)
    state.sandboxes[sandbox_id] = sandbox
    return JSONResponse({"sandbox_id": sandbox_id, "expires_at": iso(sandbox.expires_at)}, status_code=201)


async def list_files(state: EmulatorState, request: Request, caller: Caller) -> Response:
    sandbox = _sandbox(state, request, caller)
    path = request.query_params.get("path", WORKSPACE)
    try:
        files = list_dir(sandbox.root, path)
    except PathRefused as exc:
        raise ApiError(400, "invalid_path", str(exc)) from exc
    except FileNotFoundError as exc:
        raise ApiError(404, "not_found", f"No such directory: {normalise(path)}") from exc
    except NotADirectoryError as exc:
        raise ApiError(400, "invalid_path", f"Not a directory: {normalise(path)}") from exc
    return JSONResponse({"files": files})


async def create_upload_url(state: EmulatorState, request: Request, caller: Caller) -> Response:
    sandbox = _sandbox(state, request, caller)
    body = await json_body(request)
    path = body.get("path")
    if not isinstance(path, str) or not path:
        raise ApiError(400, "invalid_request", "path is required and must be a non-empty string.")
    clean, _ = _file_target(sandbox, path)
    ttl = state.options.upload_url_ttl
    token, _ = sign_upload(state.signing_key, sandbox.id, clean, ttl)
    url = f"{str(request.base_url).rstrip('/')}/upload/{token}"
    return JSONResponse({"upload_url": url, "path": clean, "expires_in_seconds": ttl})


async def _drain(request: Request) -> None:
    """Read and discard what is left of the body, so the client sees our answer rather than a reset."""
    try:
        while True:
            message = await request.receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
    except Exception:
        return


def _store(source: Any, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".upload-{uuid.uuid4().hex}"
    try:
        with temp.open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return target.stat().st_size


async def upload_file(state: EmulatorState, request: Request, caller: Caller) -> Response:
    sandbox = _sandbox(state, request, caller)
    limit = state.options.max_direct_upload
    too_large = ApiError(413, "file_too_large", f"Direct uploads are limited to {limit} bytes; use an upload URL.")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
        await _drain(request)
        raise too_large
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise ApiError(400, "invalid_request", "Send the file as multipart/form-data (part 'file', field 'path').")
    received = 0

    async def counting_receive() -> dict:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit + MULTIPART_OVERHEAD:
            raise _TooLarge
        return message

    try:
        form = await Request(request.scope, counting_receive).form(max_files=1, max_fields=10)
    except _TooLarge as exc:
        await _drain(request)
        raise too_large from exc
    except HTTPException as exc:
        raise ApiError(400, "invalid_request", f"Malformed multipart body: {exc.detail}") from exc
    try:
        upload, path = form.get("file"), form.get("path")
        if not isinstance(upload, UploadFile):
            raise ApiError(400, "invalid_request", "The multipart part 'file' is missing.")
        if not isinstance(path, str) or not path:
            raise ApiError(400, "invalid_request", "The form field 'path' is missing.")
        if path.endswith("/") and upload.filename:
            path = path + os.path.basename(upload.filename)
        clean, target = _file_target(sandbox, path)
        upload.file.seek(0, os.SEEK_END)
        if upload.file.tell() > limit:
            raise too_large
        upload.file.seek(0)
        size = await asyncio.to_thread(_store, upload.file, target)
    finally:
        await form.close()
    return JSONResponse({"path": clean, "size_bytes": size}, status_code=201)


async def presigned_put(state: EmulatorState, request: Request) -> Response:
    """``PUT /upload/{token}``: the storage side of a presigned URL (no API key, no rate limit)."""
    try:
        sandbox_id, path = verify_upload(state.signing_key, request.path_params["token"])
    except TokenRefused as exc:
        await _drain(request)
        return error_response(403, exc.code, str(exc))
    sandbox = state.sandboxes.get(sandbox_id)
    if sandbox is None or sandbox.expired():
        await _drain(request)
        return error_response(404, "sandbox_expired", "The sandbox no longer exists.")
    try:
        _, target = _file_target(sandbox, path)
    except ApiError as exc:
        await _drain(request)
        return error_response(exc.status, exc.error, exc.message)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.parent / f".upload-{uuid.uuid4().hex}"
    size = 0
    try:
        with temp.open("wb") as out:
            async for chunk in request.stream():
                out.write(chunk)
                size += len(chunk)
        os.replace(temp, target)
    finally:
        temp.unlink(missing_ok=True)
    return Response(status_code=200, headers={"etag": f'"{size:x}-{int(time.time())}"'})
