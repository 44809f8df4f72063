"""Presigned uploads: streamed to disk, signed, expiring; the server's memory stays flat for big files."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psutil
import pytest

from duvo_tui.api import errors
from duvo_tui.emulator.testing import running_emulator
from tests.test_emulator_api import client_for

MB = 1024 * 1024


def _peak_rss(pid: int) -> int | None:
    """The process's high-water-mark resident size (Linux), or None where /proc does not say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class RssSampler:
    """Samples a process's RSS every few milliseconds and keeps the highest value seen."""

    def __init__(self, process: psutil.Process) -> None:
        self.process = process
        self.highest = process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.highest = max(self.highest, self.process.memory_info().rss)
            self._stop.wait(0.005)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.fixture
def emulator_process(tmp_path):
    """The emulator as its own process (``python -m duvo_tui emulator --port 0 --json``)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "duvo_tui", "emulator", "--port", "0", "--json", "--speed", "50"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        yield proc, json.loads(line)
    finally:
        proc.terminate()
        proc.wait(10)


async def test_a_50_mb_presigned_put_is_streamed_without_growing_server_memory(emulator_process, tmp_path):
    proc, info = emulator_process
    server = psutil.Process(proc.pid)
    warmup, big = tmp_path / "warmup.bin", tmp_path / "big.bin"
    warmup.write_bytes(os.urandom(2 * MB))
    with big.open("wb") as handle:
        for _ in range(50):
            handle.write(os.urandom(MB))
    async with client_for(type("Emu", (), info)) as client:
        sandbox = await client.create_sandbox()
        first = await client.create_upload_url(sandbox.sandbox_id, "/workspace/warmup.bin")
        await client.put_presigned(first.upload_url, warmup)  # the code paths and buffers, once
        await asyncio.sleep(0.2)
        baseline_rss, baseline_peak = server.memory_info().rss, _peak_rss(proc.pid)
        target = await client.create_upload_url(sandbox.sandbox_id, "/workspace/big.bin")
        with RssSampler(server) as sampler:
            await client.put_presigned(target.upload_url, big)
        listing = await client.list_files(sandbox.sandbox_id)
    assert {f.name: f.size_bytes for f in listing}["big.bin"] == 50 * MB
    sampled_growth = sampler.highest - baseline_rss
    print(f"server RSS growth during a 50 MB PUT: {sampled_growth / MB:.2f} MB (sampled)")
    assert sampled_growth < 8 * MB, f"server RSS grew by {sampled_growth / MB:.1f} MB during a 50 MB upload"
    if baseline_peak is not None:
        peak_growth = _peak_rss(proc.pid) - baseline_peak
        print(f"server peak RSS growth: {peak_growth / MB:.2f} MB")
        assert peak_growth < 8 * MB, f"server peak RSS grew by {peak_growth / MB:.1f} MB during a 50 MB upload"


async def test_presigned_upload_arrives_intact_and_replaces_atomically(emulator, tmp_path):
    source = tmp_path / "report.pdf"
    source.write_bytes(os.urandom(3 * MB + 17))
    async with client_for(emulator) as client:
        sandbox = await client.create_sandbox()
        url = await client.create_upload_url(sandbox.sandbox_id, "/workspace/reports/q3.pdf")
        assert url.path == "/workspace/reports/q3.pdf" and url.expires_in_seconds > 0
        assert "/upload/" in url.upload_url and emulator.api_key not in url.upload_url
        await client.put_presigned(url.upload_url, source)
        await client.put_presigned(url.upload_url, source)  # a retry overwrites, it does not duplicate
        listing = await client.list_files(sandbox.sandbox_id, "/workspace/reports")
    assert [(f.name, f.size_bytes) for f in listing] == [("q3.pdf", 3 * MB + 17)]
    stored = emulator.state.sandboxes[sandbox.sandbox_id].root / "reports" / "q3.pdf"
    assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()


async def test_expired_upload_urls_are_refused_with_403_url_expired(tmp_path):
    source = tmp_path / "late.bin"
    source.write_bytes(b"late")
    with running_emulator(upload_url_ttl=0.2) as emu:
        async with client_for(emu) as client:
            sandbox = await client.create_sandbox()
            url = await client.create_upload_url(sandbox.sandbox_id, "/workspace/late.bin")
            await asyncio.sleep(0.35)
            with pytest.raises(errors.UploadUrlExpired):
                await client.put_presigned(url.upload_url, source)
            assert await client.list_files(sandbox.sandbox_id) == []
        async with httpx.AsyncClient() as http:
            response = await http.put(url.upload_url, content=b"late")
    assert response.status_code == 403 and response.json()["error"] == "url_expired"


async def test_forged_or_retargeted_upload_urls_are_refused(emulator):
    async with client_for(emulator) as client:
        sandbox = await client.create_sandbox()
        url = (await client.create_upload_url(sandbox.sandbox_id, "/workspace/a.txt")).upload_url
    payload, signature = url.rsplit("/", 1)[1].split(".")
    forged_signature = url[: -len(signature)] + ("0" if signature[0] != "0" else "1") + signature[1:]
    other_payload = url.replace(payload, payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB"))
    async with httpx.AsyncClient() as http:
        answers = [await http.put(u, content=b"x") for u in (forged_signature, other_payload, url + "x")]
        wrong_method = await http.get(url)
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert {a.json()["error"] for a in answers} == {"invalid_signature"}
    assert wrong_method.status_code == 405
    assert list(emulator.state.sandboxes[sandbox.sandbox_id].root.iterdir()) == []


async def test_a_put_into_an_expired_sandbox_is_404():
    with running_emulator(sandbox_ttl=0.3) as emu:
        async with client_for(emu) as client:
            sandbox = await client.create_sandbox()
            url = (await client.create_upload_url(sandbox.sandbox_id, "/workspace/a.txt")).upload_url
        await asyncio.sleep(0.35)
        async with httpx.AsyncClient() as http:
            response = await http.put(url, content=b"x")
    assert response.status_code == 404 and response.json()["error"] == "sandbox_expired"
