"""The client's failure modes (via httpx.MockTransport): error classes, retries, Idempotency-Key, 429, key masking."""

from __future__ import annotations

import traceback
import uuid
from pathlib import Path

import httpx
import pytest

from duvo_tui.api import errors
from duvo_tui.api.client import DuvoClient
from duvo_tui.api.status import RunStatus
from tests.test_client_support import API_KEY, FakeTime, Recorder, json_response, make_client

ERROR_CLASSES = [
    (400, errors.ValidationError),
    (401, errors.AuthError),
    (403, errors.ForbiddenError),
    (404, errors.NotFoundError),
    (409, errors.ConflictError),
    (413, errors.TooLargeError),
    (422, errors.ValidationError),
    (418, errors.ApiError),
    (429, errors.RateLimitedError),
    (500, errors.ServerError),
    (502, errors.ServerError),
    (503, errors.ServerError),
]


@pytest.mark.parametrize(("status", "cls"), ERROR_CLASSES)
async def test_every_error_status_raises_its_class_with_the_envelope(status, cls):
    recorder = Recorder([json_response(status, {"error": "some_code", "message": "what went wrong"})])
    async with make_client(recorder, max_retries=0) as client:
        with pytest.raises(cls) as caught:
            await client.get_run("run-1")
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, errors.DuvoError)
    assert error.status == status
    assert error.code == "some_code"
    assert error.message == "what went wrong"
    assert str(error) == f"{status} some_code: what went wrong"
    assert error.transient == (status >= 500 or status == 429)


async def test_envelope_without_message_falls_back_to_the_code():
    recorder = Recorder([json_response(403, {"error": "insufficient_scope"})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.ForbiddenError) as caught:
            await client.stop_run("run-1")
    assert caught.value.code == "insufficient_scope"
    assert "insufficient_scope" in str(caught.value)


async def test_error_body_that_is_not_an_envelope_still_gives_a_plain_message():
    recorder = Recorder([httpx.Response(404, text="no such thing\r\n  here")])
    async with make_client(recorder) as client:
        with pytest.raises(errors.NotFoundError) as caught:
            await client.get_run("run-1")
    assert caught.value.message == "no such thing here"


async def test_html_error_page_from_a_proxy_gives_a_clear_error():
    page = (
        "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
        "<body><h1>Bad Gateway</h1><script>x()</script></body></html>"
    )
    recorder = Recorder([httpx.Response(502, text=page, headers={"content-type": "text/html"})])
    async with make_client(recorder, max_retries=1) as client:
        with pytest.raises(errors.ServerError) as caught:
            await client.get_run("run-1")
    message = str(caught.value)
    assert message.startswith("502 ")
    assert "HTML page" in message and "502 Bad Gateway" in message
    assert "<" not in message and "script" not in message
    assert len(recorder.requests) == 2  # 502 is transient: retried once


async def test_escape_sequences_in_server_messages_are_removed():
    recorder = Recorder([json_response(400, {"error": "bad\x1b[2J", "message": "nope\x1b]52;c;aGk=\x07 here\nnow"})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.ValidationError) as caught:
            await client.get_run("run-1")
    assert "\x1b" not in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.message == "nope here now"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(
            200, text="<html><body>Welcome to the hotel wifi</body></html>", headers={"content-type": "text/html"}
        ),
        httpx.Response(200, content=b"\xff\xfe not json"),
        httpx.Response(200, text="[" * 100_000),
    ],
    ids=["html", "binary", "deeply-nested"],
)
async def test_a_success_status_with_a_body_that_is_not_json_raises_a_clear_error(response):
    recorder = Recorder([response])
    async with make_client(recorder) as client:
        with pytest.raises(errors.UnexpectedResponseError) as caught:
            await client.get_run("run-1")
    assert "not JSON" in str(caught.value)
    assert len(recorder.requests) == 1


