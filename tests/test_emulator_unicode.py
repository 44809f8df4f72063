"""Text the emulator cannot store: lone UTF-16 surrogates in JSON bodies are refused with a 400, never a 500 later.

A ``"\\ud800"`` escape is valid JSON syntax, but the string it makes is no Unicode text and cannot be
encoded as UTF-8; stored, it would make every later listing of the run fail.
"""

from __future__ import annotations

import asyncio

import httpx

from duvo_tui.api.client import DuvoClient

JSON = {"content-type": "application/json"}
LONE = b'"hi \\ud800 there"'
"""A JSON string with a lone high surrogate (the escape, exactly as it travels)."""


def raw(emu) -> httpx.Client:
    return httpx.Client(base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"}, timeout=10)


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) == {"error", "message"} and body["error"] == "invalid_request"
    assert "surrogate" in body["message"]


async def wait_for(client: DuvoClient, run_id: str, status: str, within: float = 10.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        detail = await client.get_run(run_id)
        if detail.run is not None and detail.run.status == status:
            return detail
        assert loop.time() < deadline, f"run {run_id} never reached {status}"
        await asyncio.sleep(0.03)


async def test_a_message_with_a_lone_surrogate_is_refused_and_the_listing_still_answers(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=0) as client:
        run = await client.start_run(emulator.agents["quick"], message="first")
        await wait_for(client, run.id, "completed")
        before = await client.list_messages(run.id, limit=50)
        with raw(emulator) as http:
            posted = http.post(f"/v1/runs/{run.id}/messages", content=b'{"message": ' + LONE + b"}", headers=JSON)
            low = http.post(f"/v1/runs/{run.id}/messages", content=b'{"message": "\\udfff"}', headers=JSON)
            listed = http.get(f"/v1/runs/{run.id}/messages", params={"limit": 50})
        assert_refused(posted)
        assert_refused(low)
        assert listed.status_code == 200, listed.text
        after = await client.list_messages(run.id, limit=50)
        assert after.total == before.total
        assert all("there" not in (m.text_content or "") for m in after.messages)


async def test_a_surrogate_pair_escape_is_text_and_comes_back(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=0) as client:
        run = await client.start_run(emulator.agents["quick"], message="first")
        with raw(emulator) as http:
            pair = b'{"message": "smile \\ud83d\\ude00"}'
            posted = http.post(f"/v1/runs/{run.id}/messages", content=pair, headers=JSON)
        assert posted.status_code == 201, posted.text
        page = await client.list_messages(run.id, limit=50)
        assert any(m.text_content == "smile \U0001f600" for m in page.messages)


async def test_a_lone_surrogate_is_refused_in_every_json_body(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=0) as client:
        questions = await client.start_run(emulator.agents["questions"])
        request = (await wait_for(client, questions.id, "waiting")).pending_human_request
        with raw(emulator) as http:
            agent = emulator.agents["quick"].encode()
            body = b'{"agent_id": "' + agent + b'", "message": ' + LONE + b"}"
            start = http.post("/v1/runs", content=body, headers=JSON)
            sandbox = http.post("/v1/sandboxes").json()["sandbox_id"]
            url = http.post(
                f"/v1/sandboxes/{sandbox}/upload-urls", content=b'{"path": "/workspace/a\\ud800.txt"}', headers=JSON
            )
            question = request.questions[0].question.encode()
            answer = http.post(
                f"/v1/runs/{questions.id}/human-requests/{request.id}/respond",
                content=b'{"answers": {"' + question + b'": ' + LONE + b"}}",
                headers=JSON,
            )
            key = http.post(
                f"/v1/runs/{questions.id}/human-requests/{request.id}/respond",
                content=b'{"answers": {"\\ud800": "x"}}',
                headers=JSON,
            )
        for response in (start, url, answer, key):
            assert_refused(response)
        # Nothing was stored: the run still waits for the same request, and the team listing answers.
        assert (await client.get_run(questions.id)).pending_human_request.id == request.id
        listed = await client.list_team_runs(emulator.team_id, limit=100)
        assert questions.id in {r.id for r in listed.runs}


async def test_a_deeply_nested_body_is_a_400_not_a_500(emulator):
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=0) as client:
        run = await client.start_run(emulator.agents["quick"])
    with raw(emulator) as http:
        deep = b'{"message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        response = http.post(f"/v1/runs/{run.id}/messages", content=deep, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_request"
