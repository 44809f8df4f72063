"""What the client sends: URLs, query parameters, bodies, and uploads (direct multipart and presigned PUT)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest

from duvo_tui.api import errors
from duvo_tui.api.budget import RateBudget
from duvo_tui.api.client import DIRECT_UPLOAD_LIMIT, DuvoClient
from tests.test_client_support import API_KEY, Recorder, json_response, make_client

RUN = {"id": "run-1", "agent_id": "agent-1", "status": "running"}


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.example.test", "https://api.example.test/v1/runs/run-1"),
        ("https://api.example.test/", "https://api.example.test/v1/runs/run-1"),
        ("https://api.example.test/v1", "https://api.example.test/v1/runs/run-1"),
        ("https://api.example.test/v1/", "https://api.example.test/v1/runs/run-1"),
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787/v1/runs/run-1"),
        ("https://gw.example.test/duvo/", "https://gw.example.test/duvo/v1/runs/run-1"),
    ],
)
async def test_base_url_with_or_without_slash_joins_v1_paths(base_url, expected):
    recorder = Recorder([json_response(200, {"run": RUN})])
    async with make_client(recorder, base_url=base_url) as client:
        await client.get_run("run-1")
    assert str(recorder.requests[0].url) == expected


async def test_ids_cannot_change_the_path_or_add_a_query():
    recorder = Recorder([json_response(200, {"run": None})])
    async with make_client(recorder) as client:
        await client.get_run("../../admin?x=1")
    url = recorder.requests[0].url
    assert url.raw_path == b"/v1/runs/..%2F..%2Fadmin%3Fx%3D1"
    assert url.query == b""


async def test_start_run_sends_only_the_fields_given():
    recorder = Recorder([json_response(201, {"run": RUN})])
    async with make_client(recorder) as client:
        run = await client.start_run("agent-1")
        await client.start_run("agent-1", message="hi", sandbox_id="sb-1", webhook_url="https://hook.test/x")
    assert run.id == "run-1" and run.status == "running"
    first, second = (json.loads(body) for body in recorder.bodies)
    assert first == {"agent_id": "agent-1"}
    assert second == {
        "agent_id": "agent-1",
        "message": "hi",
        "sandbox_id": "sb-1",
        "webhook_url": "https://hook.test/x",
    }
    assert all(r.method == "POST" and r.url.path == "/v1/runs" for r in recorder.requests)


@pytest.mark.parametrize(
    ("limit", "offset", "sent_limit", "sent_offset"),
    [(50, 0, "50", "0"), (0, 10, "1", "10"), (-7, -3, "1", "0"), (500, 120, "50", "120"), (20, 5, "20", "5")],
)
async def test_list_messages_clamps_limit_to_1_to_50(limit, offset, sent_limit, sent_offset):
    recorder = Recorder([json_response(200, {"messages": [], "total": 0, "limit": 1, "offset": 0})])
    async with make_client(recorder) as client:
        await client.list_messages("run-1", limit=limit, offset=offset)
    request = recorder.requests[0]
    assert request.method == "GET" and request.url.path == "/v1/runs/run-1/messages"
    assert request.url.params["limit"] == sent_limit
    assert request.url.params["offset"] == sent_offset


async def test_list_messages_parses_every_message_kind():
    body = {
        "messages": [
            {"id": "1", "type": "message", "role": "user", "timestamp": "2026-01-01T00:00:00Z", "text_content": "go"},
            {"id": "2", "type": "tool_call", "role": "assistant", "timestamp": "not a time",
             "tool_call": {"id": "c1", "name": "search", "arguments": {"q": "x"}}},
            {"id": "3", "type": "tool_result", "role": "tool", "timestamp": None,
             "tool_result": {"tool_call_id": "c1", "result": [1, 2], "error": None}},
        ],
        "total": 3,
        "limit": 50,
        "offset": 0,
    }  # fmt: skip
    recorder = Recorder([json_response(200, body)])
    async with make_client(recorder) as client:
        page = await client.list_messages("run-1")
    assert [m.type for m in page.messages] == ["message", "tool_call", "tool_result"]
    assert page.messages[0].timestamp is not None and page.messages[1].timestamp is None
    assert page.messages[1].tool_call.arguments == {"q": "x"}
    assert page.messages[2].tool_result.result == [1, 2]
    assert page.total == 3


async def test_post_message_and_stop_send_the_documented_shapes():
    recorder = Recorder(
        [
            json_response(201, {"message": {"id": "m1", "type": "message", "role": "user", "text_content": "hey"}}),
            json_response(200, {"success": True, "message": "stopping"}),
        ]
    )
    async with make_client(recorder) as client:
        message = await client.post_message("run-1", "hey")
        stopped = await client.stop_run("run-1")
    assert message.id == "m1" and message.text_content == "hey"
    assert stopped.success and stopped.message == "stopping"
    post, stop = recorder.requests
    assert (post.method, post.url.path, json.loads(recorder.bodies[0])) == (
        "POST",
        "/v1/runs/run-1/messages",
        {"message": "hey"},
    )
    assert (stop.method, stop.url.path, recorder.bodies[1]) == ("POST", "/v1/runs/run-1/stop", b"")


async def test_respond_sends_approval_or_answers():
    answered = {"human_request": {"id": "hr-1", "run_id": "run-1", "title": "Deploy?", "response": "approved"}}
    recorder = Recorder([json_response(200, answered)])
    async with make_client(recorder) as client:
        result = await client.respond("run-1", "hr-1", approved=True)
        await client.respond("run-1", "hr-1", approved=False)
        await client.respond("run-1", "hr-1", answers={"Which region?": "eu, us", "Why?": "because"})
    assert result.id == "hr-1" and result.response == "approved"
    assert recorder.requests[0].url.path == "/v1/runs/run-1/human-requests/hr-1/respond"
    assert [json.loads(b) for b in recorder.bodies] == [
        {"approved": True},
        {"approved": False},
        {"answers": {"Which region?": "eu, us", "Why?": "because"}},
    ]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, {"limit": "100", "offset": "0", "sort_order": "desc"}),
        ({"limit": 0, "offset": -1, "sort_order": "asc"}, {"limit": "1", "offset": "0", "sort_order": "asc"}),
        (
            {"limit": 1000, "status": "waiting", "agent_id": "a-1", "source": "api", "search": "invoice"},
            {
                "limit": "100",
                "offset": "0",
                "sort_order": "desc",
                "status": "waiting",
                "agent_id": "a-1",
                "source": "api",
                "search": "invoice",
            },
        ),
        ({"sort_order": "sideways"}, {"limit": "100", "offset": "0", "sort_order": "desc"}),
    ],
)
async def test_list_team_runs_hits_v2_with_clamped_params(options, expected):
    recorder = Recorder([json_response(200, {"data": [dict(RUN, title="T", agent_name="Bot")], "total": 7})])
    async with make_client(recorder) as client:
        page = await client.list_team_runs("team-1", **options)
    request = recorder.requests[0]
    assert request.method == "GET" and request.url.path == "/v2/teams/team-1/runs"
    assert dict(request.url.params) == expected
    assert page.total == 7 and page.runs[0].agent_name == "Bot"


async def test_sandbox_endpoints():
    recorder = Recorder(
        [
            json_response(201, {"sandbox_id": "sb-1", "expires_at": "2026-12-01T00:00:00Z"}),
            json_response(
                200, {"upload_url": "https://store.test/put?sig=abc", "path": "/workspace/x", "expires_in_seconds": 900}
            ),
            json_response(
                200,
                {"files": [{"name": "a", "path": "/workspace/a", "type": "dir", "size_bytes": 0}, {"bogus": 1}, 5]},
            ),
        ]
    )
    async with make_client(recorder) as client:
        sandbox = await client.create_sandbox()
        upload = await client.create_upload_url("sb-1", "/workspace/x")
        files = await client.list_files("sb-1")
    assert sandbox.sandbox_id == "sb-1" and sandbox.expires_at is not None
    assert upload.upload_url.startswith("https://store.test/") and upload.expires_in_seconds == 900
    assert [f.name for f in files] == ["a"] and files[0].is_dir
    create, url, ls = recorder.requests
    assert (create.method, create.url.path) == ("POST", "/v1/sandboxes")
    assert (url.method, url.url.path, json.loads(recorder.bodies[1])) == (
        "POST",
        "/v1/sandboxes/sb-1/upload-urls",
        {"path": "/workspace/x"},
    )
    assert (ls.method, ls.url.path, ls.url.params["path"]) == ("GET", "/v1/sandboxes/sb-1/files", "/workspace")
    assert create.headers.get("idempotency-key") and url.headers.get("idempotency-key")


async def test_a_created_sandbox_without_an_id_is_an_error():
    recorder = Recorder([json_response(201, {"expires_at": "soon"})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.UnexpectedResponseError):
            await client.create_sandbox()


# --------------------------------------------------------------------------- direct upload


def _multipart_parts(request: httpx.Request, body: bytes) -> dict[str, bytes]:
    """The named parts of a multipart body (enough of a parser for these tests)."""
    boundary = request.headers["content-type"].split("boundary=")[1].encode()
    parts: dict[str, bytes] = {}
    for chunk in body.split(b"--" + boundary)[1:-1]:
        head, _, value = chunk.partition(b"\r\n\r\n")
        name = head.split(b'name="')[1].split(b'"')[0].decode()
        parts[name] = value[: -len(b"\r\n")]
        if b'filename="' in head:
            parts[name + ".filename"] = head.split(b'filename="')[1].split(b'"')[0]
    return parts


async def test_upload_file_from_bytes_sends_part_file_and_field_path():
    recorder = Recorder([json_response(201, {"path": "/workspace/in/a.txt", "size_bytes": 5})])
    async with make_client(recorder) as client:
        uploaded = await client.upload_file("sb-1", "/workspace/in/a.txt", b"hello")
    request = recorder.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v1/sandboxes/sb-1/files")
    assert request.headers["content-type"].startswith("multipart/form-data")
    parts = _multipart_parts(request, recorder.bodies[0])
    assert parts["file"] == b"hello"
    assert parts["file.filename"] == b"a.txt"
    assert parts["path"] == b"/workspace/in/a.txt"
    assert uploaded.path == "/workspace/in/a.txt" and uploaded.size_bytes == 5
    assert request.headers.get("idempotency-key")


async def test_upload_file_from_disk_is_resent_whole_on_retry_with_the_same_key(tmp_path):
    source = tmp_path / "data.bin"
    content = bytes(range(256)) * 400
    source.write_bytes(content)
    recorder = Recorder([json_response(503, {"error": "busy"}), json_response(201, {"path": "/workspace/data.bin"})])
    async with make_client(recorder) as client:
        uploaded = await client.upload_file("sb-1", "/workspace/data.bin", source)
    assert len(recorder.requests) == 2
    assert len(set(recorder.idempotency_keys)) == 1
    for request, body in zip(recorder.requests, recorder.bodies, strict=True):
        assert _multipart_parts(request, body)["file"] == content
    assert uploaded.path == "/workspace/data.bin"


class StreamingTransport(httpx.AsyncBaseTransport):
    """Consumes the request body chunk by chunk, as a server would, and records the chunk sizes."""

    def __init__(self, status: int = 201, body: object = None, content: bytes | None = None, headers=None) -> None:
        self.status, self.body, self.content, self.headers = status, body, content, headers or {}
        self.chunk_sizes: list[int] = []
        self.total = 0
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        async for chunk in request.stream:
            self.chunk_sizes.append(len(chunk))
            self.total += len(chunk)
        if self.content is not None:
            return httpx.Response(self.status, content=self.content, headers=self.headers)
        return httpx.Response(self.status, json=self.body, headers=self.headers)


def _client(transport: httpx.AsyncBaseTransport, **options) -> DuvoClient:
    return DuvoClient("https://api.example.test", API_KEY, budget=RateBudget(), transport=transport, **options)


async def test_upload_file_streams_from_disk_in_chunks(tmp_path):
    source = tmp_path / "big.bin"
    size = 6 * 1024 * 1024
    source.write_bytes(b"x" * size)
    transport = StreamingTransport(body={"path": "/workspace/big.bin", "size_bytes": size})
    async with _client(transport) as client:
        uploaded = await client.upload_file("sb-1", "/workspace/big.bin", source)
    assert uploaded.size_bytes == size
    assert transport.total > size
    assert int(transport.requests[0].headers["content-length"]) == transport.total
    assert max(transport.chunk_sizes) <= 1024 * 1024, "the file went out in one piece instead of streamed"


async def test_upload_file_over_10_mb_is_refused_without_a_request(tmp_path):
    source = tmp_path / "huge.bin"
    with source.open("wb") as handle:
        handle.truncate(DIRECT_UPLOAD_LIMIT + 1)
    recorder = Recorder([json_response(201, {})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.TooLargeError) as caught:
            await client.upload_file("sb-1", "/workspace/huge.bin", source)
        assert client.budget.snapshot().used == 0
    assert "presigned" in str(caught.value)
    assert recorder.requests == []


async def test_upload_of_a_file_of_exactly_10_mb_is_sent(tmp_path):
    source = tmp_path / "edge.bin"
    with source.open("wb") as handle:
        handle.truncate(DIRECT_UPLOAD_LIMIT)
    transport = StreamingTransport(body={"path": "/workspace/edge.bin", "size_bytes": DIRECT_UPLOAD_LIMIT})
    async with _client(transport) as client:
        uploaded = await client.upload_file("sb-1", "/workspace/edge.bin", source)
    assert uploaded.size_bytes == DIRECT_UPLOAD_LIMIT


@pytest.mark.parametrize("kind", ["missing", "directory"])
async def test_upload_of_an_unreadable_source_raises_local_file_error(tmp_path, kind):
    source = tmp_path / "nothing.txt" if kind == "missing" else tmp_path
    recorder = Recorder([json_response(201, {})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.LocalFileError):
            await client.upload_file("sb-1", "/workspace/x", source)
        with pytest.raises(errors.LocalFileError):
            await client.put_presigned("https://store.test/put", source)
    assert recorder.requests == []


async def test_server_413_for_a_direct_upload_raises_too_large():
    recorder = Recorder([json_response(413, {"error": "file_too_large", "message": "max 10 MB"})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.TooLargeError):
            await client.upload_file("sb-1", "/workspace/a", b"abc")
    assert len(recorder.requests) == 1


# --------------------------------------------------------------------------- presigned PUT


async def test_put_presigned_streams_the_file_without_auth_or_budget(tmp_path):
    source = tmp_path / "video.bin"
    content = b"0123456789abcdef" * 100_000  # 1.6 MB
    source.write_bytes(content)
    transport = StreamingTransport(status=200, content=b"")
    progress: list[int] = []
    async with _client(transport) as client:
        await client.put_presigned(
            "https://storage.example.test/bucket/k?X-Sig=abc", source, on_progress=progress.append
        )
        assert client.budget.snapshot().used == 0
    request = transport.requests[0]
    assert request.method == "PUT"
    assert str(request.url) == "https://storage.example.test/bucket/k?X-Sig=abc"
    assert "authorization" not in request.headers
    assert "idempotency-key" not in request.headers
    assert request.headers["content-length"] == str(len(content))
    assert "transfer-encoding" not in request.headers
    assert transport.total == len(content)
    assert max(transport.chunk_sizes) < len(content)
    assert progress == sorted(progress) and progress[-1] == len(content) and len(progress) > 1


async def test_put_presigned_retries_transient_failures_from_the_start(tmp_path):
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc" * 1000)
    recorder = Recorder([httpx.Response(500), httpx.ConnectError("reset"), httpx.Response(200)])
    async with make_client(recorder) as client:
        await client.put_presigned("https://store.test/put?sig=1", source)
    assert len(recorder.requests) == 3
    assert recorder.bodies[-1] == b"abc" * 1000


async def test_put_presigned_to_an_expired_url_raises_upload_url_expired(tmp_path):
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc")
    s3_body = b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
    recorder = Recorder([httpx.Response(403, content=s3_body, headers={"content-type": "application/xml"})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.UploadUrlExpired) as caught:
            await client.put_presigned("https://store.test/put?sig=secret-signature", source)
    assert isinstance(caught.value, errors.ForbiddenError)
    assert "secret-signature" not in str(caught.value)
    assert len(recorder.requests) == 1


async def test_put_presigned_forbidden_for_another_reason_is_a_plain_forbidden_error(tmp_path):
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc")
    recorder = Recorder([json_response(403, {"error": "signature_mismatch"})])
    async with make_client(recorder) as client:
        with pytest.raises(errors.ForbiddenError) as caught:
            await client.put_presigned("https://store.test/put", source)
    assert not isinstance(caught.value, errors.UploadUrlExpired)


async def test_put_presigned_network_errors_do_not_leak_the_signature(tmp_path):
    source = tmp_path / "a.bin"
    source.write_bytes(b"abc")
    recorder = Recorder([httpx.ConnectError("refused for https://store.test/put?sig=topsecret")])
    async with make_client(recorder, max_retries=1) as client:
        with pytest.raises(errors.NetworkError) as caught:
            await client.put_presigned("https://store.test/put?sig=topsecret", source)
    assert "topsecret" not in str(caught.value)
    assert "https://store.test/put" in str(caught.value)


async def test_put_presigned_notices_a_file_that_shrank_while_uploading(tmp_path):
    source = tmp_path / "a.bin"
    source.write_bytes(b"x" * 1000)

    class Shrinker(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            source.write_bytes(b"x" * 10)
            async for _ in request.stream:
                pass
            return httpx.Response(200)

    async with _client(Shrinker()) as client:
        with pytest.raises(errors.LocalFileError):
            await client.put_presigned("https://store.test/put", Path(source))


MUTATIONS = {
    "start_run": lambda c: c.start_run("agent-1"),
    "post_message": lambda c: c.post_message("run-1", "hi"),
    "respond": lambda c: c.respond("run-1", "hr-1", approved=True),
    "stop_run": lambda c: c.stop_run("run-1"),
    "create_sandbox": lambda c: c.create_sandbox(),
    "create_upload_url": lambda c: c.create_upload_url("sb-1", "/workspace/a"),
    "upload_file": lambda c: c.upload_file("sb-1", "/workspace/a", b"a"),
}
ANY_SUCCESS = {
    "run": RUN,
    "message": {"id": "m1"},
    "human_request": {"id": "hr-1"},
    "success": True,
    "sandbox_id": "sb-1",
    "upload_url": "https://store.test/put",
    "path": "/workspace/a",
}


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_every_mutation_carries_a_fresh_uuid4_idempotency_key(name):
    recorder = Recorder([json_response(200, ANY_SUCCESS)])
    async with make_client(recorder) as client:
        await MUTATIONS[name](client)
        await MUTATIONS[name](client)
    first, second = recorder.idempotency_keys
    assert uuid.UUID(first).version == 4 and uuid.UUID(second).version == 4
    assert first != second
    assert all(r.method == "POST" for r in recorder.requests)
