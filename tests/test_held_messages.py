"""The bound on the messages the service holds: the runs looked at least recently give theirs up first."""

from __future__ import annotations

from duvo_tui.api.client import DuvoClient
from duvo_tui.api.models import Message, Run
from duvo_tui.emulator.testing import EmulatorHandle, running_emulator
from duvo_tui.service import DuvoService
from duvo_tui.service.poller import MESSAGE_PAGE
from duvo_tui.service.store import RunStore
from tests.settings import service_settings
from tests.test_service import fast_settings, wait_until

BOUND = 300
CHATTY = 140  # messages per chatty run: one run fits under the bound, three do not


def _messages(run_id: str, count: int) -> list[Message]:
    return [Message(id=f"{run_id}-{i}", role="assistant") for i in range(count)]


def _store_with(*counts: int) -> RunStore:
    store = RunStore()
    for index, count in enumerate(counts):
        tracked, _ = store.add(Run(id=f"r{index}"))
        tracked.messages = _messages(tracked.id, count)
        tracked.message_total = count
    return store


def test_drop_order_is_least_recently_looked_at_first_and_never_the_kept_run() -> None:
    store = _store_with(100, 100, 100, 100)
    for run_id in ("r2", "r0", "r3", "r1"):  # looked at in this order: r2 is the oldest look
        store.touch(run_id)

    assert store.drop_messages(400) == []
    assert store.held_total() == 400

    dropped = store.drop_messages(250, keep="r2")
    assert dropped == ["r0", "r3"]  # r2 is kept although it was looked at first
    assert store.held_total() == 200
    assert [t.held for t in store.all()] == [0, 100, 100, 0]
    # A dropped run keeps its total, and pages in again from the start.
    assert store.get("r0").message_total == 100
    assert store.get("r0").held == 0

    # The kept run alone may exceed the bound; every other run is dropped.
    assert store.drop_messages(50, keep="r2") == ["r1"]
    assert store.held_total() == 100


def test_runs_never_looked_at_go_first_in_the_order_they_were_tracked() -> None:
    store = _store_with(10, 10, 10)
    store.touch("r0")
    assert store.drop_messages(15) == ["r1", "r2"]
    assert store.get("r0").held == 10


async def _server_ids(client: DuvoClient, run_id: str) -> list[str]:
    ids: list[str] = []
    while True:
        page = await client.list_messages(run_id, limit=50, offset=len(ids))
        ids.extend(m.id for m in page.messages)
        if not page.messages or len(ids) >= page.total:
            return ids


async def test_held_messages_stay_bounded_and_a_dropped_run_pages_in_again() -> None:
    with running_emulator(speed=400, chatty_messages=CHATTY) as emu:
        client = DuvoClient(emu.base_url, emu.api_key, max_retries=1, backoff_base=0.05)
        settings = fast_settings(max_held_messages=BOUND)
        service = DuvoService(client, settings=settings, state_dir=None)
        poller = service.poller
        settled: list[int] = []
        dropped_while_focused: list[str] = []
        apply = poller.apply_messages
        drop = service.store.drop_messages

        def apply_and_record(run_id, offset, page):
            apply(run_id, offset, page)
            settled.append(service.store.held_total())

        def drop_and_record(bound, keep=None):
            dropped = drop(bound, keep)
            if service.scheduler.focused in dropped:
                dropped_while_focused.append(service.scheduler.focused)
            return dropped

        poller.apply_messages = apply_and_record  # type: ignore[method-assign]
        service.store.drop_messages = drop_and_record  # type: ignore[method-assign]
        await service.start()
        try:
            chatty = emu.agents["chatty"]
            quick = emu.agents["quick"]
            runs = [await service.start_run(agent, "go") for agent in (chatty, quick, chatty, chatty)]
            totals: dict[str, int] = {}
            for run in runs:  # focus each in turn until all of it is held
                service.focus(run.id)
                await wait_until(lambda r=run: _complete(service, r.id, emu), timeout=20)
                assert service.scheduler.focused == run.id
                totals[run.id] = service.run(run.id).held

            first = runs[0].id
            assert service.run(first).held == 0, "the run looked at longest ago gave its messages up"
            assert totals[first] > CHATTY
            assert service.run(first).message_total == totals[first]
            assert not service.scheduler.timers[first].follow, "a dropped run is not fetched in the background"
            assert service.messages(first) == []

            service.focus(first)
            await wait_until(lambda: _complete(service, first, emu), timeout=20)
            assert [m.id for m in service.messages(first)] == await _server_ids(client, first)
            assert service.run(first).held == totals[first]
        finally:
            await service.close()
            await client.aclose()

    assert settled, "no messages page was applied"
    assert max(settled) <= BOUND + MESSAGE_PAGE
    assert max(settled) <= BOUND  # each run fits under the bound, so after a page settles all do
    assert dropped_while_focused == []


def _complete(service: DuvoService, run_id: str, emu: EmulatorHandle) -> bool:
    """Finished, and every message the server has is held (a total read before the run finished is not enough: on a
    loaded machine the finished status can arrive while the last page fetched still counts fewer messages)."""
    tracked = service.run(run_id)
    record = emu.state.runs[run_id]
    return (
        tracked is not None
        and tracked.run.status.is_finished
        and record.status == tracked.run.status
        and tracked.message_total == len(record.messages) > 0
        and tracked.held == tracked.message_total
    )


async def test_the_dashboard_shows_a_dropped_run_whole_when_it_is_selected_again(tmp_path) -> None:
    """After its messages were dropped, selecting the run again shows every message once, in order."""
    from duvo_tui.config import Profile
    from duvo_tui.ui.app import make_app
    from duvo_tui.ui.stream.message_stream import MessageStream, message_plain_text
    from tests.feed_service import wait_until as settle

    with running_emulator(speed=400, chatty_messages=CHATTY) as emu:
        client = DuvoClient(emu.base_url, emu.api_key)
        settings = service_settings(
            min_interval=0.2,
            focus_status_interval=0.2,
            interval=0.3,
            waiting_interval=0.5,
            max_interval=1.0,
            max_held_messages=BOUND,
        )
        service = DuvoService(client, settings, state_dir=tmp_path / "state")
        profile = Profile(name="test", base_url=emu.base_url, api_key=emu.api_key)
        app = make_app(service, profile, on_close=client.aclose)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, lambda: app.service_started)
            stream = app.query_one(MessageStream)
            runs = [await service.start_run(emu.agents["chatty"], message="go") for _ in range(3)]
            for run in runs:
                app.screen_dashboard.select(run.id)
                await settle(pilot, lambda r=run: _complete(service, r.id, emu), within=20)
            first = runs[0].id
            assert service.run(first).held == 0

            app.screen_dashboard.select(first)
            await settle(pilot, lambda: _complete(service, first, emu), within=20)
            await settle(pilot, lambda: stream.message_count == service.run(first).held)
            server: list[Message] = []
            while len(server) < service.run(first).message_total:
                page = await client.list_messages(first, limit=50, offset=len(server))
                server.extend(page.messages)
            assert stream.run_id == first
            assert stream.transcript() == "\n\n".join(message_plain_text(m) for m in server) + "\n"
