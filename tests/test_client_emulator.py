"""The real client against the real emulator on a loopback socket: every endpoint, errors, rate limit."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from duvo_tui.api import errors
from duvo_tui.api.budget import RateBudget
from duvo_tui.api.client import DuvoClient
from duvo_tui.api.models import RunDetail
from duvo_tui.api.status import RunStatus
from duvo_tui.emulator.testing import running_emulator


async def wait_for_run(
    client: DuvoClient, run_id: str, done: Callable[[RunDetail], bool], within: float = 15.0
) -> RunDetail:
    """Poll until ``done(detail)``; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        detail = await client.get_run(run_id)
        if done(detail):
            return detail
        if time.monotonic() > deadline:
            pytest.fail(f"run {run_id} never reached the expected state; last: {detail}")
        await asyncio.sleep(0.05)


async def all_messages(client: DuvoClient, run_id: str) -> list[Any]:
    messages: list[Any] = []
    while True:
        page = await client.list_messages(run_id, limit=50, offset=len(messages))
        messages.extend(page.messages)
        if not page.messages or len(messages) >= page.total:
            return messages


class RecordingBudget(RateBudget):
    """A budget that also keeps every status it was shown."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.statuses: list[int] = []

    def observe(self, status: int, headers: Any) -> None:
        self.statuses.append(status)
        super().observe(status, headers)


async def test_approval_run_from_sandbox_to_completion(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        sandbox = await client.create_sandbox()
        await client.upload_file(sandbox.sandbox_id, "/workspace/invoices/march.csv", b"vendor,amount\nAcme,120\n")
        run = await client.start_run(emulator.agents["approval"], message="Pay March", sandbox_id=sandbox.sandbox_id)
        assert run.id and run.agent_id == emulator.agents["approval"]

        waiting = await wait_for_run(client, run.id, lambda d: d.run is not None and d.run.status == RunStatus.WAITING)
        request = waiting.pending_human_request
        assert request is not None and request.is_approval and request.title

        answered = await client.respond(run.id, request.id, approved=True)
        assert answered.id == request.id

        finished = await wait_for_run(client, run.id, lambda d: d.run is not None and d.run.status == "completed")
        assert finished.pending_human_request is None
        messages = await all_messages(client, run.id)
        texts = " ".join(m.text_content or "" for m in messages)
        assert "march.csv" in texts and "sent" in texts
        assert any(m.tool_call and m.tool_call.name == "send_payment" for m in messages)
        assert len({m.id for m in messages}) == len(messages)

        said = await client.post_message(run.id, "Thanks, one more thing")
        assert said.text_content == "Thanks, one more thing"
        stopped = await client.stop_run(run.id)
        assert isinstance(stopped.success, bool)

        page = await client.list_team_runs(emulator.team_id, limit=100)
        assert run.id in {r.id for r in page.runs}
        files = await client.list_files(sandbox.sandbox_id, "/workspace/invoices")
        assert [(f.name, f.size_bytes) for f in files] == [("march.csv", 23)]


async def test_question_run_takes_structured_answers(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        run = await client.start_run(emulator.agents["questions"])
        waiting = await wait_for_run(client, run.id, lambda d: d.pending_human_request is not None)
        request = waiting.pending_human_request
        assert request is not None and not request.is_approval and request.questions
        answers = {}
        for question in request.questions:
            if question.is_free_text:
                answers[question.question] = "keep it short"
            elif question.multi_select:
                answers[question.question] = ", ".join(o.label for o in question.options[:2])
            else:
                answers[question.question] = question.options[0].label
        await client.respond(run.id, request.id, answers=answers)
        await wait_for_run(client, run.id, lambda d: d.run is not None and d.run.status == "completed")
        texts = " ".join(m.text_content or "" for m in await all_messages(client, run.id))
        assert "keep it short" in texts


async def test_large_file_through_a_presigned_url(emulator, tmp_path):
    source = tmp_path / "big.bin"
    source.write_bytes(bytes(range(256)) * (12 * 4096))  # 12 MiB: over the direct-upload limit
    progress: list[int] = []
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        sandbox = await client.create_sandbox()
        with pytest.raises(errors.TooLargeError):
            await client.upload_file(sandbox.sandbox_id, "/workspace/big.bin", source)
        used_before = client.budget.snapshot().used
        upload = await client.create_upload_url(sandbox.sandbox_id, "/workspace/big.bin")
        await client.put_presigned(upload.upload_url, source, on_progress=progress.append)
        assert client.budget.snapshot().used == used_before + 1  # the URL counted, the PUT did not
        files = await client.list_files(sandbox.sandbox_id)
    assert {f.name: f.size_bytes for f in files}["big.bin"] == source.stat().st_size
    assert progress[-1] == source.stat().st_size


async def test_an_expired_upload_url_raises_upload_url_expired(tmp_path):
    source = tmp_path / "a.txt"
    source.write_bytes(b"hello")
    with running_emulator(speed=50, upload_url_ttl=0.05) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            sandbox = await client.create_sandbox()
            upload = await client.create_upload_url(sandbox.sandbox_id, "/workspace/a.txt")
            await asyncio.sleep(0.2)
            with pytest.raises(errors.UploadUrlExpired):
                await client.put_presigned(upload.upload_url, source)


async def test_errors_from_a_real_server(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key) as client:
        with pytest.raises(errors.NotFoundError):
            await client.get_run(str(uuid.uuid4()))
        with pytest.raises(errors.ValidationError):
            await client.start_run("not-a-uuid")
    wrong_key = "dv_" + "z" * 32
    async with DuvoClient(emulator.base_url, wrong_key) as client:
        with pytest.raises(errors.AuthError) as caught:
            await client.get_run(str(uuid.uuid4()))
    assert wrong_key not in str(caught.value)


async def test_transient_server_errors_are_retried_without_duplicating_the_run(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key, backoff_base=0.01) as client:
        before = len(emulator.state.runs)
        emulator.state.fail_next(2, status=502)
        run = await client.start_run(emulator.agents["quick"], idempotency_key="start-quick-once")
        again = await client.start_run(emulator.agents["quick"], idempotency_key="start-quick-once")
    assert again.id == run.id
    assert len(emulator.state.runs) == before + 1


async def test_a_server_that_is_down_gives_network_error(emulator):
    emulator.stop()
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=1, backoff_base=0.01) as client:
        with pytest.raises(errors.NetworkError):
            await client.get_run(str(uuid.uuid4()))
    emulator.restart()


async def test_many_concurrent_callers_stay_under_a_real_servers_limit():
    with running_emulator(speed=50, rate_limit=6, rate_window=1.0) as emu:
        budget = RecordingBudget(limit=6)  # the window length (1 s, not 60) is learned from the server
        async with DuvoClient(emu.base_url, emu.api_key, budget=budget) as client:
            first = await client.start_run(emu.agents["quick"])
            gets: list[Awaitable[RunDetail]] = [client.get_run(first.id) for _ in range(11)]
            details = await asyncio.wait_for(asyncio.gather(*gets), timeout=20)
    assert all(d.run is not None and d.run.id == first.id for d in details)
    assert 429 not in budget.statuses
    assert len(budget.statuses) == 12


async def test_a_429_from_a_real_server_is_waited_out_and_retried(emulator):
    budget = RecordingBudget()
    async with DuvoClient(emulator.base_url, emulator.api_key, budget=budget) as client:
        run = await client.start_run(emulator.agents["quick"])
        emulator.state.inject_rate_limit(retry_after=0.5)
        started = time.monotonic()
        detail = await client.get_run(run.id)
        waited = time.monotonic() - started
    assert detail.run is not None and detail.run.id == run.id
    assert budget.statuses.count(429) == 1 and budget.statuses[-1] == 200
    assert waited >= 0.9  # the server's retry-after is whole seconds (at least 1)
