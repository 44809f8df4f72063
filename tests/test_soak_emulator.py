"""The soak's emulator process: it serves, drops its socket on command and reports what it recorded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from duvo_tui.bench.soak_emulator import EmulatorProcess


async def test_the_emulator_process_serves_drops_and_reports(tmp_path: Path) -> None:
    emu = await EmulatorProcess.start(tmp_path, fault_rate=0.0, latency_ms=0, speed=50.0, seed=1)
    try:
        assert emu.base_url.startswith("http://127.0.0.1:")
        assert set(emu.agents) >= {"approval", "questions", "quick", "fails", "chatty"}
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        async with httpx.AsyncClient(base_url=emu.base_url, headers=headers) as http:
            created = await http.post("/v1/sandboxes", json={})
            assert created.status_code in (200, 201)
            sandbox_id = created.json()["sandbox_id"]

            root = (await emu.command(f"sandbox {sandbox_id}"))["root"]
            assert root is not None and await asyncio.to_thread(Path(root).is_dir)
            assert (await emu.command("sandbox no-such-sandbox")) == {"root": None}

            assert await emu.command("drop 0.1") == {"ok": True}
            again = await http.get(f"/v1/sandboxes/{sandbox_id}/files")  # the same port serves again
            assert again.status_code == 200

        assert await emu.command("deliveries") == {"deliveries": {}}
        assert "error" in await emu.command("frobnicate")
    finally:
        await emu.close()
    assert emu.process.returncode == 0


async def test_answers_are_counted_where_the_emulator_records_them(tmp_path: Path) -> None:
    from duvo_tui.api.client import DuvoClient

    emu = await EmulatorProcess.start(tmp_path, fault_rate=0.0, latency_ms=0, speed=50.0, seed=1)
    try:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            run = await client.start_run(emu.agents["approval"])
            pending = None
            for _ in range(200):
                pending = (await client.get_run(run.id)).pending_human_request
                if pending is not None:
                    break
                await asyncio.sleep(0.05)
            assert pending is not None, "the approval run never asked"
            await client.respond(run.id, pending.id, approved=True)
        assert await emu.command("deliveries") == {"deliveries": {pending.id: 1}}
    finally:
        await emu.close()
