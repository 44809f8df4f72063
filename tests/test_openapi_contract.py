"""The client against ../shared/duvo-api/openapi-v1.json: what it sends validates, what the schema allows parses.

The validator shared with the emulator tests (tests/test_emulator_schema.py) covers the subset of JSON
Schema the document uses (type, nullable, enum, required, properties, additionalProperties, items,
minLength, minimum, maximum, formats). Sample
responses are built from the response schemas (every property filled, or only the required ones with
nulls where allowed) and served to the real client through httpx.MockTransport.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from duvo_tui.api import errors
from tests.test_client_support import Recorder, make_client
from tests.test_emulator_schema import errors_in as validate

SPEC_PATH = Path(__file__).resolve().parents[1].parent / "shared" / "duvo-api" / "openapi-v1.json"

if not SPEC_PATH.exists():
    print(f"\nskipping the OpenAPI contract tests: {SPEC_PATH} is absent")
    pytest.skip(f"OpenAPI document not found at {SPEC_PATH}", allow_module_level=True)

SPEC: dict[str, Any] = json.loads(SPEC_PATH.read_text())

RUN_ID = str(uuid.uuid4())
AGENT_ID = str(uuid.uuid4())
REQUEST_ID = str(uuid.uuid4())
SANDBOX_ID = "sb-contract"
TEAM_ID = str(uuid.uuid4())
USER_ID = str(uuid.uuid4())
QUEUE_ID = str(uuid.uuid4())
DIGEST_ID = str(uuid.uuid4())


# ----------------------------------------------------------------- the validator is shared with the emulator tests


def test_the_validator_rejects_what_it_should():
    schema = {
        "type": "object",
        "properties": {"id": {"type": "string", "format": "uuid"}, "n": {"type": "integer", "minimum": 1}},
        "required": ["id"],
        "additionalProperties": False,
    }
    assert validate(schema, {"id": str(uuid.uuid4()), "n": 2}) == []
    assert validate(schema, {"n": 2})  # missing id
    assert validate(schema, {"id": "nope"})  # not a uuid
    assert validate(schema, {"id": str(uuid.uuid4()), "n": 0})  # below minimum
    assert validate(schema, {"id": str(uuid.uuid4()), "x": 1})  # extra property
    assert validate(schema, {"id": str(uuid.uuid4()), "n": True})  # bool is not an integer
    assert validate(schema, None)  # not nullable


# --------------------------------------------------------------------------- samples from the schema


def sample(schema: dict[str, Any], *, full: bool, name: str = "") -> Any:
    """A value that conforms to ``schema``: every property (``full``) or only the required ones, nulls allowed."""
    if not full and schema.get("nullable"):
        return None
    if "enum" in schema:
        return schema["enum"][-1] if full else schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        value = {key: sample(sub, full=full, name=key) for key, sub in properties.items() if full or key in required}
        if full and isinstance(schema.get("additionalProperties"), dict):
            value["extra_key"] = sample(schema["additionalProperties"], full=full, name="extra_key")
        return value
    if kind == "array":
        return [sample(schema.get("items", {}), full=full, name=name)] * (2 if full else 1)
    if kind == "string":
        if schema.get("format") == "uuid":
            return str(uuid.uuid4())
        if schema.get("format") == "uri":
            return "https://example.test/x"
        if schema.get("format") == "date-time" or name.endswith("_at") or name in {"timestamp", "postponed_to"}:
            return "2026-11-29T03:04:05.678Z"
        return f"{name or 'text'}-value" + "x" * max(0, schema.get("minLength", 0))
    if kind == "boolean":
        return True
    if kind == "integer":
        return int(schema.get("minimum", 0)) + 3
    if kind == "number":
        return float(schema.get("minimum", 0)) + 3.0
    return {"anything": [1, "two", None]}  # no type: any JSON value


def operation(method: str, template: str) -> dict[str, Any]:
    return SPEC["paths"][template][method.lower()]


def response_schema(method: str, template: str, status: str) -> dict[str, Any]:
    return operation(method, template)["responses"][status]["content"]["application/json"]["schema"]


# Every endpoint the client uses: (method, template, success status, client call, check of the parsed result).
def _check_run(result, body):
    assert result.id == body["run"]["id"] and result.status == body["run"]["status"]


def _check_detail(result, body):
    if body["run"] is None:
        assert result.run is None
    else:
        assert result.run.id == body["run"]["id"]
        assert result.run.created_at is not None
    pending = body.get("pending_human_request")
    if pending is None:
        assert result.pending_human_request is None
    else:
        assert result.pending_human_request.id == pending["id"]
        assert result.pending_human_request.type == pending["type"]
        assert len(result.pending_human_request.questions) == len(pending.get("questions", []))


def _check_page(result, body):
    assert len(result.messages) == len(body["messages"])
    assert [m.id for m in result.messages] == [m["id"] for m in body["messages"]]
    # A total below offset + page length is corrected upwards, never trusted to skip messages.
    assert result.total == max(int(body["total"]), int(body["offset"]) + len(body["messages"]))
    assert result.offset == int(body["offset"])


def _check_message(result, body):
    assert result.id == body["message"]["id"]


def _check_answer(result, body):
    assert result.id == body["human_request"]["id"]


def _check_stop(result, body):
    assert result.success is body["success"]


def _check_sandbox(result, body):
    assert result.sandbox_id == body["sandbox_id"] and result.expires_at is not None


def _check_upload_url(result, body):
    assert result.upload_url == body["upload_url"] and result.path == body["path"]


def _check_files(result, body):
    assert [f.path for f in result] == [f["path"] for f in body["files"]]


def _check_uploaded(result, body):
    assert result.path == body["path"] and result.size_bytes == body["size_bytes"]


def _check_team(result, body):
    assert [r.id for r in result.runs] == [r["id"] for r in body["data"]]
    assert all(r.title for r in result.runs) and result.total >= len(body["data"])


def _check_runs(result, body):
    assert [r.id for r in result.runs] == [r["id"] for r in body["data"]]
    assert result.total >= len(body["data"])
    for run, row in zip(result.runs, body["data"], strict=True):
        assert run.title == row["title"] and run.agent_name == row["agent_name"]
        assert run.agent_id == row["agent_id"] and run.status == row["status"]
        assert run.user_id == row["user_id"]
        assert run.run_number == int(row["run_number"])


def _check_agents(result, body):
    assert [a.id for a in result.agents] == [a["id"] for a in body["agents"]]
    assert [a.name for a in result.agents] == [a["name"].strip() for a in body["agents"]]
    assert result.total >= len(body["agents"])


def _check_agent(result, body):
    assert result.id == body["agent"]["id"] and result.name == body["agent"]["name"].strip()


def _check_profile(result, body):
    profile = body["profile"]
    assert result.id == profile["id"] and result.email == profile["email"]
    assert result.team_id == profile["teamId"] and result.name == profile["name"]
    assert result.label == (profile["name"] or profile["email"])


ENDPOINTS = [
    ("POST", "/v1/runs", "201", lambda c: c.start_run(AGENT_ID, message="go"), _check_run),
    ("GET", "/v1/runs/{run_id}", "200", lambda c: c.get_run(RUN_ID), _check_detail),
    ("GET", "/v1/runs/{run_id}/messages", "200", lambda c: c.list_messages(RUN_ID), _check_page),
    ("POST", "/v1/runs/{run_id}/messages", "201", lambda c: c.post_message(RUN_ID, "hi"), _check_message),
    (
        "POST",
        "/v1/runs/{run_id}/human-requests/{request_id}/respond",
        "200",
        lambda c: c.respond(RUN_ID, REQUEST_ID, approved=True),
        _check_answer,
    ),
    ("POST", "/v1/runs/{run_id}/stop", "200", lambda c: c.stop_run(RUN_ID), _check_stop),
    ("POST", "/v1/sandboxes", "201", lambda c: c.create_sandbox(), _check_sandbox),
    (
        "POST",
        "/v1/sandboxes/{sandbox_id}/upload-urls",
        "200",
        lambda c: c.create_upload_url(SANDBOX_ID, "/workspace/a.csv"),
        _check_upload_url,
    ),
    ("GET", "/v1/sandboxes/{sandbox_id}/files", "200", lambda c: c.list_files(SANDBOX_ID), _check_files),
    (
        "POST",
        "/v1/sandboxes/{sandbox_id}/files",
        "201",
        lambda c: c.upload_file(SANDBOX_ID, "/workspace/a.txt", b"abc"),
        _check_uploaded,
    ),
    ("GET", "/v2/teams/{teamId}/runs", "200", lambda c: c.list_team_runs(TEAM_ID), _check_team),
    (
        "GET",
        "/v1/runs",
        "200",
        lambda c: c.list_runs(
            limit=50,
            offset=3,
            status="waiting",
            agent_id=AGENT_ID,
            user_id=USER_ID,
            case_queue_id=QUEUE_ID,
            source="schedule",
            search="ledger",
            since=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
            has_issues=True,
            issue_severity="critical",
            digest_id=DIGEST_ID,
            sort_order="asc",
        ),
        _check_runs,
    ),
    ("GET", "/v1/agents", "200", lambda c: c.list_agents(limit=30, offset=2), _check_agents),
    ("GET", "/v1/agents/{agent_id}", "200", lambda c: c.get_agent(AGENT_ID), _check_agent),
    ("GET", "/v1/profile", "200", lambda c: c.get_profile(), _check_profile),
]
IDS = [f"{m} {t}" for m, t, *_ in ENDPOINTS]


def test_every_operation_in_the_document_is_covered():
    documented = {(m.upper(), p) for p, ops in SPEC["paths"].items() for m in ops if m in {"get", "post", "put"}}
    assert documented == {(m, t) for m, t, *_ in ENDPOINTS}


def _path_matches(template: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
    return re.match(pattern, path) is not None


@pytest.mark.parametrize("full", [True, False], ids=["every-field", "required-only"])
@pytest.mark.parametrize(("method", "template", "status", "call", "check"), ENDPOINTS, ids=IDS)
async def test_schema_samples_parse_into_models(method, template, status, call, check, full):
    schema = response_schema(method, template, status)
    body = sample(schema, full=full)
    assert validate(schema, body) == [], "the sample generator must produce valid bodies"
    recorder = Recorder([httpx.Response(int(status), json=body)])
    async with make_client(recorder) as client:
        result = await call(client)
    request = recorder.requests[0]
    assert request.method == method and _path_matches(template, request.url.path)
    check(result, body)


@pytest.mark.parametrize(("method", "template", "status", "call", "check"), ENDPOINTS, ids=IDS)
async def test_request_bodies_and_query_parameters_validate(method, template, status, call, check):
    schema = response_schema(method, template, status)
    recorder = Recorder([httpx.Response(int(status), json=sample(schema, full=True))])
    async with make_client(recorder) as client:
        await call(client)
    request = recorder.requests[0]
    spec = operation(method, template)
    body_schema = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if body_schema is not None:
        assert request.headers["content-type"] == "application/json"
        assert validate(body_schema, json.loads(recorder.bodies[0])) == []
    elif request.headers.get("content-type", "").startswith("multipart/"):
        assert b'name="file"' in recorder.bodies[0] and b'name="path"' in recorder.bodies[0]
    else:
        assert recorder.bodies[0] == b""
    parameters = {p["name"]: p for p in spec.get("parameters", []) if p["in"] == "query"}
    for name, raw in request.url.params.multi_items():
        assert name in parameters, f"{name} is not a documented query parameter"
        param_schema = parameters[name]["schema"]
        value: Any = raw
        if param_schema.get("type") in {"integer", "number"}:
            value = float(raw) if "." in raw else int(raw)
        assert validate(param_schema, value, name) == []


REQUEST_VARIANTS = [
    ("/v1/runs", lambda c: c.start_run(AGENT_ID)),
    (
        "/v1/runs",
        lambda c: c.start_run(AGENT_ID, message="m", sandbox_id="sb-1", webhook_url="https://hooks.example.test/duvo"),
    ),
    ("/v1/runs/{run_id}/human-requests/{request_id}/respond", lambda c: c.respond(RUN_ID, REQUEST_ID, approved=False)),
    (
        "/v1/runs/{run_id}/human-requests/{request_id}/respond",
        lambda c: c.respond(RUN_ID, REQUEST_ID, answers={"Which?": "a, b", "Why": "because"}),
    ),
]


@pytest.mark.parametrize(("template", "call"), REQUEST_VARIANTS)
async def test_every_shape_of_request_body_validates(template, call):
    recorder = Recorder([httpx.Response(200, json={"run": {"id": RUN_ID}, "human_request": {"id": REQUEST_ID}})])
    async with make_client(recorder) as client:
        await call(client)
    body_schema = operation("POST", template)["requestBody"]["content"]["application/json"]["schema"]
    assert validate(body_schema, json.loads(recorder.bodies[0])) == []


@pytest.mark.parametrize(("limit", "offset"), [(0, -5), (51, 0), (10_000, 3)])
async def test_clamped_paging_stays_inside_the_documented_ranges(limit, offset):
    recorder = Recorder([httpx.Response(200, json={"messages": [], "data": [], "agents": [], "total": 0})])
    async with make_client(recorder) as client:
        await client.list_messages(RUN_ID, limit=limit, offset=offset)
        await client.list_team_runs(TEAM_ID, limit=limit, offset=offset)
        await client.list_runs(limit=limit, offset=offset)
        await client.list_agents(limit=limit, offset=offset)
    templates = ["/v1/runs/{run_id}/messages", "/v2/teams/{teamId}/runs", "/v1/runs", "/v1/agents"]
    for request, template in zip(recorder.requests, templates, strict=True):
        parameters = {p["name"]: p["schema"] for p in operation("GET", template)["parameters"]}
        for name in ("limit", "offset"):
            assert validate(parameters[name], int(request.url.params[name]), name) == []


ERROR_CASES = [
    (m, t, s) for m, t, *_ in ENDPOINTS for s in operation(m, t)["responses"] if s.isdigit() and int(s) >= 400
]


@pytest.mark.parametrize(("method", "template", "status"), ERROR_CASES)
async def test_documented_error_bodies_become_errors_with_their_code(method, template, status):
    call = next(c for m, t, _s, c, _k in ENDPOINTS if (m, t) == (method, template))
    for full in (True, False):
        body = sample(response_schema(method, template, status), full=full)
        recorder = Recorder([httpx.Response(int(status), json=body)])
        async with make_client(recorder, max_retries=0) as client:
            with pytest.raises(errors.DuvoError) as caught:
                await call(client)
        assert caught.value.status == int(status)
        assert caught.value.code == body["error"]
