"""The polling service against the emulator: messages, human requests, rate limits, outages, persistence."""

from __future__ import annotations

import asyncio
import random
import time
import uuid

import httpx
import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.service import DuvoService, ServiceSettings
from duvo_tui.service import events as ev
from duvo_tui.service.responder import Submission
from tests.settings import service_settings


class CountingTransport(httpx.AsyncHTTPTransport):
    """The real transport, recording when each request left and what status came back."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[float, str]] = []
        self.answers: list[tuple[float, float, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        self.sent.append((started, request.url.path))
        response = await super().handle_async_request(request)
        self.answers.append((started, time.monotonic(), response.status_code))
        return response


class Recorder:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def __call__(self, event: ev.Event) -> None:
        self.events.append(event)

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]


async def wait_until(predicate, timeout: float = 10.0, step: float = 0.02) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


def make_client(emu, transport=None, key=None) -> DuvoClient:
    return DuvoClient(emu.base_url, key or emu.api_key, transport=transport, max_retries=1, backoff_base=0.05)


def fast_settings(**overrides) -> ServiceSettings:
    """Short intervals: the emulator runs at speed 50 and has a high limit in these tests."""
    values = dict(
        min_interval=0.2,
        focus_status_interval=0.3,
        interval=0.2,
        waiting_interval=0.5,
        max_interval=1.0,
        sweep_interval=0.3,
        waiting_sweep_interval=0.5,
        save_interval=0.2,
    )
    values.update(overrides)
    return service_settings(**values)


async def started(client, state_dir, **kwargs) -> tuple[DuvoService, Recorder]:
    settings = kwargs.pop("settings", None) or fast_settings()
    service = DuvoService(client, settings=settings, state_dir=state_dir, **kwargs)
    recorder = Recorder()
    service.subscribe(recorder)
    await service.start()
    return service, recorder


async def test_backlog_of_3000_messages_arrives_complete_and_in_order(tmp_path):
    with running_emulator(speed=50, chatty_messages=3000, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            service, rec = await started(client, tmp_path)
            try:
                run = await service.start_run(emu.agents["chatty"])
                service.focus(run.id)
                server_run = emu.state.runs[run.id]
                await wait_until(
                    lambda: server_run.status == "completed" and service.run(run.id).held == len(server_run.messages),
                    timeout=30,
                )
            finally:
                await service.close()
        appended = [e for e in rec.of(ev.MessagesAppended) if e.run_id == run.id]
        expected_start = 0
        for event in appended:
            assert event.start == expected_start  # nothing skipped, nothing twice
            expected_start += len(event.messages)
        ids = [m.id for e in appended for m in e.messages]
        assert len(ids) >= 3000
        assert ids == [m["id"] for m in server_run.messages]
        assert [m.id for m in service.messages(run.id)] == ids


def listing_options(emu, listing: str) -> dict:
    """``run``: GET /v1/runs (the default); ``team``: the team listing; ``none``: each run polled by itself."""
    if listing == "team":
        return {"team_id": emu.team_id}
    if listing == "none":
        return {"settings": fast_settings(run_listing=False)}
    return {}


@pytest.mark.parametrize("listing", ["run", "team", "none"], ids=["run-listing", "team-listing", "run-by-run"])
async def test_human_request_on_any_of_50_runs_is_emitted(tmp_path, listing):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            position = random.Random(7).randrange(50)
            run_ids = []
            for index in range(50):
                agent = emu.agents["approval" if index == position else "quick"]
                run_ids.append((await client.start_run(agent)).id)
            service, rec = await started(client, tmp_path, **listing_options(emu, listing))
            try:
                if listing == "none":
                    service.track_ids(run_ids)
                target = run_ids[position]
                await wait_until(lambda: any(e.request.run_id == target for e in rec.of(ev.HumanRequestAppeared)))
                server_request = emu.state.runs[target].pending
                appeared = [e.request for e in rec.of(ev.HumanRequestAppeared)]
                assert [r.id for r in appeared] == [server_request.id]
                assert appeared[0].title == server_request.title
                assert [r.id for r in service.pending_requests()] == [server_request.id]
                assert {t.id for t in service.runs()} == set(run_ids)
            finally:
                await service.close()


async def test_team_listing_not_offered_falls_back_to_polling_each_run(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            service, rec = await started(client, tmp_path, team_id="00000000-0000-4000-8000-000000000000")
            try:
                run = await service.start_run(emu.agents["approval"])
                await wait_until(lambda: rec.of(ev.HumanRequestAppeared))
                assert rec.of(ev.HumanRequestAppeared)[0].request.run_id == run.id
                assert not service.scheduler.team_listing
            finally:
                await service.close()


async def test_injected_429_pauses_all_polling_for_retry_after(tmp_path):
    with running_emulator(speed=5, chatty_messages=100_000, rate_limit=100_000) as emu:
        transport = CountingTransport()
        async with make_client(emu, transport) as client:
            # When the client learned of a 429, and when its budget let each request go. A request let go before
            # the 429 was learned may still leave after it arrived (several are in flight at once): judged by
            # what the client knew, not by a margin of time that a loaded machine overruns.
            budget = client.budget
            learned: list[float] = []
            let_go: list[float] = []
            observe, acquire = budget.observe, budget.acquire

            def observing(status, headers):
                observe(status, headers)
                if status == 429:
                    learned.append(time.monotonic())

            async def acquiring(urgent=False):
                await acquire(urgent)
                let_go.append(time.monotonic())

            budget.observe, budget.acquire = observing, acquiring
            service, _rec = await started(client, tmp_path)
            try:
                runs = [await service.start_run(emu.agents["chatty"]) for _ in range(3)]
                service.focus(runs[0].id)
                await asyncio.sleep(1.0)
                emu.state.inject_rate_limit(retry_after=1)
                await wait_until(lambda: learned, timeout=5)
                first_429 = learned[0]
                await wait_until(lambda: any(t > first_429 + 0.95 and s == 200 for t, _, s in transport.answers))
                during = [t for t in let_go if first_429 < t < first_429 + 0.95]
                after = [s for t, _, s in transport.answers if t > first_429 + 0.95]
            finally:
                await service.close()
        assert during == []  # nothing let go while the server said to wait
        assert after and 200 in after  # and polling came back by itself
        assert service.poller.auth_failed is False


async def test_server_stop_and_restart_report_lost_then_restored(tmp_path):
    with running_emulator(speed=5, chatty_messages=100_000, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            service, rec = await started(client, tmp_path)
            try:
                run = await service.start_run(emu.agents["chatty"])
                service.focus(run.id)
                await wait_until(lambda: service.run(run.id).held > 0)
                emu.stop()
                await wait_until(lambda: rec.of(ev.ConnectionLost), timeout=10)
                held_when_lost = service.run(run.id).held
                emu.restart()
                await wait_until(lambda: rec.of(ev.ConnectionRestored), timeout=15)
                await wait_until(lambda: service.run(run.id).held > held_when_lost, timeout=5)
            finally:
                await service.close()
        kinds = [type(e) for e in rec.events if isinstance(e, (ev.ConnectionLost, ev.ConnectionRestored))]
        assert kinds[0] is ev.ConnectionLost
        assert kinds[-1] is ev.ConnectionRestored
        assert rec.of(ev.ConnectionLost)[0].attempt == 1


async def test_state_survives_a_restart_of_the_service(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            service, _rec = await started(client, tmp_path)
            try:
                waiting = await service.start_run(emu.agents["approval"])
                done = await service.start_run(emu.agents["quick"])
                # Completed, and its last messages fetched too (they can come a poll after the status).
                await wait_until(
                    lambda: (
                        service.pending_requests()
                        and service.run(done.id).status == "completed"
                        and service.run(done.id).message_total == len(emu.state.runs[done.id].messages)
                    )
                )
            finally:
                await service.close()
            request_id = service.pending_requests()[0].id
            transport = CountingTransport()
        async with make_client(emu, transport) as client:
            again, rec2 = await started(client, tmp_path)
            try:
                assert {t.id for t in again.runs()} == {waiting.id, done.id}
                assert again.run(done.id).status == "completed"
                assert again.run(waiting.id).status == "waiting"
                assert [r.id for r in again.pending_requests()] == [request_id]
                assert again.run(waiting.id).origin == "started"
                assert again.run(done.id).message_total == len(emu.state.runs[done.id].messages)
                await asyncio.sleep(0.5)
                # A restored request is not announced again, and nothing is re-added.
                assert rec2.of(ev.HumanRequestAppeared) == [] and rec2.of(ev.RunAdded) == []
            finally:
                await again.close()


async def test_refused_key_stops_polling_and_reports_auth_failed(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        transport = CountingTransport()
        async with make_client(emu, transport, key="dv_not_a_key_0000000000000000000000") as client:
            service, rec = await started(client, tmp_path)
            try:
                service.track_ids(["3f2b8c1e-0000-4000-8000-000000000001", "3f2b8c1e-0000-4000-8000-000000000002"])
                await wait_until(lambda: rec.of(ev.AuthFailed))
                count = len(transport.sent)
                await asyncio.sleep(1.0)
                assert len(transport.sent) == count
                assert len(rec.of(ev.AuthFailed)) == 1
                assert "dv_not_a_key" not in rec.of(ev.AuthFailed)[0].message
            finally:
                await service.close()


async def test_a_failing_subscriber_does_not_stop_the_service(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            service = DuvoService(client, settings=fast_settings(), state_dir=tmp_path)

            def broken(event):
                raise RuntimeError("subscriber bug")

            service.subscribe(broken)
            rec = Recorder()
            service.subscribe(rec)
            await service.start()
            try:
                run = await service.start_run(emu.agents["approval"])
                await wait_until(lambda: rec.of(ev.HumanRequestAppeared))
                assert rec.of(ev.RunAdded)[0].run.id == run.id
            finally:
                await service.close()


async def test_a_run_the_server_no_longer_has_is_removed(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            service, rec = await started(client, tmp_path)
            try:
                run = await service.start_run(emu.agents["approval"])
                await wait_until(lambda: service.pending_requests())
                emu.state.delete_run(run.id)
                service.refresh(run.id)
                await wait_until(lambda: rec.of(ev.RunRemoved))
                assert service.run(run.id) is None
                assert [e.run_id for e in rec.of(ev.HumanRequestResolved)] == [run.id]
            finally:
                await service.close()


async def test_answering_here_resolves_the_request_and_the_run_goes_on(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            service, rec = await started(client, tmp_path)
            try:
                run = await service.start_run(emu.agents["approval"])
                await wait_until(lambda: service.pending_requests())
                request = service.pending_requests()[0]
                outcome = await service.respond(Submission(run.id, request.id, approved=True))
                assert outcome.ok and outcome.message == "Approved."
                resolved = rec.of(ev.HumanRequestResolved)
                assert [(e.request_id, e.answered_here) for e in resolved] == [(request.id, True)]
                await wait_until(lambda: service.run(run.id).status == "completed")
                assert service.pending_requests() == []
            finally:
                await service.close()


async def test_sync_once_lists_the_team_runs_for_one_shot_commands(tmp_path):
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        async with make_client(emu) as client:
            ids = {(await client.start_run(emu.agents["quick"])).id for _ in range(3)}
            service = DuvoService(client, settings=fast_settings(), state_dir=None, team_id=emu.team_id)
            await service.start()
            try:
                runs = await service.sync_once()
                assert {t.id for t in runs} == ids
                assert all(t.run.title for t in runs)  # the listing's rows carry titles
            finally:
                await service.close()
            fallback = DuvoService(client, settings=fast_settings(), state_dir=None, team_id=str(uuid.uuid4()))
            await fallback.start()
            try:
                fallback.track_ids(sorted(ids))
                runs = await fallback.sync_once()
                assert {t.status for t in runs} <= {"pending", "running", "completed"}
                assert all(t.run.agent_id == emu.agents["quick"] for t in runs)
            finally:
                await fallback.close()


@pytest.mark.parametrize("listing", ["none", "run", "team"])
async def test_unfocused_runs_reach_their_end_while_a_focused_run_waits(tmp_path, listing):
    """Default intervals: the focused run waiting for a person must not starve runs started beside it."""
    with running_emulator(speed=50) as emu:
        async with make_client(emu) as client:
            settings = service_settings(run_listing=listing != "none")
            team = {"team_id": emu.team_id} if listing == "team" else {}
            service, _ = await started(client, tmp_path, settings=settings, **team)
            try:
                approval = await service.start_run(emu.agents["approval"])
                service.focus(approval.id)
                await wait_until(lambda: service.run(approval.id).status == "waiting", timeout=10)
                fails = await service.start_run(emu.agents["fails"])
                quick = await service.start_run(emu.agents["quick"])
                await wait_until(
                    lambda: service.run(fails.id).status == "failed" and service.run(quick.id).status == "completed",
                    timeout=5,
                )
            finally:
                await service.close()


async def test_a_finished_run_resumed_elsewhere_is_seen_without_the_team_listing(tmp_path):
    """No team listing: finished runs get a slow look (``idle_interval``) with spare room, so a message
    posted to one from another client (which makes it run again) is noticed."""
    with running_emulator(speed=50, rate_limit=100_000) as emu:
        transport = CountingTransport()
        async with make_client(emu, transport) as client, make_client(emu) as web_app:
            settings = fast_settings(idle_interval=1.0, poke_window=0.5, run_listing=False)
            service, rec = await started(client, tmp_path, settings=settings)
            try:
                run = await service.start_run(emu.agents["quick"])
                await wait_until(lambda: service.run(run.id).status == "completed")
                timer = service.scheduler.timers[run.id]
                await wait_until(lambda: service.clock() >= timer.poked_until + 0.1)  # past the poke window
                # Slow looks only: about one a second, not the active pace (0.2 s here).
                path = f"/v1/runs/{run.id}"
                before = sum(1 for _, p in transport.sent if p == path)
                await asyncio.sleep(2.0)
                looks = sum(1 for _, p in transport.sent if p == path) - before
                assert 1 <= looks <= 3, looks
                emu.state.options.speed = 0.2  # the resumed run stays running for seconds
                posted_at = time.monotonic()
                await web_app.post_message(run.id, "one more thing, please")
                assert emu.state.runs[run.id].status == "running"

                def resumed() -> bool:
                    return any(
                        e.run.id == run.id and e.run.status == "running" and e.previous_status == "completed"
                        for e in rec.of(ev.RunChanged)
                    )

                await wait_until(resumed, timeout=3.0)
                seen_after = time.monotonic() - posted_at
            finally:
                await service.close()
        assert seen_after <= settings.schedule.poll.idle_interval + 0.5, seen_after
