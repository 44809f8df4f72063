"""No JSON value a server can send makes a model parser raise (property tests with Hypothesis)."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duvo_tui.api.account import Agent, AgentPage, Profile
from duvo_tui.api.models import (
    HumanRequest,
    HumanRequestResult,
    Message,
    MessagePage,
    Question,
    Run,
    RunDetail,
    RunPage,
    Sandbox,
    SandboxFile,
    StopResult,
    TeamRunPage,
    ToolCall,
    ToolResult,
    UploadedFile,
    UploadUrl,
    parse_timestamp,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["", "2026-11-29T01:02:03Z", "2026-13-45", "running", "waiting", "approval", "question"])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)

RUN_FIELDS = [
    "id",
    "agent_id",
    "status",
    "build_id",
    "source",
    "sandbox_id",
    "created_at",
    "updated_at",
    "started_at",
    "completed_at",
    "human_in_the_loop_enabled",
    "title",
    "agent_name",
]
REQUEST_FIELDS = ["id", "run_id", "title", "description", "type", "created_at", "questions"]
MESSAGE_FIELDS = ["id", "type", "role", "timestamp", "text_content", "tool_call", "tool_result"]


def objects_with(fields: list[str]) -> st.SearchStrategy[dict]:
    """Objects that use the model's own field names with any values, plus unknown fields."""
    return st.dictionaries(st.sampled_from([*fields, "unknown_field"]), json_values, max_size=6)


PARSERS = [
    Run.from_json,
    RunDetail.from_json,
    HumanRequest.from_json,
    Question.from_json,
    Message.from_json,
    MessagePage.from_json,
    ToolCall.from_json,
    ToolResult.from_json,
    HumanRequestResult.from_json,
    StopResult.from_json,
    Sandbox.from_json,
    SandboxFile.from_json,
    SandboxFile.list_from_json,
    UploadUrl.from_json,
    UploadedFile.from_json,
    TeamRunPage.from_json,
    RunPage.from_json,
    Agent.from_json,
    Agent.from_detail,
    AgentPage.from_json,
    Profile.from_json,
    parse_timestamp,
]

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(json_values)
def test_no_parser_raises_on_any_json_value(value):
    for parse in PARSERS:
        parse(value)


@FAST
@given(objects_with(RUN_FIELDS), objects_with(REQUEST_FIELDS))
def test_run_detail_with_any_field_values(run, request):
    detail = RunDetail.from_json({"run": run, "pending_human_request": request})
    if detail.run is not None:
        assert isinstance(detail.run.status, str) and detail.run.status
        assert isinstance(detail.run.id, str) and detail.run.id
    if detail.pending_human_request is not None:
        assert all(q.question for q in detail.pending_human_request.questions)


@FAST
@given(st.lists(objects_with(MESSAGE_FIELDS), max_size=3), json_values, json_values)
def test_message_page_with_any_messages(messages, total, offset):
    page = MessagePage.from_json({"messages": messages, "total": total, "offset": offset, "limit": 50})
    assert page.offset >= 0
    assert page.total >= page.offset + len(page.messages)
    for message in page.messages:
        assert isinstance(message.role, str)


@FAST
@given(st.lists(objects_with(RUN_FIELDS), max_size=3), json_values)
def test_team_run_page_with_any_rows(rows, total):
    page = TeamRunPage.from_json({"data": rows, "total": total})
    assert page.total >= len(page.runs)


def test_deeply_nested_tool_arguments_do_not_raise():
    deep = "[" * 50_000 + "]" * 50_000
    call = ToolCall.from_json({"id": "t", "name": "x", "arguments": deep})
    assert call is not None and call.arguments == {"_raw": deep}


def test_odd_but_common_shapes():
    assert Run.from_json({"id": 42, "status": None}) == Run(id="42", status="unknown")
    assert (
        Question.from_json({"question": "Pick", "options": ["a", {"label": "b"}, {"nolabel": 1}, 3]}).options[1].label
        == "b"
    )
    assert parse_timestamp("2026-11-29T01:02:03+25:00") is None
    assert parse_timestamp(1732842123) is None
    assert UploadUrl.from_json({"upload_url": "u", "expires_in_seconds": float("inf")}).expires_in_seconds == 0.0
    assert SandboxFile.from_json({"path": "/workspace/a/b.txt"}).name == "b.txt"
    assert json.loads(json.dumps(ToolResult.from_json({"tool_call_id": "c", "result": {"x": [1]}}).result)) == {
        "x": [1]
    }


AGENT_FIELDS = ["id", "name", "last_run_at", "pinned_at", "latest_build", "created_by", "folder_id", "team_id"]
PROFILE_FIELDS = ["id", "name", "email", "teamId"]


@FAST
@given(st.lists(objects_with(AGENT_FIELDS), max_size=3), objects_with(PROFILE_FIELDS), json_values)
def test_agents_and_profiles_with_any_field_values(agents, profile, total):
    page = AgentPage.from_json({"agents": agents, "total": total})
    assert page.total >= len(page.agents)
    assert all(isinstance(a.id, str) and a.id and isinstance(a.label, str) and a.label for a in page.agents)
    parsed = Profile.from_json({"profile": profile})
    if parsed is not None:
        assert isinstance(parsed.label, str) and parsed.label
