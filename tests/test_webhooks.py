"""The webhook receiver: signatures checked with the emulator's signing, stale and replayed deliveries refused."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.emulator.webhooks import sign as emulator_sign
from duvo_tui.service import DuvoService
from duvo_tui.service import events as ev
from duvo_tui.service.webhooks import WebhookReceiver, parse_listen
from tests.test_service import Recorder, fast_settings, wait_until

SECRET = "whsec_test_secret"
RUN_ID = "6b0f4c1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b"


def _event(event_id: str = "evt_1") -> bytes:
    body = {"id": event_id, "type": "human_request", "data": {"run": {"id": RUN_ID}, "human_request": None}}
    return json.dumps(body, separators=(",", ":")).encode()


def _headers(body: bytes, *, event_id: str = "evt_1", timestamp: float | None = None, secret: str = SECRET) -> dict:
    stamp = str(int(time.time() if timestamp is None else timestamp))
    return {
        "content-type": "application/json",
        "x-duvo-event-id": event_id,
        "x-duvo-timestamp": stamp,
        "x-duvo-signature": emulator_sign(secret, stamp, body),
    }


@pytest.fixture
async def receiver():
    calls: list[tuple[str, str]] = []
    rx = WebhookReceiver("127.0.0.1:0", SECRET, on_event=lambda run_id, kind: calls.append((run_id, kind)))
    await rx.start()
    rx.calls = calls
    try:
        yield rx
    finally:
        await rx.close()


async def _post(rx: WebhookReceiver, body: bytes, headers: dict) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        return await http.post(rx.url, content=body, headers=headers)


async def test_a_good_signature_is_accepted_and_names_the_run(receiver):
    body = _event()
    response = await _post(receiver, body, _headers(body))
    assert response.status_code == 200
    assert receiver.calls == [(RUN_ID, "human_request")]


async def test_a_bad_signature_is_refused(receiver):
    body = _event()
    headers = _headers(body, secret="not-the-secret")
    response = await _post(receiver, body, headers)
    assert response.status_code == 401
    tampered = body.replace(b"human_request", b"run_completed", 1)
    response = await _post(receiver, tampered, _headers(body))
    assert response.status_code == 401
    assert receiver.calls == []


async def test_an_unsigned_body_is_refused(receiver):
    body = _event()
    headers = {k: v for k, v in _headers(body).items() if k != "x-duvo-signature"}
    response = await _post(receiver, body, headers)
    assert response.status_code == 401
    response = await _post(receiver, body, {"content-type": "application/json"})
    assert response.status_code == 401
    assert receiver.calls == []


async def test_a_stale_timestamp_is_refused(receiver):
    body = _event()
    response = await _post(receiver, body, _headers(body, timestamp=time.time() - 301))
    assert response.status_code == 401
    response = await _post(receiver, body, _headers(body, timestamp=time.time() + 400))
    assert response.status_code == 401
    assert receiver.calls == []


async def test_a_replayed_event_is_acknowledged_but_acted_on_once(receiver):
    body = _event("evt_replayed")
    first = await _post(receiver, body, _headers(body, event_id="evt_replayed"))
    await asyncio.sleep(1.1)  # a retry is signed again with a new timestamp
    again = await _post(receiver, body, _headers(body, event_id="evt_replayed"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["status"] == "duplicate"
    assert receiver.calls == [(RUN_ID, "human_request")]


async def test_only_post_and_sane_bodies(receiver):
    async with httpx.AsyncClient() as http:
        assert (await http.get(receiver.url)).status_code == 405
    body = b"not json"
    assert (await _post(receiver, body, _headers(body))).status_code == 400
    assert receiver.calls == []


def test_listen_addresses_default_to_loopback():
    assert parse_listen("8788") == ("127.0.0.1", 8788)
    assert parse_listen(":8788") == ("127.0.0.1", 8788)
    assert parse_listen("0.0.0.0:9000") == ("0.0.0.0", 9000)
    with pytest.raises(ValueError):
        parse_listen("host:notaport")


async def test_runs_started_here_get_the_webhook_url_and_events_refresh_them(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000, webhook_secret=SECRET) as emu:
        async with DuvoClient(emu.base_url, emu.api_key, max_retries=1) as client:
            # Slow polling: the human request must arrive through the webhook's refresh.
            settings = fast_settings(
                interval=30.0, max_interval=60.0, webhook_listen="127.0.0.1:0", webhook_secret=SECRET
            )
            service = DuvoService(client, settings=settings, state_dir=tmp_path)
            rec = Recorder()
            service.subscribe(rec)
            await service.start()
            try:
                run = await service.start_run(emu.agents["approval"])
                assert emu.state.runs[run.id].webhook_url == service.webhook_url
                await wait_until(lambda: rec.of(ev.HumanRequestAppeared), 5)
                assert service.webhooks.accepted >= 1
                # The emulator records a delivery once it has read the answer, which can be after the refresh.
                await wait_until(lambda: any(d.get("status") == 200 for d in emu.state.webhook_deliveries), 5)
            finally:
                await service.close()