async def test_success_bodies_of_the_wrong_shape_parse_to_empty_models():
    recorder = Recorder([json_response(200, ["not", "an", "object"]), httpx.Response(200, content=b"")])
    async with make_client(recorder) as client:
        detail = await client.get_run("run-1")
        page = await client.list_messages("run-1")
    assert detail.run is None and detail.pending_human_request is None
    assert page.messages == () and page.total == 0


async def test_start_run_whose_answer_lacks_the_run_raises_and_names_the_key():
    recorder = Recorder([json_response(201, {"run": None})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.UnexpectedResponseError) as caught:
            await client.start_run("agent-1", idempotency_key="key-123")
    assert "key-123" in str(caught.value)


async def test_a_posted_message_with_an_odd_answer_is_not_reported_as_failed():
    recorder = Recorder([json_response(201, {"unexpected": True})])
    async with make_client(recorder) as client:
        message = await client.post_message("run-1", "hello")
    assert message.text_content == "hello" and message.role == "user"


async def test_timeouts_are_retried_then_raise_network_error():
    recorder = Recorder([httpx.ReadTimeout("timed out")])
    async with make_client(recorder, max_retries=3) as client:
        with pytest.raises(errors.NetworkError) as caught:
            await client.get_run("run-1")
    assert "timed out" in str(caught.value)
    assert len(recorder.requests) == 4
    assert caught.value.transient


async def test_connection_errors_are_retried_until_the_server_answers():
    recorder = Recorder(
        [
            httpx.ConnectError("connection refused"),
            httpx.RemoteProtocolError("reset"),
            json_response(200, {"run": {"id": "run-1", "status": "running"}}),
        ]
    )
    async with make_client(recorder) as client:
        detail = await client.get_run("run-1")
    assert detail.run is not None and detail.run.status == "running"
    assert len(recorder.requests) == 3
    # A request that got no answer is not counted as still on its way.
    assert client.budget._in_flight == 0


async def test_retries_of_a_mutation_reuse_the_same_idempotency_key():
    recorder = Recorder(
        [
            json_response(503, {"error": "unavailable"}),
            httpx.ReadTimeout("slow"),
            json_response(502, {}),
            json_response(201, {"run": {"id": "run-9", "status": "pending"}}),
        ]
    )
    async with make_client(recorder, max_retries=4) as client:
        run = await client.start_run("agent-1", message="go")
    assert run.id == "run-9"
    keys = recorder.idempotency_keys
    assert len(keys) == 4
    assert len(set(keys)) == 1
    assert uuid.UUID(keys[0]).version == 4
    assert len({body for body in recorder.bodies}) == 1  # the same body every time


async def test_a_caller_given_idempotency_key_is_used_on_every_attempt():
    recorder = Recorder([json_response(500, {}), json_response(200, {"success": True})])
    async with make_client(recorder) as client:
        result = await client.stop_run("run-1", idempotency_key="stop-run-1-abc")
    assert result.success
    assert recorder.idempotency_keys == ["stop-run-1-abc", "stop-run-1-abc"]


async def test_separate_mutations_get_separate_keys_and_reads_get_none():
    recorder = Recorder([json_response(201, {"message": {"id": "m", "type": "message", "role": "user"}})])
    async with make_client(recorder) as client:
        await client.post_message("run-1", "one")
        await client.post_message("run-1", "two")
        await client.get_run("run-1")
        await client.list_messages("run-1")
        await client.list_files("sb-1")
        await client.list_team_runs("team-1")
    keys = recorder.idempotency_keys
    assert keys[0] and keys[1] and keys[0] != keys[1]
    assert keys[2:] == [None, None, None, None]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
async def test_client_errors_other_than_429_are_never_retried(status):
    recorder = Recorder([json_response(status, {"error": "no"}), json_response(201, {"run": {"id": "r"}})])
    async with make_client(recorder, max_retries=4) as client:
        with pytest.raises(errors.ApiError):
            await client.start_run("agent-1")
    assert len(recorder.requests) == 1


async def test_transient_failures_are_retried_a_bounded_number_of_times_with_jittered_backoff():
    clock = FakeTime()
    recorder = Recorder([json_response(500, {"error": "boom"})], clock=clock)
    async with make_client(recorder, clock=clock, max_retries=5, backoff_base=0.5, max_backoff=4.0) as client:
        with pytest.raises(errors.ServerError):
            await client.get_run("run-1")
    assert len(recorder.requests) == 6
    assert len(clock.sleeps) == 5
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0]
    for delay, ceiling in zip(clock.sleeps, ceilings, strict=True):
        assert 0.0 <= delay <= ceiling


