"""The emulator's endpoints, driven by the project's client over a real socket, checked against the spec."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from duvo_tui.api import errors
from duvo_tui.api.client import DuvoClient
from duvo_tui.emulator.testing import running_emulator
from tests.test_emulator_schema import RecordingTransport, check_response, load_spec


def client_for(emu, key: str | None = None, transport: httpx.AsyncBaseTransport | None = None) -> DuvoClient:
    """The project's client on ``emu``; every answer it gets is checked against the spec on arrival."""
    transport = transport or RecordingTransport(validate=True)
    return DuvoClient(emu.base_url, key or emu.api_key, transport=transport, max_retries=0)


async def wait_for(client: DuvoClient, run_id: str, *statuses: str, within: float = 10.0):
    deadline = asyncio.get_running_loop().time() + within
    while True:
        detail = await client.get_run(run_id)
        if detail.run is not None and detail.run.status in statuses:
            return detail
        assert asyncio.get_running_loop().time() < deadline, f"run {run_id} never reached {statuses}"
        await asyncio.sleep(0.03)


def raw(emu, key: str | None = "default") -> httpx.Client:
    headers = {} if key is None else {"Authorization": f"Bearer {emu.api_key if key == 'default' else key}"}
    return httpx.Client(base_url=emu.base_url, headers=headers, timeout=10)


async def test_every_endpoint_answers_in_the_shape_of_the_spec(emulator, tmp_path):
    load_spec()
    transport = RecordingTransport()
    async with client_for(emulator, transport=transport) as client:
        sandbox = await client.create_sandbox()
        uploaded = await client.upload_file(
            sandbox.sandbox_id, "/workspace/in/invoice.csv", b"vendor,amount\nAcme,12\n"
        )
        assert (uploaded.path, uploaded.size_bytes) == ("/workspace/in/invoice.csv", 22)
        url = await client.create_upload_url(sandbox.sandbox_id, "/workspace/big/data.bin")
        source = tmp_path / "data.bin"
        source.write_bytes(b"\x01" * 70_000)
        await client.put_presigned(url.upload_url, source)
        root = await client.list_files(sandbox.sandbox_id)
        assert sorted((f.name, f.type) for f in root) == [("big", "dir"), ("in", "dir")]
        inner = await client.list_files(sandbox.sandbox_id, "/workspace/big")
        assert [(f.path, f.size_bytes) for f in inner] == [("/workspace/big/data.bin", 70_000)]

        run = await client.start_run(
            emulator.agents["approval"], message="Pay the invoice", sandbox_id=sandbox.sandbox_id
        )
        detail = await wait_for(client, run.id, "waiting")
        page = await client.list_messages(run.id, limit=50)
        assert page.total == len(page.messages) >= 5
        result = await client.respond(run.id, detail.pending_human_request.id, approved=True)
        assert result.response == "approved"
        await wait_for(client, run.id, "completed")
        said = await client.post_message(run.id, "Thanks, also file it")
        assert said.role == "user" and said.text_content == "Thanks, also file it"
        await wait_for(client, run.id, "completed")
        stop = await client.stop_run(run.id)
        assert stop.success is False

        chatty = await client.start_run(emulator.agents["chatty"])
        assert (await client.stop_run(chatty.id)).success is True
        listing = await client.list_team_runs(emulator.team_id, status="completed")
        assert [r.id for r in listing.runs] == [run.id]

        with pytest.raises(errors.NotFoundError):
            await client.get_run(str(uuid.uuid4()))
        with pytest.raises(errors.ConflictError):
            await client.respond(run.id, detail.pending_human_request.id, approved=True)
    checked = transport.check_all()
    assert checked >= 18
    statuses = {status for *_, status, _ in ((m, p, s, b) for m, p, s, b in transport.exchanges)}
    assert {200, 201, 404, 409} <= statuses


async def test_missing_or_unknown_key_is_401(emulator):
    with raw(emulator, key=None) as http:
        response = http.get(f"/v1/runs/{uuid.uuid4()}")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    check_response("GET", "/v1/runs/x", 401, response.json())
    async with client_for(emulator, key="dv_not_a_key_000000000000000000000") as client:
        with pytest.raises(errors.AuthError):
            await client.create_sandbox()


