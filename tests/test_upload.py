"""The uploader against the emulator: direct and presigned paths, 413 fallback, expired URLs, retries, memory."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from duvo_tui.api.budget import RateBudget
from duvo_tui.api.client import DuvoClient
from duvo_tui.api.errors import NetworkError
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service import events as ev
from duvo_tui.service.uploader import Uploader, UploadError

MB = 1024 * 1024


def sha(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(MB):
            digest.update(block)
    return digest.hexdigest()


def held(emu, sandbox_id: str, dest: str) -> Path:
    return emu.state.sandboxes[sandbox_id].root / dest[len("/workspace/") :]


class CountingBudget(RateBudget):
    """A rate budget that also counts the requests it let through."""

    def __init__(self) -> None:
        super().__init__()
        self.acquired = 0

    async def acquire(self, urgent: bool = False) -> None:
        await super().acquire(urgent)
        self.acquired += 1


def requests_to(emu, suffix: str) -> int:
    return sum(1 for key in emu.state.idempotency if key[1] == "POST" and key[2].endswith(suffix))


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        for start in range(0, size, MB):
            handle.write(os.urandom(min(MB, size - start)))
    return path


class DelayedFirstPut:
    """A client whose first presigned PUT starts late (long enough for a short-lived URL to expire)."""

    def __init__(self, client: DuvoClient, delay: float) -> None:
        self._client, self._delay, self.puts = client, delay, 0

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    async def put_presigned(self, upload_url, source, *, on_progress=None):
        self.puts += 1
        if self.puts == 1:
            await asyncio.sleep(self._delay)
        return await self._client.put_presigned(upload_url, source, on_progress=on_progress)


async def test_small_file_goes_direct_and_a_big_one_through_a_presigned_url(tmp_path):
    small = random_file(tmp_path / "small.bin", 300_000)
    big = random_file(tmp_path / "big.bin", 12 * MB)
    events: list = []
    with running_emulator(speed=50) as emu:
        budget = CountingBudget()
        async with DuvoClient(emu.base_url, emu.api_key, budget=budget) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
            uploader = Uploader(client, events.append)
            a, b = await asyncio.gather(
                uploader.upload(small, sandbox, "/workspace/in/small.bin"),
                uploader.upload(big, sandbox, "/workspace/in/big.bin"),
            )
            # The budget let through the sandbox, the direct upload and the upload URL: not the PUT to storage.
            assert budget.acquired == 3
            # Its estimate of what is used may be one higher: when the two uploads' requests overlap, the
            # server may already have counted the one still in flight, which the budget counts again to be safe.
            assert 3 <= budget.snapshot().used <= 4
        assert (a.method, b.method) == ("direct", "presigned")
        assert sha(held(emu, sandbox, "/workspace/in/small.bin")) == sha(small)
        assert sha(held(emu, sandbox, "/workspace/in/big.bin")) == sha(big)
        assert (requests_to(emu, "/files"), requests_to(emu, "/upload-urls")) == (1, 1)
    progress = [e for e in events if isinstance(e, ev.UploadProgress) and e.upload_id == b.upload_id]
    assert progress[-1].sent == progress[-1].size == 12 * MB
    assert [p.sent for p in progress] == sorted(p.sent for p in progress)
    assert any(0 < p.sent < 12 * MB for p in progress), "no intermediate progress for a 12 MB PUT"
    kinds = [type(e).__name__ for e in events if getattr(e, "upload_id", None) == a.upload_id]
    assert kinds[0] == "UploadQueued" and kinds[-1] == "UploadFinished"


async def test_a_413_on_a_direct_upload_falls_back_to_the_presigned_url(tmp_path):
    file = random_file(tmp_path / "two-mb.bin", 2 * MB)
    with running_emulator(speed=50, max_direct_upload=1 * MB) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
            result = await Uploader(client).upload(file, sandbox, "/workspace/two-mb.bin")
        assert result.method == "presigned"
        assert requests_to(emu, "/upload-urls") == 1
        assert sha(held(emu, sandbox, "/workspace/two-mb.bin")) == sha(file)


async def test_an_expired_upload_url_is_replaced_and_the_put_sent_again(tmp_path):
    file = random_file(tmp_path / "big.bin", 11 * MB)
    events: list = []
    with running_emulator(speed=50, upload_url_ttl=0.4) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as real:
            sandbox = (await real.create_sandbox()).sandbox_id
            client = DelayedFirstPut(real, delay=0.6)
            result = await Uploader(client, events.append).upload(file, sandbox, "/workspace/big.bin")
        assert result.method == "presigned"
        assert client.puts == 2
        assert requests_to(emu, "/upload-urls") == 2
        assert sha(held(emu, sandbox, "/workspace/big.bin")) == sha(file)
    assert not [e for e in events if isinstance(e, ev.UploadFailed)]


async def test_an_unknown_sandbox_fails_at_once_and_is_reported_final(tmp_path):
    file = random_file(tmp_path / "a.txt", 10)
    events: list = []
    with running_emulator(speed=50) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            uploader = Uploader(client, events.append, backoff_base=0.01)
            with pytest.raises(UploadError) as caught:
                await uploader.upload(file, "sbx_nope", "/workspace/a.txt")
    assert caught.value.cause is not None and caught.value.cause.status == 404
    failed = [e for e in events if isinstance(e, ev.UploadFailed)]
    assert len(failed) == 1 and failed[0].final and "a.txt" in failed[0].message


async def test_a_missing_local_file_is_reported_not_raised_as_something_else(tmp_path):
    events: list = []
    with pytest.raises(UploadError, match="cannot read"):
        await Uploader(object(), events.append).upload(tmp_path / "gone.txt", "sbx", "/workspace/gone.txt")
    assert isinstance(events[-1], ev.UploadFailed) and events[-1].final


async def test_transient_failures_are_retried_with_backoff_then_reported_final(tmp_path):
    file = random_file(tmp_path / "a.txt", 10)
    events: list = []
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    # A dead network is a failure the real server cannot produce on demand: a mock transport plays it.
    client = DuvoClient("http://storage.invalid", "k" * 20, transport=httpx.MockTransport(refuse), max_retries=0)
    async with client:
        uploader = Uploader(client, events.append, max_attempts=3, backoff_base=1.0, sleep=no_sleep)
        with pytest.raises(UploadError) as caught:
            await uploader.upload(file, "sbx", "/workspace/a.txt")
    assert isinstance(caught.value.cause, NetworkError)
    failed = [e for e in events if isinstance(e, ev.UploadFailed)]
    assert [e.final for e in failed] == [False, False, True]
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] * 0.99 and 0.5 <= sleeps[0] <= 1.0


async def test_server_errors_are_retried_and_the_file_still_arrives_once(tmp_path):
    file = random_file(tmp_path / "a.txt", 1000)
    with running_emulator(speed=50) as emu:
        async with DuvoClient(emu.base_url, emu.api_key, max_retries=0) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
            emu.state.fail_next(2, status=502)
            uploader = Uploader(client, backoff_base=0.01, max_backoff=0.05)
            await uploader.upload(file, sandbox, "/workspace/a.txt")
        assert requests_to(emu, "/files") == 1
        assert sha(held(emu, sandbox, "/workspace/a.txt")) == sha(file)


async def test_concurrency_is_limited(tmp_path):
    files = [random_file(tmp_path / f"f{i}.bin", 50_000) for i in range(10)]
    peak = 0
    with running_emulator(speed=50, latency_ms=40) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
            uploader = Uploader(client, concurrency=3)

            def seen(event):
                nonlocal peak
                peak = max(peak, uploader.active)

            uploader.emit = seen
            await asyncio.gather(*(uploader.upload(f, sandbox, f"/workspace/{f.name}") for f in files))
    assert peak == 3


MEMORY_SCRIPT = """
import asyncio, json, resource, sys
from pathlib import Path
from duvo_tui.api.client import DuvoClient
from duvo_tui.service.uploader import Uploader

async def main(base_url, key, sandbox, path):
    async with DuvoClient(base_url, key) as client:
        await client.list_files(sandbox)  # warm up: connection pool, imports
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result = await Uploader(client).upload(Path(path), sandbox, "/workspace/huge.bin")
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"before_kb": before, "after_kb": after, "method": result.method, "size": result.size}))

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_200_mb_upload_keeps_peak_memory_growth_under_50_mb(tmp_path):
    # Peak RSS of a separate client process (ru_maxrss is the kernel's high-water mark, so a short spike
    # cannot hide between samples). The file is sparse: reading it costs no disk, sending it is real.
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as handle:
        handle.truncate(200 * MB)
    with running_emulator(speed=50) as emu:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            sandbox = (await client.create_sandbox()).sandbox_id
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", MEMORY_SCRIPT, emu.base_url, emu.api_key, sandbox, str(huge),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        report = json.loads(out)
        assert held(emu, sandbox, "/workspace/huge.bin").stat().st_size == 200 * MB
    assert report["method"] == "presigned" and report["size"] == 200 * MB
    growth_mb = (report["after_kb"] - report["before_kb"]) / 1024
    assert growth_mb < 50, f"peak RSS grew by {growth_mb:.1f} MB"