async def test_429_pauses_for_retry_after_then_the_request_is_sent_again():
    clock = FakeTime()
    recorder = Recorder(
        [
            json_response(429, {"error": "rate_limited", "message": "slow down"}, **{"retry-after": "5"}),
            json_response(200, {"run": {"id": "run-1", "status": "waiting"}}),
        ],
        clock=clock,
    )
    async with make_client(recorder, clock=clock) as client:
        detail = await client.get_run("run-1")
    assert detail.run is not None and detail.run.status == RunStatus.WAITING
    assert len(recorder.times) == 2
    assert recorder.times[1] - recorder.times[0] >= 5.0


async def test_429_retries_are_bounded():
    clock = FakeTime()
    recorder = Recorder([json_response(429, {"error": "rate_limited"}, **{"retry-after": "2"})], clock=clock)
    async with make_client(recorder, clock=clock, max_retries=2) as client:
        with pytest.raises(errors.RateLimitedError) as caught:
            await client.post_message("run-1", "hi")
    assert caught.value.retry_after == 2.0
    assert len(recorder.requests) == 3
    assert len(set(recorder.idempotency_keys)) == 1
    for earlier, later in zip(recorder.times, recorder.times[1:], strict=False):
        assert later - earlier >= 2.0


async def test_a_retry_after_longer_than_the_client_will_wait_is_raised_at_once():
    clock = FakeTime()
    recorder = Recorder([json_response(429, {"error": "rate_limited"}, **{"retry-after": "600"})], clock=clock)
    async with make_client(recorder, clock=clock, max_rate_wait=60.0) as client:
        with pytest.raises(errors.RateLimitedError) as caught:
            await client.get_run("run-1")
        assert client.budget.snapshot().paused_for == pytest.approx(600.0)
    assert caught.value.retry_after == 600.0
    assert len(recorder.requests) == 1


async def test_every_response_feeds_the_budget():
    clock = FakeTime()
    headers = {"x-ratelimit-limit": "300", "x-ratelimit-remaining": "12", "x-ratelimit-reset": str(clock.wall() + 40)}
    recorder = Recorder([httpx.Response(404, json={"error": "not_found"}, headers=headers)], clock=clock)
    async with make_client(recorder, clock=clock) as client:
        with pytest.raises(errors.NotFoundError):
            await client.get_run("gone")
        snap = client.budget.snapshot()
    assert snap.remaining == 12 and snap.used == 288
    assert snap.resets_in == pytest.approx(40.0)


async def test_the_key_never_appears_in_errors_or_reprs():
    echo = f"invalid token {API_KEY}"
    recorder = Recorder(
        [
            json_response(401, {"error": f"invalid_token {API_KEY}", "message": echo}),
            httpx.ConnectError(f"cannot connect with {API_KEY}"),
        ]
    )
    async with make_client(recorder, max_retries=0) as client:
        with pytest.raises(errors.AuthError) as auth:
            await client.get_run("run-1")
        with pytest.raises(errors.NetworkError) as network:
            await client.get_run("run-1")
        assert API_KEY not in repr(client)
        assert "dv_Se…lm" in repr(client)
    for error in (auth.value, network.value):
        rendered = "".join(traceback.format_exception(error))
        for text in (str(error), repr(error), rendered, error.message, str(error.args), str(error.code)):
            assert API_KEY not in text
    assert "invalid token dv_Se…lm" in str(auth.value)
    # It is sent where it belongs, and only there.
    assert recorder.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert API_KEY not in str(recorder.requests[0].url)