async def test_another_teams_resources_are_403():
    with running_emulator(
        speed=50, api_keys=["dv_first_key_aaaaaaaaaaaaaaaaaaaaaaaa", "dv_second_key_bbbbbbbbbbbbbbbbbbbbbbb"]
    ) as emu:
        other = emu.api_keys[1]
        assert emu.team_of(other) != emu.team_id
        async with client_for(emu) as mine, client_for(emu, key=other) as theirs:
            run = await mine.start_run(emu.agents["quick"])
            sandbox = await mine.create_sandbox()
            with pytest.raises(errors.ForbiddenError):
                await theirs.get_run(run.id)
            with pytest.raises(errors.ForbiddenError):
                await theirs.stop_run(run.id)
            with pytest.raises(errors.ForbiddenError):
                await theirs.list_files(sandbox.sandbox_id)
            with pytest.raises(errors.ForbiddenError):
                await theirs.start_run(emu.agents["quick"], sandbox_id=sandbox.sandbox_id)
            with pytest.raises(errors.ForbiddenError):
                await theirs.list_team_runs(emu.team_id)
            assert (await theirs.list_team_runs(emu.team_of(other))).total == 0


async def test_unknown_ids_routes_and_methods_are_404_and_405_with_the_envelope(emulator):
    async with client_for(emulator) as client:
        with pytest.raises(errors.NotFoundError):
            await client.start_run(str(uuid.uuid4()))
        with pytest.raises(errors.NotFoundError):
            await client.list_files("sbx_missing")
        with pytest.raises(errors.NotFoundError):
            await client.start_run(emulator.agents["quick"], sandbox_id="sbx_missing")
        run = await client.start_run(emulator.agents["approval"])
        await wait_for(client, run.id, "waiting")
        with pytest.raises(errors.NotFoundError):
            await client.respond(run.id, str(uuid.uuid4()), approved=True)
    with raw(emulator) as http:
        missing = http.get("/v1/nothing-here")
        wrong_method = http.delete("/v1/runs")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]) == (405, "method_not_allowed")
    assert set(missing.json()) == {"error", "message"}


async def test_invalid_input_is_400(emulator):
    async with client_for(emulator) as client:
        with pytest.raises(errors.ValidationError):
            await client.start_run("not-a-uuid")
        with pytest.raises(errors.ValidationError):
            await client.get_run("not-a-uuid")
        run = await client.start_run(emulator.agents["quick"])
        with pytest.raises(errors.ValidationError):
            await client.post_message(run.id, "")
        with pytest.raises(errors.ValidationError):
            await client.post_message(run.id, "   ")
    with raw(emulator) as http:
        bad = {
            "not json": http.post("/v1/runs", content=b"{nope", headers={"content-type": "application/json"}),
            "array body": http.post("/v1/runs", json=[1]),
            "no agent": http.post("/v1/runs", json={"message": "hi"}),
            "webhook not a url": http.post("/v1/runs", json={"agent_id": emulator.agents["quick"], "webhook_url": "x"}),
            "limit 0": http.get(f"/v1/runs/{run.id}/messages", params={"limit": 0}),
            "limit 51": http.get(f"/v1/runs/{run.id}/messages", params={"limit": 51}),
            "offset -1": http.get(f"/v1/runs/{run.id}/messages", params={"offset": -1}),
            "team limit 101": http.get(f"/v2/teams/{emulator.team_id}/runs", params={"limit": 101}),
            "team bad status": http.get(f"/v2/teams/{emulator.team_id}/runs", params={"status": "bogus"}),
            "team bad order": http.get(f"/v2/teams/{emulator.team_id}/runs", params={"sort_order": "up"}),
            "team bad agent": http.get(f"/v2/teams/{emulator.team_id}/runs", params={"agent_id": "x"}),
        }
    for name, response in bad.items():
        assert response.status_code == 400, name
        assert set(response.json()) == {"error", "message"}, name


async def test_respond_refuses_bodies_that_do_not_fit_the_request(emulator):
    async with client_for(emulator) as client:
        approval = await client.start_run(emulator.agents["approval"])
        questions = await client.start_run(emulator.agents["questions"])
        a = (await wait_for(client, approval.id, "waiting")).pending_human_request
        q = (await wait_for(client, questions.id, "waiting")).pending_human_request
        cases = [
            (approval.id, a.id, {}),  # neither approved nor answers
            (approval.id, a.id, {"answers": {"x": "y"}}),  # answers on an approval
            (questions.id, q.id, {"approved": True}),  # approved on a question request
            (questions.id, q.id, {"answers": {"What is the airspeed?": "42"}}),  # an unknown question
        ]
        for run_id, request_id, body in cases:
            with pytest.raises(errors.ValidationError) as caught:
                await client.respond(run_id, request_id, **body)
            assert caught.value.status == 422, body
        # Nothing above answered anything: both runs still wait.
        assert (await client.get_run(approval.id)).run.status == "waiting"
        assert (await client.get_run(questions.id)).run.status == "waiting"


