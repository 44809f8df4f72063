"""The async Duvo API client: every endpoint duvo-tui uses, on one pooled ``httpx.AsyncClient``.

Every request waits for the :class:`~duvo_tui.api.budget.RateBudget`, and every response
(success or not) is shown to it. Transient failures (5xx, network, timeouts) are retried with
exponential backoff and full jitter; a 429 makes the budget pause for ``retry-after`` and the
request is sent again; other 4xx are raised at once. Mutating calls carry an
``Idempotency-Key`` that stays the same across their retries. Only
:class:`~duvo_tui.api.errors.DuvoError` subclasses leave this module, and the API key never
appears in one.
"""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from duvo_tui import __version__
from duvo_tui.api import errors
from duvo_tui.api.budget import RateBudget
from duvo_tui.api.errors import (
    DuvoError,
    LocalFileError,
    NetworkError,
    RateLimitedError,
    UnexpectedResponseError,
)
from duvo_tui.api.models import (
    HumanRequestResult,
    Message,
    MessagePage,
    Run,
    RunDetail,
    Sandbox,
    SandboxFile,
    StopResult,
    TeamRunPage,
    UploadedFile,
    UploadUrl,
)
from duvo_tui.api.sendable import check_answers, check_body, check_header, check_text
from duvo_tui.api.transfer import (
    DIRECT_UPLOAD_LIMIT,
    ProgressCallback,
    file_chunks,
    file_size,
    multipart_form,
    presigned_error,
    without_query,
)
from duvo_tui.text import mask_key

__all__ = ["DIRECT_UPLOAD_LIMIT", "DuvoClient"]

_CONNECT_TIMEOUT = 5.0
_UPLOAD_TIMEOUT = 120.0


def _segment(value: str, field: str) -> str:
    """One path segment: ids from the server or the user cannot add path parts or a query.

    InvalidInputError naming ``field`` when the id is not valid UTF-8.
    """
    check_text(field, str(value))
    return quote(str(value), safe="")


def _normalise_base_url(base_url: str) -> str:
    """``https://api.duvo.ai``, ``…/`` and ``…/v1`` all become ``https://api.duvo.ai``."""
    url = (base_url or "").strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")]
    return url or "https://api.duvo.ai"


