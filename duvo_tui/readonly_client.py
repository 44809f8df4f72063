"""The client a read-only profile uses: every mutating call refuses with :class:`~duvo_tui.readonly.ReadOnlyError`
before a request is sent; every read is the client's own.

It is a :class:`~duvo_tui.api.client.DuvoClient` on the same session as the client it guards (one connection pool,
one budget, one key), so the service and the command line take it where they take a client, and mypy checks that
each refusal has the signature of the call it replaces. Kept apart from ``readonly.py`` so that deciding whether
a profile is read-only loads no HTTP code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from duvo_tui.api.client import DuvoClient
from duvo_tui.api.transfer import ProgressCallback
from duvo_tui.readonly import MUTATING_CLIENT_CALLS, ReadOnlyError

__all__ = ["ReadOnlyClient", "guard_client"]


class ReadOnlyClient(DuvoClient):
    """Reads pass through; each call in :data:`~duvo_tui.readonly.MUTATING_CLIENT_CALLS` raises ReadOnlyError."""

    read_only = True

    def __init__(self, client: DuvoClient, profile: str) -> None:
        # Not a second session: the guarded client's own state (its connection pool, budget and key), shared.
        vars(self).update(vars(client))
        self._guarded = client
        self._profile = profile

    @property
    def wrapped(self) -> DuvoClient:
        """The client underneath."""
        return self._guarded

    def _refuse(self, call: str) -> NoReturn:
        raise ReadOnlyError(self._profile, MUTATING_CLIENT_CALLS[call])

    async def start_run(
        self,
        agent_id: str,
        *,
        message: str | None = None,
        sandbox_id: str | None = None,
        webhook_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> NoReturn:
        self._refuse("start_run")

    async def post_message(self, run_id: str, text: str, *, idempotency_key: str | None = None) -> NoReturn:
        self._refuse("post_message")

    async def respond(
        self,
        run_id: str,
        request_id: str,
        *,
        approved: bool | None = None,
        answers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> NoReturn:
        self._refuse("respond")

    async def stop_run(self, run_id: str, *, idempotency_key: str | None = None) -> NoReturn:
        self._refuse("stop_run")

    async def create_sandbox(self, *, idempotency_key: str | None = None) -> NoReturn:
        self._refuse("create_sandbox")

    async def create_upload_url(self, sandbox_id: str, path: str, *, idempotency_key: str | None = None) -> NoReturn:
        self._refuse("create_upload_url")

    async def upload_file(
        self, sandbox_id: str, dest_path: str, source: Path | bytes, *, idempotency_key: str | None = None
    ) -> NoReturn:
        self._refuse("upload_file")

    async def put_presigned(
        self, upload_url: str, source: Path, *, on_progress: ProgressCallback | None = None
    ) -> NoReturn:
        self._refuse("put_presigned")

    def __repr__(self) -> str:
        return f"ReadOnlyClient({self._guarded!r})"


def guard_client(client: DuvoClient, profile: Any) -> DuvoClient:
    """``client`` itself for a writable profile, else a :class:`ReadOnlyClient` on it."""
    if getattr(profile, "read_only", False):
        return ReadOnlyClient(client, str(getattr(profile, "name", "") or "default"))
    return client
