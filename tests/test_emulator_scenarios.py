"""Each scripted agent, from start through its human request to its end, driven by the project's client."""

from __future__ import annotations

import json

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.emulator.scenarios import FORMAT_QUESTION, NOTES_QUESTION, REGION_QUESTION
from duvo_tui.emulator.testing import running_emulator
from tests.test_emulator_api import client_for, wait_for


async def all_messages(client: DuvoClient, run_id: str) -> list:
    messages, offset = [], 0
    while True:
        page = await client.list_messages(run_id, limit=50, offset=offset)
        messages.extend(page.messages)
        offset += len(page.messages)
        if not page.messages or offset >= page.total:
            return messages


def texts(messages) -> str:
    return "\n".join(m.text_content or "" for m in messages)


async def sandbox_with_invoice(client: DuvoClient) -> str:
    sandbox = await client.create_sandbox()
    await client.upload_file(sandbox.sandbox_id, "/workspace/march-invoices.csv", b"vendor,amount\nAcme,120\n")
    return sandbox.sandbox_id


@pytest.mark.parametrize("approved", [True, False])
async def test_approval_gate_changes_what_happens_next(emulator, approved):
    async with client_for(emulator) as client:
        sandbox_id = await sandbox_with_invoice(client)
        run = await client.start_run(emulator.agents["approval"], message="Pay March", sandbox_id=sandbox_id)
        detail = await wait_for(client, run.id, "waiting")
        request = detail.pending_human_request
        assert request.type == "approval" and request.title.startswith("Approve payment")
        assert "march-invoices.csv" in (request.description or "")
        before = await all_messages(client, run.id)
        assert "march-invoices.csv" in texts(before), "the agent mentions the sandbox file by name"
        reads = [m for m in before if m.tool_call and m.tool_call.name == "read_file"]
        assert reads and reads[0].tool_call.arguments == {"path": "/workspace/march-invoices.csv"}

        await client.respond(run.id, request.id, approved=approved)
        done = await wait_for(client, run.id, "completed")
        assert done.pending_human_request is None and done.run.completed_at is not None
        after = await all_messages(client, run.id)
        tools = [m.tool_call.name for m in after if m.tool_call]
        if approved:
            assert "send_payment" in tools and "create_draft" not in tools
            assert "sent." in texts(after)
        else:
            assert "create_draft" in tools and "send_payment" not in tools
            assert "fallback path" in texts(after) and "No money was sent" in texts(after)


async def test_question_request_offers_choices_multi_select_and_free_text_and_echoes_answers(emulator):
    async with client_for(emulator) as client:
        run = await client.start_run(emulator.agents["questions"], message="Q3 summary")
        request = (await wait_for(client, run.id, "waiting")).pending_human_request
        assert request.type == "question"
        by_text = {q.question: q for q in request.questions}
        assert set(by_text) == {REGION_QUESTION, FORMAT_QUESTION, NOTES_QUESTION}
        region, formats, notes = by_text[REGION_QUESTION], by_text[FORMAT_QUESTION], by_text[NOTES_QUESTION]
        assert [o.label for o in region.options] == ["EMEA", "Americas", "APAC"]
        assert all(o.description for o in region.options) and not region.multi_select
        assert formats.multi_select and len(formats.options) == 3
        assert not notes.options, "the free-text question has no options"

        answers = {REGION_QUESTION: "APAC", FORMAT_QUESTION: "PDF, Slides", NOTES_QUESTION: "Mention the Q2 dip"}
        result = await client.respond(run.id, request.id, answers=answers)
        assert json.loads(result.response) == answers
        await wait_for(client, run.id, "completed")
        said = texts(await all_messages(client, run.id))
        assert "Region: APAC. Formats: PDF, Slides. Notes: Mention the Q2 dip." in said