async def test_requests_carry_bearer_auth_a_user_agent_and_ask_for_json():
    recorder = Recorder([json_response(200, {"run": None})])
    async with make_client(recorder) as client:
        await client.get_run("run-1")
    request = recorder.requests[0]
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["user-agent"].startswith("duvo-tui/")
    assert request.headers["accept"] == "application/json"


def test_constructing_a_client_with_a_short_timeout_keeps_a_sane_connect_timeout():
    client = DuvoClient("https://x.test", API_KEY, timeout=2.0)
    assert client._timeout.connect == 2.0 and client._timeout.read == 2.0
    client = DuvoClient("https://x.test", API_KEY)
    assert client._timeout.connect == 5.0 and client._timeout.read == 30.0


@pytest.mark.parametrize("base_url", ["not a url", "ftp://files.example.test", "api.duvo.ai"])
async def test_an_unusable_base_url_is_a_clear_error_not_retried(base_url):
    async with DuvoClient(base_url, API_KEY, backoff_base=0.0) as client:
        with pytest.raises(errors.DuvoError) as caught:
            await client.get_run("run-1")
        assert client.budget.snapshot().used == 1
    assert not caught.value.transient
    assert "base URL" in str(caught.value)


@pytest.mark.parametrize("key", ["", "dv_abc def0123456789", "dv_abc\n0123456789", "dv_ключ0123456789"])
async def test_an_unsendable_key_is_refused_before_any_request(key):
    recorder = Recorder([json_response(200, {"run": None})])
    async with make_client(recorder, api_key=key) as client:
        with pytest.raises(errors.AuthError) as caught:
            await client.get_run("run-1")
    assert recorder.requests == []
    if key:
        assert key not in str(caught.value)


async def test_a_key_pasted_with_surrounding_whitespace_is_trimmed():
    recorder = Recorder([json_response(200, {"run": None})])
    async with make_client(recorder, api_key=f"  {API_KEY}\n") as client:
        await client.get_run("run-1")
    assert recorder.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


async def test_a_redirect_is_reported_not_followed():
    recorder = Recorder([httpx.Response(301, headers={"location": "https://elsewhere.test/v1/runs/run-1?token=x"})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.ApiError) as caught:
            await client.get_run("run-1")
    assert caught.value.status == 301
    assert "https://elsewhere.test/v1/runs/run-1" in str(caught.value) and "token" not in str(caught.value)
    assert len(recorder.requests) == 1


async def test_a_closed_client_raises_a_duvo_error():
    recorder = Recorder([json_response(200, {"run": None})])
    client = make_client(recorder)
    await client.aclose()
    with pytest.raises(errors.DuvoError, match="closed"):
        await client.get_run("run-1")
    with pytest.raises(errors.DuvoError, match="closed"):
        await client.put_presigned("https://store.test/x", Path(__file__))


async def test_while_the_key_is_paused_longer_than_the_client_waits_calls_fail_fast():
    clock = FakeTime()
    recorder = Recorder(
        [json_response(429, {"error": "rate_limited"}, **{"retry-after": "300"}), json_response(200, {"run": None})],
        clock=clock,
    )
    async with make_client(recorder, clock=clock, max_rate_wait=60.0) as client:
        with pytest.raises(errors.RateLimitedError):
            await client.get_run("run-1")
        with pytest.raises(errors.RateLimitedError) as caught:
            await client.post_message("run-1", "hello")
        assert len(recorder.requests) == 1
        assert "300 s" in str(caught.value)
        clock.now += 301
        detail = await client.get_run("run-1")
    assert detail.run is None and len(recorder.requests) == 2
