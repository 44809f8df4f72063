"""The async Duvo API client: every endpoint duvo-tui uses, one method each.

The requests go through :class:`~duvo_tui.api.session.ApiSession` (the pooled connection, the rate
budget, retries with backoff, and failures mapped to :class:`~duvo_tui.api.errors.DuvoError`).
Mutating calls carry an ``Idempotency-Key`` that stays the same across their retries. Only
``DuvoError`` subclasses leave this module, and the API key never appears in one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from duvo_tui.api.account import Agent, AgentPage, Profile
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
    RunPage,
    Sandbox,
    SandboxFile,
    StopResult,
    UploadedFile,
    UploadUrl,
)
from duvo_tui.api.sendable import check_answers, check_text
from duvo_tui.api.session import ApiSession
from duvo_tui.api.transfer import (
    DIRECT_UPLOAD_LIMIT,
    ProgressCallback,
    file_chunks,
    file_size,
    multipart_form,
    presigned_error,
    without_query,
)

__all__ = ["DIRECT_UPLOAD_LIMIT", "DuvoClient"]


def _segment(value: str, field: str) -> str:
    """One path segment: ids from the server or the user cannot add path parts or a query.

    InvalidInputError naming ``field`` when the id is not valid UTF-8.
    """
    check_text(field, str(value))
    return quote(str(value), safe="")


def _listing_params(limit: int, offset: int, sort_order: str) -> dict[str, Any]:
    """Paging and order shared by the run listings, clamped to what the API accepts."""
    return {
        "limit": min(max(int(limit), 1), 100),
        "offset": max(int(offset), 0),
        "sort_order": "asc" if sort_order == "asc" else "desc",
    }


def _timestamp(value: datetime | str | None) -> str | None:
    """A ``since`` filter as ISO 8601 (an aware datetime in UTC with ``Z``; naive ones are taken as UTC)."""
    if value is None or isinstance(value, str):
        return value or None
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class DuvoClient(ApiSession):
    """One API key's client. Use ``async with DuvoClient(...) as client`` or call :meth:`aclose`."""

    read_only = False
    """True for the client of a read-only profile (``readonly_client.ReadOnlyClient``): it sends no change."""

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

    async def list_runs(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        status: str | None = None,
        agent_id: str | None = None,
        user_id: str | None = None,
        case_queue_id: str | None = None,
        source: str | None = None,
        search: str | None = None,
        since: datetime | str | None = None,
        has_issues: bool | None = None,
        issue_severity: str | None = None,
        digest_id: str | None = None,
        sort_order: str = "desc",
        urgent: bool = False,
    ) -> RunPage:
        """``GET /v1/runs``: up to 100 of the key's runs (its team's, or its creator's), newest first by default.

        No team id is needed: this is how runs started anywhere (web app, schedule, script) are found.
        ``limit`` is clamped to 1..100; ``since`` takes a datetime (sent as UTC ISO 8601) or the text itself.
        """
        params = _listing_params(limit, offset, sort_order)
        params["sort_by"] = "created_at"
        filters: dict[str, str | None] = {
            "status": status,
            "agent_id": agent_id,
            "user_id": user_id,
            "case_queue_id": case_queue_id,
            "source": source,
            "search": search,
            "since": _timestamp(since),
            "has_issues": None if has_issues is None else ("true" if has_issues else "false"),
            "issue_severity": issue_severity,
            "digest_id": digest_id,
        }
        params.update({name: value for name, value in filters.items() if value})
        data = await self._request("GET", "/v1/runs", params=params, urgent=urgent)
        return RunPage.from_json(data)

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
    ) -> RunPage:
        """``GET /v2/teams/{team_id}/runs``: the same listing with an explicit team id (a configured ``team_id``)."""
        params = _listing_params(limit, offset, sort_order)
        for name, value in (("status", status), ("agent_id", agent_id), ("source", source), ("search", search)):
            if value:
                params[name] = value
        data = await self._request(
            "GET", f"/v2/teams/{_segment(team_id, 'team_id')}/runs", params=params, urgent=urgent
        )
        return RunPage.from_json(data)

    # ------------------------------------------------------------------ Assignments and the caller

    async def list_agents(self, *, limit: int = 100, offset: int = 0, urgent: bool = False) -> AgentPage:
        """``GET /v1/agents``: one page of the team's Assignments. ``limit`` is clamped to 1..100."""
        params = {"limit": min(max(int(limit), 1), 100), "offset": max(int(offset), 0)}
        data = await self._request("GET", "/v1/agents", params=params, urgent=urgent)
        return AgentPage.from_json(data)

    async def list_all_agents(self, *, urgent: bool = False, max_pages: int = 20) -> list[Agent]:
        """Every Assignment, page by page (at most ``max_pages`` requests of 100)."""
        agents: list[Agent] = []
        offset = 0
        for _ in range(max(1, max_pages)):
            page = await self.list_agents(limit=100, offset=offset, urgent=urgent)
            agents.extend(page.agents)
            offset += len(page.agents)
            if not page.agents or offset >= page.total:
                break
        return agents

    async def get_agent(self, agent_id: str, *, urgent: bool = False) -> Agent:
        """``GET /v1/agents/{agent_id}``: one Assignment (NotFoundError when there is none)."""
        data = await self._request("GET", f"/v1/agents/{_segment(agent_id, 'agent_id')}", urgent=urgent)
        agent = Agent.from_detail(data)
        if agent is None:
            raise UnexpectedResponseError("the server answered without the Assignment it was asked for")
        return agent

    async def get_profile(self, *, urgent: bool = False, retries: int | None = None) -> Profile:
        """``GET /v1/profile``: the person the key belongs to, and their team. ``retries``: see ``_request``."""
        data = await self._request("GET", "/v1/profile", urgent=urgent, retries=retries)
        profile = Profile.from_json(data)
        if profile is None:
            raise UnexpectedResponseError("the server answered without a profile")
        return profile

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
