"""Rate limiting, injected faults, latency and restarts of the emulator."""

from __future__ import annotations

import math
import time
import uuid

import httpx
import pytest

from duvo_tui.api import errors
from duvo_tui.emulator.testing import running_emulator
from tests.test_emulator_api import client_for, raw, wait_for
from tests.test_emulator_schema import check_response


def test_limit_plus_one_requests_in_a_window_gives_exactly_one_429():
    with running_emulator(speed=50, rate_limit=5, rate_window=30) as emu, raw(emu) as http:
        started = time.time()
        responses = [http.get(f"/v1/runs/{uuid.uuid4()}") for _ in range(6)]
        finished = time.time()
        statuses = [r.status_code for r in responses]
        assert statuses == [404] * 5 + [429]
        assert [int(r.headers["x-ratelimit-remaining"]) for r in responses] == [4, 3, 2, 1, 0, 0]
        assert all(r.headers["x-ratelimit-limit"] == "5" for r in responses)
        resets = {int(r.headers["x-ratelimit-reset"]) for r in responses}
        assert len(resets) == 1
        reset = resets.pop()
        # The window opens with the first request (between started and finished); the header is whole seconds.
        assert started < reset <= math.ceil(finished + 30)
        limited = responses[-1]
        assert limited.json()["error"] == "rate_limited"
        check_response("GET", "/v1/runs/x", 429, limited.json())
        assert 1 <= int(limited.headers["retry-after"]) <= 31
        assert "retry-after" not in responses[0].headers


def test_each_key_has_its_own_window_and_presigned_puts_are_not_counted():
    keys = ["dv_one_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "dv_two_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]
    with running_emulator(speed=50, rate_limit=3, api_keys=keys) as emu, raw(emu, key=keys[0]) as one:
        sandbox = one.post("/v1/sandboxes").json()["sandbox_id"]
        url = one.post(f"/v1/sandboxes/{sandbox}/upload-urls", json={"path": "/workspace/a.bin"}).json()["upload_url"]
        for _ in range(5):
            assert httpx.put(url, content=b"abc").status_code == 200
        assert one.get(f"/v1/sandboxes/{sandbox}/files").status_code == 200  # the third request of the window
        assert one.get(f"/v1/sandboxes/{sandbox}/files").status_code == 429
        with raw(emu, key=keys[1]) as two:
            assert two.post("/v1/sandboxes").status_code == 201


def test_the_emulator_counts_every_api_request_it_receives_but_not_presigned_puts():
    with running_emulator(speed=50, rate_limit=3) as emu, raw(emu) as http:
        started = time.time()
        sandbox = http.post("/v1/sandboxes").json()["sandbox_id"]
        url = http.post(f"/v1/sandboxes/{sandbox}/upload-urls", json={"path": "/workspace/a.bin"}).json()["upload_url"]
        assert httpx.put(url, content=b"abc").status_code == 200
        missing = f"/v1/runs/{uuid.uuid4()}"
        assert http.get(missing).status_code == 404
        assert http.get(missing).status_code == 429  # a refused one counts too: the server received it
        logged = emu.state.requests_between(started)
        assert [(method, path) for _, method, path in logged] == [
            ("POST", "/v1/sandboxes"),
            ("POST", f"/v1/sandboxes/{sandbox}/upload-urls"),
            ("GET", missing),
            ("GET", missing),
        ]
        assert all(started <= at <= time.time() for at, _, _ in logged)
        assert emu.state.requests_between(time.time() + 1) == []


async def test_injected_rate_limit_answers_429_with_retry_after_and_the_client_waits_it_out(emulator):
    # A period of 429s from now: a request that arrives within it is refused with what is left of it.
    emulator.state.inject_rate_limit(retry_after=30)
    with raw(emulator) as http:
        response = http.post("/v1/sandboxes")
    emulator.state.clear_faults()
    assert response.status_code == 429 and 1 <= int(response.headers["retry-after"]) <= 30
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert len(emulator.state.sandboxes) == 0
    # The next request refused, however late it comes (a loaded machine cannot let it slip past a period).
    emulator.state.limit_next(1, retry_after=1)
    started_at, started = time.time(), time.monotonic()
    async with client_for(emulator) as client:
        client.max_retries = 2
        sandbox = await client.create_sandbox()
    assert time.monotonic() - started >= 0.9
    assert sandbox.sandbox_id in emulator.state.sandboxes
    # The server received it twice: refused once, then taken after the wait.
    assert [path for _, _, path in emulator.state.requests_between(started_at)] == ["/v1/sandboxes"] * 2


async def test_fail_next_gives_transient_errors_the_client_retries(emulator):
    emulator.state.fail_next(2, status=502)
    with raw(emulator) as http:
        first = http.get(f"/v2/teams/{emulator.team_id}/runs")
        second = http.get(f"/v2/teams/{emulator.team_id}/runs")
        third = http.get(f"/v2/teams/{emulator.team_id}/runs")
    assert [first.status_code, second.status_code, third.status_code] == [502, 502, 200]
    assert first.json()["error"] == "upstream_unavailable" and "x-ratelimit-remaining" in first.headers
    emulator.state.fail_next(1, status=500)
    async with client_for(emulator) as client:
        client.max_retries, client.backoff_base = 3, 0.01
        run = await client.start_run(emulator.agents["quick"])
        await wait_for(client, run.id, "completed")
    emulator.state.fail_next(3, status=500)
    async with client_for(emulator) as client:
        with pytest.raises(errors.ServerError):
            await client.create_sandbox()  # max_retries=0: the first 500 is raised


def test_fault_rate_answers_a_seeded_share_of_requests_with_5xx():
    def statuses(seed: int) -> list[int]:
        with running_emulator(fault_rate=0.3, seed=seed, rate_limit=1000) as emu, raw(emu) as http:
            return [http.get(f"/v2/teams/{emu.team_id}/runs").status_code for _ in range(60)]

    first, again = statuses(3), statuses(3)
    assert first == again
    faults = [s for s in first if s != 200]
    assert set(faults) <= {500, 502} and 8 <= len(faults) <= 30
    with running_emulator(fault_rate=1.0) as emu, raw(emu) as http:
        assert http.post("/v1/sandboxes").status_code in (500, 502)
        assert len(emu.state.sandboxes) == 0


def test_latency_is_added_to_every_request():
    with running_emulator(latency_ms=150) as emu, raw(emu) as http:
        started = time.monotonic()
        assert http.get(f"/v2/teams/{emu.team_id}/runs").status_code == 200
        assert time.monotonic() - started >= 0.15


async def test_restart_comes_back_on_the_same_port_and_keeps_the_runs():
    with running_emulator(speed=50) as emu:
        async with client_for(emu) as client:
            client.max_retries, client.backoff_base = 6, 0.05
            run = await client.start_run(emu.agents["approval"])
            await wait_for(client, run.id, "waiting")
            url, port = emu.base_url, emu.port
            emu.stop()
            async with client_for(emu) as impatient:
                with pytest.raises(errors.NetworkError):
                    await impatient.get_run(run.id)
            emu.restart()
            assert (emu.base_url, emu.port) == (url, port)
            detail = await client.get_run(run.id)
            assert detail.run.status == "waiting"
            await client.respond(run.id, detail.pending_human_request.id, approved=True)
            await wait_for(client, run.id, "completed")
