"""A small OpenAPI-3.0 response validator for the emulator tests, and tests that it really rejects things.

Other emulator tests import ``SCHEMA_PATH``, ``load_spec``, ``check_response`` and ``RecordingTransport``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

SCHEMA_PATH = Path(__file__).resolve().parents[1] / ".." / "shared" / "duvo-api" / "openapi-v1.json"

_spec_cache: dict[str, Any] = {}


def load_spec() -> dict[str, Any]:
    """The OpenAPI document, or skip the calling test when it is not beside the repository."""
    if not SCHEMA_PATH.exists():
        pytest.skip(f"{SCHEMA_PATH} is absent: response shapes cannot be checked")
    if "spec" not in _spec_cache:
        _spec_cache["spec"] = json.loads(SCHEMA_PATH.read_text())
    return _spec_cache["spec"]


def errors_in(schema: dict[str, Any], value: Any, where: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (the subset of JSON Schema the Duvo spec uses)."""
    if value is None:
        # A schema without a type (e.g. a tool result) takes any value, null included.
        return [] if schema.get("nullable") or "type" not in schema else [f"{where}: null where not nullable"]
    found: list[str] = []
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    }
    if kind and not checks[kind](value):
        return [f"{where}: expected {kind}, got {type(value).__name__}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{where}: shorter than {schema['minLength']}")
        found += _format_errors(schema.get("format"), value, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{where}: below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{where}: above {schema['maximum']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{where}: missing required {name!r}")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                found += errors_in(properties[name], item, f"{where}.{name}")
            elif extra is False:
                found.append(f"{where}: unexpected field {name!r}")
            elif isinstance(extra, dict):
                found += errors_in(extra, item, f"{where}.{name}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += errors_in(schema["items"], item, f"{where}[{index}]")
    return found


def _format_errors(fmt: str | None, value: str, where: str) -> list[str]:
    try:
        if fmt == "uuid":
            uuid.UUID(value)
        elif fmt == "date-time":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif fmt == "uri" and not re.match(r"^[a-z][a-z0-9+.-]*://\S+$", value):
            raise ValueError(value)
    except ValueError:
        return [f"{where}: {value!r} is not a {fmt}"]
    return []


def _operation(spec: dict[str, Any], method: str, path: str) -> dict[str, Any] | None:
    for template, operations in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in operations:
            return operations[method.lower()]
    return None


ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    "required": ["error"],
    "additionalProperties": False,
}


def check_response(method: str, path: str, status: int, body: Any) -> None:
    """Assert that ``body`` is what the spec says ``method path`` answers with ``status``."""
    spec = load_spec()
    operation = _operation(spec, method, path)
    assert operation is not None, f"{method} {path} is not in the spec"
    response = operation["responses"].get(str(status))
    if response is None:
        assert status >= 400, f"{method} {path}: success status {status} is not in the spec"
        schema = ERROR_SCHEMA  # statuses the spec does not list (409, 413, 422, 429) use the error envelope
    else:
        schema = response["content"]["application/json"]["schema"]
    problems = errors_in(schema, body)
    assert not problems, f"{method} {path} -> {status}: " + "; ".join(problems)


class RecordingTransport(httpx.AsyncHTTPTransport):
    """The real network transport, keeping (method, path, status, JSON body) of every API answer.

    With ``validate=True`` each answer is also checked against the spec as it arrives (when the spec is
    present), so every test that drives the emulator through it checks response shapes too.
    """

    def __init__(self, validate: bool = False) -> None:
        super().__init__()
        self.exchanges: list[tuple[str, str, int, Any]] = []
        self.validate = validate and SCHEMA_PATH.exists()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        if not request.url.path.startswith("/upload/"):
            body = json.loads(content) if content else None
            self.exchanges.append((request.method, request.url.path, response.status_code, body))
            if self.validate:
                check_response(request.method, request.url.path, response.status_code, body)
        return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)

    def check_all(self) -> int:
        """Validate every recorded answer against the spec; returns how many were checked."""
        for method, path, status, body in self.exchanges:
            check_response(method, path, status, body)
        return len(self.exchanges)


# --- the validator itself must be able to fail -----------------------------------------------------


def test_validator_rejects_extra_fields_missing_fields_and_wrong_types():
    load_spec()
    good = {"sandbox_id": "sbx_1", "expires_at": "2026-01-01T00:00:00Z"}
    check_response("POST", "/v1/sandboxes", 201, good)
    with pytest.raises(AssertionError, match="unexpected field 'extra'"):
        check_response("POST", "/v1/sandboxes", 201, {**good, "extra": 1})
    with pytest.raises(AssertionError, match="missing required 'expires_at'"):
        check_response("POST", "/v1/sandboxes", 201, {"sandbox_id": "sbx_1"})
    with pytest.raises(AssertionError, match="expected string"):
        check_response("POST", "/v1/sandboxes", 201, {"sandbox_id": 5, "expires_at": "x"})


def test_validator_checks_nested_nullable_enum_and_formats():
    load_spec()
    with pytest.raises(AssertionError, match="not a uuid"):
        check_response("GET", "/v1/runs/x", 200, {"run": {"id": "nope"}})
    with pytest.raises(AssertionError, match="not in"):
        check_response(
            "GET",
            "/v1/sandboxes/s/files",
            200,
            {"files": [{"name": "a", "path": "/a", "type": "link", "size_bytes": 0}]},
        )
    check_response("GET", "/v1/runs/x", 200, {"run": None})
    with pytest.raises(AssertionError, match="null where not nullable"):
        check_response("GET", "/v1/sandboxes/s/files", 200, {"files": None})


def test_validator_uses_the_error_envelope_for_unlisted_statuses():
    load_spec()
    check_response("POST", "/v1/runs/x/human-requests/y/respond", 409, {"error": "conflict", "message": "m"})
    with pytest.raises(AssertionError):
        check_response("POST", "/v1/runs/x/human-requests/y/respond", 409, {"detail": "conflict"})
    with pytest.raises(AssertionError, match="success status 204"):
        check_response("POST", "/v1/runs", 204, None)