async def test_failing_run_ends_failed_after_tool_errors(emulator):
    async with client_for(emulator) as client:
        run = await client.start_run(emulator.agents["fails"])
        detail = await wait_for(client, run.id, "failed")
        assert detail.run.completed_at is not None
        messages = await all_messages(client, run.id)
        errors = [m.tool_result.error for m in messages if m.tool_result and m.tool_result.error]
        assert len(errors) == 2 and all("ConnectionError" in e for e in errors)
        assert "The run failed" in texts(messages)


async def test_chatty_run_produces_thousands_of_messages_with_large_tool_arguments(emulator):
    async with client_for(emulator) as client:
        run = await client.start_run(emulator.agents["chatty"])
        await wait_for(client, run.id, "completed", within=30)
    stored = emulator.state.runs[run.id].messages
    assert len(stored) >= 3000
    biggest = max(len(json.dumps(m["tool_call"]["arguments"])) for m in stored if "tool_call" in m)
    assert biggest > 20_000
    async with client_for(emulator) as client:
        last_page = await client.list_messages(run.id, limit=50, offset=len(stored) - 10)
    assert last_page.total == len(stored) and len(last_page.messages) == 10
    assert last_page.messages[-1].text_content.startswith("Finished:")


async def test_quick_run_completes(emulator):
    async with client_for(emulator) as client:
        run = await client.start_run(emulator.agents["quick"])
        assert run.status == "pending"
        detail = await wait_for(client, run.id, "completed")
        assert detail.run.started_at is not None
        assert any(m.tool_call and m.tool_call.name == "ping" for m in await all_messages(client, run.id))


async def test_posting_resumes_a_finished_run_and_a_waiting_run_keeps_waiting(emulator):
    async with client_for(emulator) as client:
        done = await client.start_run(emulator.agents["quick"])
        first_end = (await wait_for(client, done.id, "completed")).run.completed_at
        await client.post_message(done.id, "And check the backups too")
        resumed = await wait_for(client, done.id, "completed")
        assert resumed.run.completed_at > first_end, "the run ran again and completed later"
        assert "You said: “And check the backups too”" in texts(await all_messages(client, done.id))

        waiting = await client.start_run(emulator.agents["approval"])
        await wait_for(client, waiting.id, "waiting")
        await client.post_message(waiting.id, "What is this for?")
        detail = await client.get_run(waiting.id)
        assert detail.run.status == "waiting" and detail.pending_human_request is not None
        assert "I still need an answer" in texts(await all_messages(client, waiting.id))


async def test_stop_stops_a_running_run_and_is_a_no_op_otherwise():
    with running_emulator(speed=1) as emu:
        async with client_for(emu) as client:
            run = await client.start_run(emu.agents["chatty"])
            await wait_for(client, run.id, "running")
            result = await client.stop_run(run.id)
            assert result.success is True
            detail = await client.get_run(run.id)
            assert detail.run.status == "stopped"
            count = (await client.list_messages(run.id, limit=1)).total
            again = await client.stop_run(run.id)
            assert again.success is False and "not running" in again.message
            assert (await client.list_messages(run.id, limit=1)).total == count, "a stopped run says nothing more"


async def test_interrupted_and_vanished_runs():
    with running_emulator(speed=1) as emu:
        async with client_for(emu) as client:
            run = await client.start_run(emu.agents["chatty"])
            await wait_for(client, run.id, "running")
            emu.state.interrupt(run.id)
            assert (await client.get_run(run.id)).run.status == "interrupted"
            emu.state.delete_run(run.id)
            assert (await client.get_run(run.id)).run is None


async def approval_transcript(seed: int) -> list[str]:
    with running_emulator(speed=50, seed=seed) as emu:
        async with client_for(emu) as client:
            run = await client.start_run(emu.agents["approval"], message="Pay")
            await wait_for(client, run.id, "waiting")
            return [m.text_content or m.tool_call.name for m in await all_messages(client, run.id) if not m.tool_result]


async def test_seed_makes_scenario_output_deterministic():
    first, second, other = await approval_transcript(7), await approval_transcript(7), await approval_transcript(8)
    assert first == second
    assert first != other
