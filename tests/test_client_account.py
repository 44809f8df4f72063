"""The run listing without a team id, the Assignments and the caller: what the client sends and how it reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from duvo_tui.api import errors
from duvo_tui.api.account import Agent, AgentPage, Profile
from duvo_tui.api.models import RunPage
from tests.test_client_support import Recorder, json_response, make_client

ROW = {
    "id": "run-1",
    "agent_id": "agent-1",
    "status": "completed",
    "title": "Reconcile October invoices",
    "run_number": 42,
    "agent_name": "Invoice reconciliation",
    "user_id": "user-1",
}


async def test_list_runs_without_filters_sends_paging_and_order_only():
    recorder = Recorder([json_response(200, {"data": [ROW], "total": 9})])
    async with make_client(recorder) as client:
        page = await client.list_runs()
    request = recorder.requests[0]
    assert request.method == "GET" and request.url.path == "/v1/runs"
    assert dict(request.url.params) == {"limit": "100", "offset": "0", "sort_by": "created_at", "sort_order": "desc"}
    (run,) = page.runs
    assert (run.title, run.run_number, run.agent_name, run.user_id) == (
        "Reconcile October invoices",
        42,
        "Invoice reconciliation",
        "user-1",
    )
    assert page.total == 9


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"limit": 0, "offset": -4}, {"limit": "1", "offset": "0"}),
        ({"limit": 500}, {"limit": "100", "offset": "0"}),
        ({"since": datetime(2026, 11, 29, 8, 30)}, {"since": "2026-11-29T08:30:00Z"}),
        (
            {"since": datetime(2026, 11, 29, 9, 30, tzinfo=timezone(timedelta(hours=1)))},
            {"since": "2026-11-29T08:30:00Z"},
        ),
        ({"since": "2026-11-29T08:30:00Z"}, {"since": "2026-11-29T08:30:00Z"}),
        ({"has_issues": False}, {"has_issues": "false"}),
        ({"status": "", "search": None, "sort_order": "sideways"}, {"sort_order": "desc"}),
    ],
)
async def test_list_runs_filters_are_sent_as_documented(options, expected):
    recorder = Recorder([json_response(200, {"data": [], "total": 0})])
    async with make_client(recorder) as client:
        await client.list_runs(**options)
    sent = dict(recorder.requests[0].url.params)
    for name, value in expected.items():
        assert sent[name] == value
    # Empty filters are not sent at all: an empty status would be a 400.
    for name in ("status", "search"):
        if not options.get(name):
            assert name not in sent


@pytest.mark.parametrize(
    ("body", "ids", "total"),
    [
        ({"data": [ROW, {"id": ""}, None, "x", {"status": "running"}], "total": 1}, ["run-1"], 1),
        ({"data": [ROW], "total": -3}, ["run-1"], 1),
        ({"data": None}, [], 0),
        ([ROW], [], 0),
        (None, [], 0),
    ],
)
def test_run_pages_keep_what_they_can(body, ids, total):
    page = RunPage.from_json(body)
    assert [r.id for r in page.runs] == ids and page.total == total


@pytest.mark.parametrize(("value", "expected"), [(7, 7), (7.0, 7), ("12", 12), (0, None), (-2, None), (True, None)])
def test_run_number_is_a_positive_whole_number_or_nothing(value, expected):
    page = RunPage.from_json({"data": [dict(ROW, run_number=value)]})
    assert page.runs[0].run_number == expected


def _agent(n: int, **extra: object) -> dict[str, object]:
    return {"id": f"agent-{n}", "name": f"Assignment {n}", **extra}


async def test_list_all_agents_pages_until_the_total():
    recorder = Recorder(
        [
            json_response(200, {"agents": [_agent(n) for n in range(100)], "total": 130, "limit": 100, "offset": 0}),
            json_response(200, {"agents": [_agent(n) for n in range(100, 130)], "total": 130, "offset": 100}),
        ]
    )
    async with make_client(recorder) as client:
        agents = await client.list_all_agents()
    assert [a.id for a in agents] == [f"agent-{n}" for n in range(130)]
    assert [r.url.params["offset"] for r in recorder.requests] == ["0", "100"]
    assert all(r.url.path == "/v1/agents" and r.url.params["limit"] == "100" for r in recorder.requests)


async def test_list_all_agents_stops_on_an_empty_page_whatever_the_total_says():
    recorder = Recorder(
        [
            json_response(200, {"agents": [_agent(1)], "total": 5000}),
            json_response(200, {"agents": [], "total": 5000}),
        ]
    )
    async with make_client(recorder) as client:
        agents = await client.list_all_agents()
    assert [a.id for a in agents] == ["agent-1"] and len(recorder.requests) == 2


def test_agents_are_read_tolerantly():
    page = AgentPage.from_json(
        {
            "agents": [
                _agent(1, last_run_at="2026-11-29T08:00:00Z", latest_build={"id": "b1", "name": "v3"}),
                {"id": "agent-2", "name": None, "last_run_at": "yesterday", "latest_build": "odd"},
                {"name": "no id"},
                17,
            ],
            "total": "2",
        }
    )
    first, second = page.agents
    assert first.last_run_at == datetime(2026, 11, 29, 8, tzinfo=UTC) and first.build_name == "v3"
    assert second.name == "" and second.label == "agent-2"[:8] and second.last_run_at is None
    assert second.build_id is None and page.total == 2


async def test_get_agent_reads_the_agent_and_its_pin():
    body = {
        "agent": _agent(3, created_by={"id": "u", "name": None, "email": "ana@example.test"}),
        "user_context": {"pinned_at": "2026-11-01T00:00:00Z"},
    }
    recorder = Recorder([json_response(200, body)])
    async with make_client(recorder) as client:
        agent = await client.get_agent("agent-3")
    assert recorder.requests[0].url.path == "/v1/agents/agent-3"
    assert agent.name == "Assignment 3" and agent.pinned_at == datetime(2026, 11, 1, tzinfo=UTC)
    assert agent.created_by == "ana@example.test"


async def test_get_agent_of_an_unknown_id_is_not_found_and_an_empty_answer_is_unexpected():
    recorder = Recorder(
        [json_response(404, {"error": "not_found", "message": "Agent not found"}), json_response(200, {})]
    )
    async with make_client(recorder) as client:
        with pytest.raises(errors.NotFoundError, match="Agent not found"):
            await client.get_agent("nope")
        with pytest.raises(errors.UnexpectedResponseError):
            await client.get_agent("agent-1")


async def test_get_profile_names_the_person_and_the_team():
    body = {"profile": {"id": "user-1", "name": "Ana Novak", "email": "ana@example.test", "teamId": "team-1"}}
    recorder = Recorder([json_response(200, body)])
    async with make_client(recorder) as client:
        profile = await client.get_profile()
    assert recorder.requests[0].url.path == "/v1/profile"
    assert profile == Profile(id="user-1", name="Ana Novak", email="ana@example.test", team_id="team-1")
    assert profile.label == "Ana Novak"


@pytest.mark.parametrize(
    ("body", "label", "team"),
    [
        ({"profile": {"id": "u1", "name": "  ", "email": "bo@example.test", "teamId": None}}, "bo@example.test", None),
        ({"id": "u2", "email": "cy@example.test", "team_id": "t"}, "cy@example.test", "t"),
        ({"profile": {"id": "u3", "name": None, "email": None, "teamId": ""}}, "u3", None),
    ],
)
def test_profiles_are_read_tolerantly(body, label, team):
    profile = Profile.from_json(body)
    assert profile is not None and profile.label == label and profile.team_id == team


@pytest.mark.parametrize("body", [None, {}, {"profile": None}, {"profile": {"name": "x"}}, [1]])
async def test_a_profile_answer_without_a_person_is_unexpected(body):
    recorder = Recorder([json_response(200, body)])
    async with make_client(recorder) as client:
        with pytest.raises(errors.UnexpectedResponseError):
            await client.get_profile()


def test_an_agent_needs_an_id():
    assert Agent.from_json({"name": "x"}) is None and Agent.from_detail({"agent": None}) is None
