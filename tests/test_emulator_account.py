"""The emulator's run listing without a team id, its Assignments and profiles, and the scenarios that emit
``system``/``thinking`` messages and a login request: driven over a real socket, checked against the spec."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duvo_tui.api import errors
from duvo_tui.emulator.testing import running_emulator
from tests.test_emulator_api import client_for, raw, wait_for
from tests.test_emulator_schema import RecordingTransport, check_response

OTHER = "dv_other_team_key_0123456789abcdefgh"
ADMIN = "dv_superadmin_key_0123456789abcdefgh"


@pytest.fixture
def emu():
    keys = ["dv_first_key_0123456789abcdefghijklm", OTHER]
    with running_emulator(speed=50, login_wait=100_000, api_keys=keys, admin_keys=[ADMIN]) as handle:
        yield handle


def start_with_httpx(emu, key: str, agent: str, message: str | None = None) -> dict:
    """Start a run the way another program would: plain httpx, not duvo-tui."""
    body = {"agent_id": emu.agents[agent]} | ({"message": message} if message else {})
    response = httpx.post(f"{emu.base_url}/v1/runs", json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 201, response.text
    return response.json()["run"]


async def test_runs_started_by_another_program_are_listed_for_their_key_only(emu):
    mine = [start_with_httpx(emu, emu.api_key, "quick", f"check {n}") for n in range(3)]
    theirs = start_with_httpx(emu, OTHER, "quick", "not yours")
    async with client_for(emu) as client:
        page = await client.list_runs()
        profile = await client.get_profile()
    assert [r.id for r in page.runs] == [r["id"] for r in reversed(mine)] and page.total == 3
    assert theirs["id"] not in {r.id for r in page.runs}
    assert all(r.user_id == profile.id and r.agent_name == "Daily Health Check" for r in page.runs)
    assert [r.title for r in page.runs] == [f"check {n}" for n in (2, 1, 0)]
    assert all(r.run_number for r in page.runs)
    async with client_for(emu, OTHER) as other:
        assert [r.id for r in (await other.list_runs()).runs] == [theirs["id"]]


async def test_a_user_id_filter_does_not_widen_an_ordinary_keys_view(emu):
    start_with_httpx(emu, emu.api_key, "quick")
    async with client_for(emu, OTHER) as other:
        stranger = (await client_for(emu).get_profile()).id
        assert (await other.list_runs(user_id=stranger)).total == 0


async def test_an_admin_key_sees_every_run_and_can_narrow_to_one_person(emu):
    mine = start_with_httpx(emu, emu.api_key, "quick")
    theirs = start_with_httpx(emu, OTHER, "quick")
    async with client_for(emu, ADMIN) as admin, client_for(emu) as client:
        everything = await admin.list_runs()
        assert {r.id for r in everything.runs} == {mine["id"], theirs["id"]}
        me = await client.get_profile()
        narrowed = await admin.list_runs(user_id=me.id)
        assert [r.id for r in narrowed.runs] == [mine["id"]]
        assert (await admin.get_run(theirs["id"])).run.id == theirs["id"], "a listed run can be read"
        assert (await admin.get_profile()).name == "Sam Admin"


async def test_the_listing_filters_and_pages(emu):
    first = start_with_httpx(emu, emu.api_key, "quick", "alpha")
    second = start_with_httpx(emu, emu.api_key, "fails", "import the LEDGER")
    third = start_with_httpx(emu, emu.api_key, "quick", "gamma")
    async with client_for(emu) as client:
        await wait_for(client, second["id"], "failed")
        assert [r.id for r in (await client.list_runs(status="failed")).runs] == [second["id"]]
        by_agent = await client.list_runs(agent_id=emu.agents["quick"])
        assert [r.id for r in by_agent.runs] == [third["id"], first["id"]]
        assert [r.id for r in (await client.list_runs(search="ledger")).runs] == [second["id"]]
        oldest_first = await client.list_runs(sort_order="asc", limit=2, offset=1)
        assert [r.id for r in oldest_first.runs] == [second["id"], third["id"]] and oldest_first.total == 3
        assert (await client.list_runs(since=datetime.now(UTC) + timedelta(minutes=1))).total == 0
        assert (await client.list_runs(since=datetime.now(UTC) - timedelta(minutes=5))).total == 3
        assert (await client.list_runs(source="schedule")).total == 0
        assert (await client.list_runs(has_issues=True)).total == 0


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "offset=-1",
        "status=paused",
        "sort_order=sideways",
        "sort_by=title",
        "agent_id=nope",
        "user_id=nope",
        "since=yesterday",
        "has_issues=maybe",
        "issue_severity=huge",
    ],
)
def test_bad_listing_filters_are_400_in_the_error_envelope(emu, query):
    with raw(emu) as http:
        response = http.get(f"/v1/runs?{query}")
    assert response.status_code == 400
    check_response("GET", "/v1/runs", 400, response.json())


async def test_agents_page_with_realistic_names_and_unrelated_ids(emu):
    async with client_for(emu) as client:
        first = await client.list_agents(limit=3)
        rest = await client.list_agents(limit=3, offset=3)
        everything = await client.list_all_agents()
    assert first.total == rest.total == len(everything) == 7
    assert [a.id for a in first.agents + rest.agents] == [a.id for a in everything[:6]]
    names = [a.name for a in everything]
    assert names == sorted(names, key=str.lower) and "CRM Contact Sync" in names
    assert len({a.id[:8] for a in everything}) == 7
    assert all(a.build_id and a.build_id != a.id for a in everything)


async def test_an_agents_last_run_follows_the_runs_started(emu):
    async with client_for(emu) as client:
        before = await client.get_agent(emu.agents["quick"])
        listed = {a.id: a for a in await client.list_all_agents()}
        assert listed[emu.agents["quick"]].last_run_at is None and before.name == "Daily Health Check"
        start_with_httpx(emu, emu.api_key, "quick")
        listed = {a.id: a for a in await client.list_all_agents()}
        assert listed[emu.agents["quick"]].last_run_at is not None
        assert listed[emu.agents["approval"]].pinned_at is not None


async def test_unknown_and_malformed_agent_ids(emu):
    async with client_for(emu) as client:
        with pytest.raises(errors.NotFoundError):
            await client.get_agent("00000000-0000-4000-8000-000000000000")
    with raw(emu) as http:
        response = http.get("/v1/agents/not-a-uuid")
        assert response.status_code == 400
        check_response("GET", "/v1/agents/x", 400, response.json())
        assert http.get("/v1/agents?limit=500").status_code == 400


async def test_each_key_has_its_own_profile_and_a_wrong_key_has_none(emu):
    async with client_for(emu) as client, client_for(emu, OTHER) as other:
        mine, theirs = await client.get_profile(), await other.get_profile()
    assert mine.team_id == emu.team_id and mine.name == "Maya Chen" and mine.email.endswith("@northwind.example")
    assert theirs.id != mine.id and theirs.team_id == emu.team_of(OTHER)
    async with client_for(emu, "dv_wrong_key_0123456789abcdefghijklm") as wrong:
        with pytest.raises(errors.AuthError):
            await wrong.get_profile()


async def test_scenarios_emit_system_and_thinking_messages(emu):
    async with client_for(emu) as client:
        planning = await client.start_run(emu.agents["questions"])
        paying = await client.start_run(emu.agents["approval"])
        await wait_for(client, planning.id, "waiting")
        await wait_for(client, paying.id, "waiting")
        kinds = {
            run.id: [(m.type, m.role) for m in (await client.list_messages(run.id)).messages]
            for run in (planning, paying)
        }
    assert ("system", "system") in kinds[planning.id]
    assert ("thinking", "assistant") in kinds[paying.id]


async def test_a_login_request_waits_for_the_web_app_and_cannot_be_answered_here(emu):
    transport = RecordingTransport(validate=False)
    async with client_for(emu, transport=transport) as client:
        run = await client.start_run(emu.agents["login"], message="this week's sign-ups")
        detail = await wait_for(client, run.id, "waiting")
        request = detail.pending_human_request
        assert request.type == "login" and request.title == "Sign in to Salesforce" and request.description
        with pytest.raises(errors.ValidationError, match="web app"):
            await client.respond(run.id, request.id, approved=True)
        assert (await client.get_run(run.id)).run.status == "waiting", "a refused answer changes nothing"
        await asyncio.to_thread(emu.state.complete_login, run.id)
        await wait_for(client, run.id, "completed")
        texts = [m.text_content or "" for m in (await client.list_messages(run.id)).messages]
    assert any("Synced" in t for t in texts)
    # Every answer has the spec's shape, except the login type itself, which the schema does not list yet.
    for method, path, status, body in transport.exchanges:
        if isinstance(body, dict) and (body.get("pending_human_request") or {}).get("type") == "login":
            body = {**body, "pending_human_request": {**body["pending_human_request"], "type": "approval"}}
        check_response(method, path, status, body)


async def test_a_login_request_is_signed_in_by_itself_after_a_while():
    with running_emulator(speed=50, login_wait=100) as emu:
        async with client_for(emu, transport=RecordingTransport(validate=False)) as client:
            run = await client.start_run(emu.agents["login"])
            await wait_for(client, run.id, "waiting")
            await wait_for(client, run.id, "completed", within=30)


QUERY_NAMES = ["limit", "offset", "status", "agent_id", "user_id", "since", "sort_order", "sort_by", "search", "x"]
query_values = st.one_of(
    st.sampled_from(["", "0", "1", "100", "-1", "1e3", "running", "asc", "true", "2026-11-29T08:00:00Z"]),
    st.sampled_from(["00000000-0000-4000-8000-000000000000", "%00", "\u00e9", "[@click=app.quit]"]),
    st.text(max_size=12),
)


def test_any_query_on_the_new_paths_gets_a_documented_answer_never_a_5xx():
    documented = {"/v1/runs": {200, 400, 401}, "/v1/agents": {200, 400, 401}, "/v1/profile": {200, 401, 404}}

    with running_emulator(speed=50) as emu, raw(emu) as http:
        start_with_httpx(emu, emu.api_key, "quick", "something to list")

        @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(
            st.sampled_from(["/v1/runs", "/v1/agents", "/v1/profile", "/v1/agents/{id}"]),
            st.dictionaries(st.sampled_from(QUERY_NAMES), query_values, max_size=4),
            st.sampled_from([emu.agents["quick"], "nope", "00000000-0000-4000-8000-000000000000"]),
        )
        def check(path, query, agent):
            concrete = path.replace("{id}", agent)
            response = http.get(concrete, params=query)
            allowed = documented.get(path, {200, 400, 401, 404})
            assert response.status_code in allowed, (concrete, query, response.text)
            check_response("GET", concrete, response.status_code, response.json())

        check()