async def test_responding_twice_or_to_a_run_that_is_not_waiting_is_409(emulator):
    async with client_for(emulator) as client:
        run = await client.start_run(emulator.agents["approval"])
        pending = (await wait_for(client, run.id, "waiting")).pending_human_request
        await client.respond(run.id, pending.id, approved=False)
        with pytest.raises(errors.ConflictError):
            await client.respond(run.id, pending.id, approved=True)
        await wait_for(client, run.id, "completed")
        with pytest.raises(errors.ConflictError):
            await client.respond(run.id, pending.id, approved=True)
        messages = (await client.list_messages(run.id, limit=50)).messages
        assert not any("Payment of" in (m.text_content or "") for m in messages), "the second answer must not act"


async def test_idempotent_replays_return_the_first_answer_and_act_once(emulator):
    async with client_for(emulator) as client:
        first = await client.start_run(emulator.agents["approval"], idempotency_key="start-1")
        again = await client.start_run(emulator.agents["approval"], idempotency_key="start-1")
        assert again.id == first.id
        assert sum(1 for r in emulator.state.runs.values() if r.agent.scenario == "approval") == 1

        pending = (await wait_for(client, first.id, "waiting")).pending_human_request
        one = await client.respond(first.id, pending.id, approved=True, idempotency_key="answer-1")
        two = await client.respond(first.id, pending.id, approved=True, idempotency_key="answer-1")
        assert one == two
        await wait_for(client, first.id, "completed")

        m1 = await client.post_message(first.id, "hello", idempotency_key="say-1")
        m2 = await client.post_message(first.id, "hello", idempotency_key="say-1")
        assert m1.id == m2.id
        users = [m for m in (await client.list_messages(first.id, limit=50)).messages if m.role == "user"]
        assert [m.text_content for m in users] == ["hello"]

        s1 = await client.create_sandbox(idempotency_key="sbx-1")
        s2 = await client.create_sandbox(idempotency_key="sbx-1")
        s3 = await client.create_sandbox(idempotency_key="sbx-2")
        assert s1.sandbox_id == s2.sandbox_id != s3.sandbox_id
        assert len(emulator.state.sandboxes) == 2
    with raw(emulator) as http:
        replay = http.post("/v1/sandboxes", headers={"Idempotency-Key": "sbx-1"})
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["sandbox_id"] == s1.sandbox_id


async def test_paths_that_escape_the_workspace_are_refused(emulator):
    bad_paths = [
        "/workspace/../etc/passwd",
        "/etc/passwd",
        "workspace/a.txt",
        "/workspace/a/../../b",
        "/",
        "/workspacex/a",
        "/workspace/a\x00b",
        "/workspace\\..\\x",
    ]
    async with client_for(emulator) as client:
        sandbox = await client.create_sandbox()
        for path in bad_paths:
            with pytest.raises(errors.ValidationError):
                await client.upload_file(sandbox.sandbox_id, path, b"x")
            with pytest.raises(errors.ValidationError):
                await client.create_upload_url(sandbox.sandbox_id, path)
        for path in ["/workspace/..", "/", "/tmp", "relative"]:
            with pytest.raises(errors.ValidationError):
                await client.list_files(sandbox.sandbox_id, path)
        assert await client.list_files(sandbox.sandbox_id) == []
    leaked = [p for p in emulator.state.data_dir.rglob("*") if p.is_file()]
    assert leaked == []


async def test_direct_uploads_over_10_mb_are_413(emulator):
    limit = emulator.state.options.max_direct_upload
    async with client_for(emulator) as client:
        sandbox = await client.create_sandbox()
        exact = await client.upload_file(sandbox.sandbox_id, "/workspace/exact.bin", b"\0" * limit)
        assert exact.size_bytes == limit
    files = {"file": ("big.bin", b"\0" * (limit + 1), "application/octet-stream")}
    with raw(emulator) as http:
        response = http.post(
            f"/v1/sandboxes/{sandbox.sandbox_id}/files", files=files, data={"path": "/workspace/big.bin"}
        )
        far_over = http.post(
            f"/v1/sandboxes/{sandbox.sandbox_id}/files",
            files={"file": ("huge.bin", b"\0" * (limit + 200_000))},
            data={"path": "/workspace/huge.bin"},
        )
        listing = http.get(f"/v1/sandboxes/{sandbox.sandbox_id}/files").json()
    assert response.status_code == 413 and response.json()["error"] == "file_too_large"
    assert far_over.status_code == 413
    check_response("POST", "/v1/sandboxes/x/files", 413, response.json())
    assert [f["name"] for f in listing["files"]] == ["exact.bin"]