class DuvoClient:
    """One API key's client. Use ``async with DuvoClient(...) as client`` or call :meth:`aclose`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        budget: RateBudget | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 4,
        *,
        backoff_base: float = 0.5,
        max_backoff: float = 20.0,
        max_rate_wait: float = 120.0,
        user_agent: str | None = None,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
    ) -> None:
        self._api_key = (api_key or "").strip()
        self.base_url = _normalise_base_url(base_url)
        self.budget = budget if budget is not None else RateBudget()
        self.max_retries = max(0, int(max_retries))
        self.backoff_base = max(0.0, float(backoff_base))
        self.max_backoff = max(0.0, float(max_backoff))
        self.max_rate_wait = max(0.0, float(max_rate_wait))
        self._timeout = httpx.Timeout(timeout, connect=min(_CONNECT_TIMEOUT, timeout))
        self._upload_timeout = httpx.Timeout(max(timeout, _UPLOAD_TIMEOUT), connect=min(_CONNECT_TIMEOUT, timeout))
        self._random = random.Random()
        self._sleep = sleep or asyncio.sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=self._timeout,
            headers={"User-Agent": user_agent or f"duvo-tui/{__version__}", "Accept": "application/json"},
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"DuvoClient(base_url={self.base_url!r}, api_key={mask_key(self._api_key)!r})"

    @property
    def masked_key(self) -> str:
        return mask_key(self._api_key)

    async def __aenter__(self) -> DuvoClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def is_closed(self) -> bool:
        return self._http.is_closed

    # ------------------------------------------------------------------ runs

    async def start_run(
        self,
        agent_id: str,
        *,
        message: str | None = None,
        sandbox_id: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Run:
        """``POST /v1/runs``: start a run of ``agent_id``; it works asynchronously."""
        body: dict[str, Any] = {"agent_id": agent_id}
        if message is not None:
            body["message"] = message
        if sandbox_id:
            body["sandbox_id"] = sandbox_id
        if webhook_url:
            body["webhook_url"] = webhook_url
        key = idempotency_key or str(uuid.uuid4())
        data = await self._request("POST", "/v1/runs", json_body=body, idempotency_key=key)
        run = Run.from_json(data.get("run") if isinstance(data, dict) else None)
        if run is None:
            run = Run.from_json(data)  # a server that sends the run unwrapped
        if run is None:
            raise UnexpectedResponseError(
                f"the server accepted the run but did not say which it is; retry with Idempotency-Key {key}"
            )
        return run

    async def get_run(self, run_id: str, *, urgent: bool = False) -> RunDetail:
        """``GET /v1/runs/{run_id}``: the run (None when gone) and its pending human request."""
        data = await self._request("GET", f"/v1/runs/{_segment(run_id, 'run_id')}", urgent=urgent)
        return RunDetail.from_json(data)

    async def list_messages(
        self, run_id: str, *, limit: int = 50, offset: int = 0, urgent: bool = False
    ) -> MessagePage:
        """``GET /v1/runs/{run_id}/messages``: one page, oldest first. ``limit`` is clamped to 1..50."""
        params = {"limit": min(max(int(limit), 1), 50), "offset": max(int(offset), 0)}
        data = await self._request(
            "GET", f"/v1/runs/{_segment(run_id, 'run_id')}/messages", params=params, urgent=urgent
        )
        return MessagePage.from_json(data)

    async def post_message(self, run_id: str, text: str, *, idempotency_key: str | None = None) -> Message:
        """``POST /v1/runs/{run_id}/messages``: say something to the run (resumes a finished one)."""
        data = await self._request(
            "POST",
            f"/v1/runs/{_segment(run_id, 'run_id')}/messages",
            json_body={"message": text},
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        message = Message.from_json(data.get("message") if isinstance(data, dict) else None)
        # The server took the message; an odd answer must not make the caller send it again.
        return message or Message(id="", type="message", role="user", text_content=text)

    async def respond(
        self,
        run_id: str,
        request_id: str,
        *,
        approved: bool | None = None,
        answers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> HumanRequestResult:
        """Answer a human request: ``approved`` for an approval, ``answers`` (question -> answer) otherwise."""
        if answers is not None:
            check_answers(answers)  # before the URL, so a bad answer is named as such
        body: dict[str, Any] = {}
        if approved is not None:
            body["approved"] = bool(approved)
        if answers is not None:
            body["answers"] = {str(k): str(v) for k, v in answers.items()}
        data = await self._request(
            "POST",
            f"/v1/runs/{_segment(run_id, 'run_id')}/human-requests/{_segment(request_id, 'request_id')}/respond",
            json_body=body,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        return HumanRequestResult.from_json(data)

    async def stop_run(self, run_id: str, *, idempotency_key: str | None = None) -> StopResult:
        """``POST /v1/runs/{run_id}/stop``; a no-op when the run is not running."""
        data = await self._request(
            "POST", f"/v1/runs/{_segment(run_id, 'run_id')}/stop", idempotency_key=idempotency_key or str(uuid.uuid4())
        )
        return StopResult.from_json(data)

    async def list_team_runs(
        self,
        team_id: str,
        *,
        limit: int = 100,
        offset: int = 0,
        status: str | None = None,
        agent_id: str | None = None,
        source: str | None = None,
        search: str | None = None,
        sort_order: str = "desc",
        urgent: bool = False,
    ) -> TeamRunPage:
        """``GET /v2/teams/{team_id}/runs``: up to 100 runs of the team, newest first by default."""
        params: dict[str, Any] = {
            "limit": min(max(int(limit), 1), 100),
            "offset": max(int(offset), 0),
            "sort_order": "asc" if sort_order == "asc" else "desc",
        }
        for name, value in (("status", status), ("agent_id", agent_id), ("source", source), ("search", search)):
            if value:
                params[name] = value
        data = await self._request(
            "GET", f"/v2/teams/{_segment(team_id, 'team_id')}/runs", params=params, urgent=urgent
        )
        return TeamRunPage.from_json(data)

    # ------------------------------------------------------------------ sandboxes

    async def create_sandbox(self, *, idempotency_key: str | None = None) -> Sandbox:
        """``POST /v1/sandboxes``: a new file space for runs."""
        data = await self._request("POST", "/v1/sandboxes", idempotency_key=idempotency_key or str(uuid.uuid4()))
        sandbox = Sandbox.from_json(data)
        if not sandbox.sandbox_id:
            raise UnexpectedResponseError("the server created a sandbox but did not say its id")
        return sandbox

    async def create_upload_url(self, sandbox_id: str, path: str, *, idempotency_key: str | None = None) -> UploadUrl:
        """``POST /v1/sandboxes/{id}/upload-urls``: a presigned URL that takes the file by PUT."""
        data = await self._request(
            "POST",
            f"/v1/sandboxes/{_segment(sandbox_id, 'sandbox_id')}/upload-urls",
            json_body={"path": path},
            idempotency_key=idempotency_key or str(uuid.uuid4()),
        )
        upload = UploadUrl.from_json(data)
        if not upload.upload_url:
            raise UnexpectedResponseError("the server gave no upload URL")
        return upload

    async def list_files(self, sandbox_id: str, path: str = "/workspace", *, urgent: bool = False) -> list[SandboxFile]:
        """``GET /v1/sandboxes/{id}/files``: one directory level."""
        data = await self._request(
            "GET",
            f"/v1/sandboxes/{_segment(sandbox_id, 'sandbox_id')}/files",
            params={"path": path or "/workspace"},
            urgent=urgent,
        )
        return SandboxFile.list_from_json(data)

    async def upload_file(
        self, sandbox_id: str, dest_path: str, source: Path | bytes, *, idempotency_key: str | None = None
    ) -> UploadedFile:
        """``POST /v1/sandboxes/{id}/files``: multipart upload of a file of at most 10 MB.

        ``source`` is a path (streamed from disk) or the bytes themselves; ``dest_path`` is
        the full destination in the sandbox, e.g. ``/workspace/in/report.pdf``.
        """
        check_text("path", dest_path)  # the form field and the file part's name
        size, build = multipart_form(dest_path, source)
        data = await self._request(
            "POST",
            f"/v1/sandboxes/{_segment(sandbox_id, 'sandbox_id')}/files",
            multipart=build,
            idempotency_key=idempotency_key or str(uuid.uuid4()),
            request_timeout=self._upload_timeout,
        )
        uploaded = UploadedFile.from_json(data)
        return uploaded if uploaded.path else UploadedFile(path=dest_path, size_bytes=uploaded.size_bytes or size)

    async def put_presigned(
        self, upload_url: str, source: Path, *, on_progress: ProgressCallback | None = None
    ) -> None:
        """PUT the file at ``source`` to a presigned URL, streamed from disk.

        Storage is not the API: no Authorization header, no Idempotency-Key and no draw on the
        rate budget. Transient failures are retried from the start of the file. A 403 that
        says the URL expired raises :class:`UploadUrlExpired`.
        """
        if self._http.is_closed:
            raise DuvoError("the API client is closed")
        check_text("upload URL", upload_url)
        file_path = Path(source)
        size = file_size(file_path)
        safe_url = without_query(upload_url)
        attempt = 0
        while True:
            try:
                response = await self._http.put(
                    upload_url,
                    content=file_chunks(file_path, size, on_progress),
                    headers={"Content-Length": str(size), "Content-Type": "application/octet-stream"},
                    timeout=self._upload_timeout,
                )
                await response.aread()
            except LocalFileError:
                raise
            except httpx.TimeoutException:
                error: DuvoError = NetworkError(f"timed out uploading to {safe_url}")
            except (httpx.HTTPError, httpx.StreamError) as exc:
                error = NetworkError(f"could not upload to {safe_url}: {self._scrub(type(exc).__name__)}")
            else:
                if response.is_success:
                    return
                error = self._scrub_error(presigned_error(response, upload_url))
            if not error.transient or isinstance(error, RateLimitedError) or attempt >= self.max_retries:
                raise error
            attempt += 1
            await self._sleep(self._backoff(attempt))

    # ------------------------------------------------------------------ machinery

    def _check_usable(self) -> None:
        if self._http.is_closed:
            raise DuvoError("the API client is closed")
        if not self._api_key:
            raise errors.AuthError("no API key is configured")
        if not all(33 <= ord(c) < 127 for c in self._api_key):
            raise errors.AuthError("the API key contains characters that cannot be sent (a stray space or quote?)")

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random delay up to base * 2^(attempt-1), capped."""
        ceiling = min(self.max_backoff, self.backoff_base * (2 ** (attempt - 1)))
        return self._random.uniform(0, ceiling)

    def _scrub(self, text: str) -> str:
        if self._api_key and len(self._api_key) >= 4 and self._api_key in text:
            text = text.replace(self._api_key, mask_key(self._api_key))
        return text

    def _scrub_error(self, error: DuvoError) -> DuvoError:
        if self._api_key and (self._api_key in error.message or (error.code and self._api_key in error.code)):
            error.message = self._scrub(error.message)
            error.code = self._scrub(error.code) if error.code else error.code
            error.args = (error.message,)
        return error

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        multipart: Callable[[], dict[str, Any]] | None = None,
        idempotency_key: str | None = None,
        urgent: bool = False,
        request_timeout: httpx.Timeout | None = None,
    ) -> Any:
        """Send one logical request, with retries; the decoded JSON body (None when empty)."""
        self._check_usable()
        # Text that cannot be encoded is refused here: before the budget, so nothing is sent or spent.
        check_body(json_body)
        check_body(params)
        headers = {"Authorization": f"Bearer {self._api_key}"}
        if idempotency_key:
            check_header("Idempotency-Key", idempotency_key)
            headers["Idempotency-Key"] = idempotency_key
        # Mutations are something a person asked for: they may use the reserved share.
        urgent = urgent or idempotency_key is not None
        attempt = 0
        rate_retries = 0
        while True:
            paused_for = self.budget.snapshot().paused_for
            if paused_for > self.max_rate_wait:
                # Waiting this long in silence would look like a hang; say so instead.
                raise RateLimitedError(
                    f"rate limited: nothing may be sent for another {paused_for:.0f} s", retry_after=paused_for
                )
            await self.budget.acquire(urgent=urgent)
            outcome = await self._send_once(method, path, params, json_body, multipart, headers, request_timeout)
            if isinstance(outcome, _Decoded):
                return outcome.value
            error = outcome
            if isinstance(error, RateLimitedError):
                # The budget has paused itself for retry-after; the next acquire() waits it out.
                if rate_retries >= self.max_retries or error.retry_after > self.max_rate_wait:
                    raise error
                rate_retries += 1
                continue
            if not error.transient or attempt >= self.max_retries:
                raise error
            attempt += 1
            await self._sleep(self._backoff(attempt))

    async def _send_once(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        multipart: Callable[[], dict[str, Any]] | None,
        headers: dict[str, str],
        request_timeout: httpx.Timeout | None,
    ) -> _Decoded | DuvoError:
        """One attempt: the decoded body, or the error to raise or retry. Never raises a non-Duvo error."""
        extra: dict[str, Any] = {}
        if json_body is not None:
            extra["json"] = json_body
        if multipart is not None:
            try:
                extra.update(multipart())
            except DuvoError:
                self.budget.abandon()
                raise
        try:
            try:
                response = await self._http.request(
                    method,
                    path,
                    params=params,
                    headers=headers,
                    timeout=request_timeout if request_timeout is not None else httpx.USE_CLIENT_DEFAULT,
                    **extra,
                )
            finally:
                handle = extra.get("files", {}).get("file", (None, None))[1]
                if hasattr(handle, "close"):
                    handle.close()
        except asyncio.CancelledError:
            self.budget.abandon()
            raise
        except UnicodeEncodeError:
            # The checks in _request catch this first; a value they do not see must still end as a DuvoError.
            self.budget.abandon()
            return errors.InvalidInputError(
                f"{method} {path.split('?')[0]}: the request holds text that is not valid UTF-8"
            )
        except (httpx.UnsupportedProtocol, httpx.InvalidURL):
            self.budget.abandon()
            return DuvoError(f"cannot use the base URL {self.base_url!r}: it must look like https://api.duvo.ai")
        except httpx.TimeoutException:
            self.budget.abandon()
            return NetworkError(f"timed out waiting for {self.base_url} ({method} {path.split('?')[0]})")
        except (httpx.HTTPError, httpx.StreamError, OSError) as exc:
            self.budget.abandon()
            reason = self._scrub(str(exc) or type(exc).__name__)
            return NetworkError(f"could not reach {self.base_url}: {reason}")
        self.budget.observe(response.status_code, response.headers)
        if response.is_redirect:
            where = without_query(response.headers.get("location", "")) or "elsewhere"
            return errors.ApiError(f"the server redirected to {where}; check the base URL", status=response.status_code)
        if not response.is_success:
            return self._scrub_error(
                errors.error_from_response(response.status_code, response.content, response.headers)
            )
        return self._decode(response)

    def _decode(self, response: httpx.Response) -> _Decoded | DuvoError:
        body = response.content
        if not body.strip():
            return _Decoded(None)
        try:
            return _Decoded(json.loads(body))
        except (ValueError, RecursionError):
            kind = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
            return UnexpectedResponseError(
                f"the server answered {response.status_code} with something that is not JSON ({kind})",
                status=response.status_code,
            )


class _Decoded:
    """A successful response's JSON value (possibly None), told apart from an error."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
