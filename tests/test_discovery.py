"""Runs started anywhere (another program, the web app) are found by the run listing: no team id needed."""

from __future__ import annotations

import httpx

from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service import events as ev
from tests.test_service import fast_settings, make_client, started, wait_until

OTHER = "dv_other_person_key_0123456789abcdef"


def start_elsewhere(emu, key: str, agent: str, message: str) -> str:
    response = httpx.post(
        f"{emu.base_url}/v1/runs",
        json={"agent_id": emu.agents[agent], "message": message},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 201
    return response.json()["run"]["id"]


async def test_runs_started_by_another_program_appear_with_names_and_titles(tmp_path):
    with running_emulator(
        speed=50, rate_limit=100_000, api_keys=["dv_first_key_0123456789abcdefghijklm", OTHER]
    ) as emu:
        async with make_client(emu) as client:
            service, rec = await started(client, tmp_path)
            try:
                before = start_elsewhere(emu, emu.api_key, "quick", "started before")
                await wait_until(lambda: service.run(before) is not None, timeout=5)
                after = start_elsewhere(emu, emu.api_key, "approval", "started while watching")
                theirs = start_elsewhere(emu, OTHER, "quick", "someone else's")
                await wait_until(lambda: service.run(after) is not None and service.run(after).pending, timeout=5)
                tracked = service.run(after)
                assert tracked.agent_name == "Supplier Invoice Approval"
                assert tracked.run.title == "started while watching"
                assert tracked.run.run_number and tracked.origin == "team"
                assert [r.id for r in service.pending_requests()] == [emu.state.runs[after].pending.id]
                assert service.run(theirs) is None
                assert theirs not in {e.run.id for e in rec.of(ev.RunAdded)}
            finally:
                await service.close()


async def test_sync_once_without_a_team_id_reads_the_keys_runs(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            ids = {start_elsewhere(emu, emu.api_key, "quick", f"n{n}") for n in range(3)}
            service, _ = await started(client, None, settings=fast_settings())
            try:
                runs = await service.sync_once()
                assert {t.id for t in runs} == ids and all(t.run.title for t in runs)
            finally:
                await service.close()
