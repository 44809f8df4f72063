"""Webhook deliveries: events for runs started with webhook_url, signed, retried on 5xx."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from duvo_tui.emulator.testing import running_emulator
from tests.test_emulator_api import client_for, wait_for

SECRET = "whsec_test_secret"


class Receiver:
    """A real HTTP endpoint that records deliveries; the first ``fail_first`` answers are 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = 503 if len(receiver.deliveries) <= receiver.fail_first else 204
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/duvo"

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.deliveries]

    async def wait_for_event(self, kind: str, within: float = 10.0) -> dict:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for event in self.events():
                if event["type"] == kind:
                    return event
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {kind} event; got {[e['type'] for e in self.events()]}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """How a receiver checks a delivery (written from the documented format, not the emulator's code)."""
    expected = hmac.new(secret.encode(), f"{headers['x-duvo-timestamp']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(headers["x-duvo-signature"], "sha256=" + expected.hexdigest())


async def test_events_are_signed_with_the_secret_and_carry_id_timestamp_and_run(receiver):
    with running_emulator(speed=50, webhook_secret=SECRET) as emu:
        async with client_for(emu) as client:
            run = await client.start_run(emu.agents["approval"], webhook_url=receiver.url)
            asked = await receiver.wait_for_event("human_request")
            detail = await wait_for(client, run.id, "waiting")
            assert asked["data"]["human_request"]["id"] == detail.pending_human_request.id
            assert asked["data"]["run"]["id"] == run.id and asked["data"]["run"]["status"] == "waiting"
            await client.respond(run.id, detail.pending_human_request.id, approved=True)
            done = await receiver.wait_for_event("run_completed")
    assert done["data"]["run"]["status"] == "completed" and done["data"]["human_request"] is None
    assert len({e["id"] for e in receiver.events()}) == len(receiver.deliveries) == 2
    for headers, body in receiver.deliveries:
        assert headers["content-type"] == "application/json"
        assert headers["x-duvo-event-id"] == json.loads(body)["id"]
        assert abs(int(headers["x-duvo-timestamp"]) - time.time()) < 60
        assert verify(SECRET, headers, body)
        assert not verify("whsec_some_other_secret", headers, body)
        assert not verify(SECRET, headers, body.replace(b'"status"', b'"Status"'))


async def test_failed_and_stopped_runs_send_run_failed_and_run_interrupted(receiver):
    with running_emulator(speed=50) as emu:
        async with client_for(emu) as client:
            await client.start_run(emu.agents["fails"], webhook_url=receiver.url)
            await receiver.wait_for_event("run_failed")
            run = await client.start_run(emu.agents["approval"], webhook_url=receiver.url)
            await wait_for(client, run.id, "waiting")
            assert (await client.stop_run(run.id)).success
            stopped = await receiver.wait_for_event("run_interrupted")
            assert stopped["data"]["run"]["status"] == "stopped"
            quiet = await client.start_run(emu.agents["quick"])
            await wait_for(client, quiet.id, "completed")
    await asyncio.sleep(0.1)
    assert all(e["data"]["run"]["id"] != quiet.id for e in receiver.events()), "no webhook_url, no events"


async def test_5xx_answers_are_retried_with_backoff_under_the_same_event_id(receiver):
    receiver.fail_first = 2
    with running_emulator(speed=50, webhook_backoff=0.05) as emu:
        async with client_for(emu) as client:
            run = await client.start_run(emu.agents["quick"], webhook_url=receiver.url)
            await wait_for(client, run.id, "completed")
            def recorded() -> list:
                return [r for r in emu.state.webhook_deliveries if r["type"] == "run_completed"]

            # Up to 5 s for the two retries; the emulator records an attempt once it has read the answer, which
            # can come after the receiver counted the delivery.
            for _ in range(250):
                if len(receiver.deliveries) >= 3 and len(recorded()) >= 3:
                    break
                await asyncio.sleep(0.02)
        attempts = recorded()
    assert [a["status"] for a in attempts] == [503, 503, 204]
    assert len({headers["x-duvo-event-id"] for headers, _ in receiver.deliveries}) == 1
    assert all(verify(emu.state.options.webhook_secret, h, b) for h, b in receiver.deliveries)