async def test_direct_upload_needs_a_file_part_and_a_path(emulator):
    async with client_for(emulator) as client:
        sandbox = await client.create_sandbox()
    url = f"/v1/sandboxes/{sandbox.sandbox_id}/files"
    with raw(emulator) as http:
        no_path = http.post(url, files={"file": ("a.txt", b"a")})
        no_file = http.post(url, files={"other": ("a.txt", b"a")}, data={"path": "/workspace/a.txt"})
        not_multipart = http.post(url, json={"path": "/workspace/a.txt"})
        into_dir = http.post(url, files={"file": ("a.txt", b"abc")}, data={"path": "/workspace/docs/"})
    assert [r.status_code for r in (no_path, no_file, not_multipart)] == [400, 400, 400]
    assert into_dir.status_code == 201 and into_dir.json() == {"path": "/workspace/docs/a.txt", "size_bytes": 3}


async def test_expired_sandboxes_answer_404_sandbox_expired():
    with running_emulator(speed=50, sandbox_ttl=0.3) as emu:
        async with client_for(emu) as client:
            sandbox = await client.create_sandbox()
            assert await client.list_files(sandbox.sandbox_id) == []
            await asyncio.sleep(0.4)
            with pytest.raises(errors.NotFoundError) as caught:
                await client.list_files(sandbox.sandbox_id)
            assert caught.value.code == "sandbox_expired"
            with pytest.raises(errors.NotFoundError):
                await client.start_run(emu.agents["quick"], sandbox_id=sandbox.sandbox_id)


async def test_team_listing_filters_sorts_and_pages(emulator):
    async with client_for(emulator) as client:
        quick = [await client.start_run(emulator.agents["quick"], message=f"check number {i}") for i in range(3)]
        failing = await client.start_run(emulator.agents["fails"], message="import the ledger")
        for run in quick:
            await wait_for(client, run.id, "completed")
        await wait_for(client, failing.id, "failed")
        everything = await client.list_team_runs(emulator.team_id)
        assert everything.total == 4
        assert [r.id for r in everything.runs] == [failing.id, *reversed([r.id for r in quick])]
        oldest_first = await client.list_team_runs(emulator.team_id, sort_order="asc", limit=2, offset=1)
        assert [r.id for r in oldest_first.runs] == [quick[1].id, quick[2].id]
        assert oldest_first.total == 4
        assert [r.id for r in (await client.list_team_runs(emulator.team_id, status="failed")).runs] == [failing.id]
        by_agent = await client.list_team_runs(emulator.team_id, agent_id=emulator.agents["quick"])
        assert {r.id for r in by_agent.runs} == {r.id for r in quick}
        found = await client.list_team_runs(emulator.team_id, search="LEDGER")
        assert [r.id for r in found.runs] == [failing.id]
        assert (await client.list_team_runs(emulator.team_id, source="schedule")).total == 0
        row = found.runs[0]
        assert row.agent_name == "Warehouse Data Import" and row.title == "import the ledger"
    with raw(emulator) as http:
        rows = http.get(f"/v2/teams/{emulator.team_id}/runs", params={"search": "ledger"}).json()["data"]
    assert [(r["run_number"], r["submitted_prompt_count"], r["status"]) for r in rows] == [(4, 1, "failed")]


async def test_a_chunked_upload_without_content_length_is_cut_off_at_the_limit(emulator):
    limit = emulator.state.options.max_direct_upload
    boundary = "duvo-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="path"\r\n\r\n/workspace/big.bin\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()

    async def body():  # an iterator: httpx sends it chunked, with no Content-Length to trust
        yield head
        for _ in range(12):
            yield b"\0" * (1024 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    async with client_for(emulator) as client:
        sandbox = await client.create_sandbox()
    async with httpx.AsyncClient(base_url=emulator.base_url, timeout=30) as http:
        response = await http.post(
            f"/v1/sandboxes/{sandbox.sandbox_id}/files",
            content=body(),
            headers={
                "Authorization": f"Bearer {emulator.api_key}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
    assert 12 * 1024 * 1024 > limit
    assert response.status_code == 413 and response.json()["error"] == "file_too_large"
    assert not any(p.is_file() for p in emulator.state.data_dir.rglob("*"))
