"""The dashboard against an emulator serving hostile data: it neither crashes nor hangs, and shows it safely.

Hostile runs, messages, requests and files are put straight into the emulator's state (the server a real
client reads over a real socket). :class:`EmulatorFeed` reads them with the real ``DuvoClient`` and hands
them to the app as the service's events, the way ``DuvoService`` does, so these tests exercise everything
from the HTTP answer to the screen.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import re
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from duvo_tui.api.client import DuvoClient
from duvo_tui.api.models import HumanRequest, Message, Run
from duvo_tui.emulator.state import HumanRequestRecord, RunRecord, SandboxRecord, iso
from duvo_tui.service import events as ev
from duvo_tui.service.responder import Outcome, Submission, answer
from duvo_tui.service.store import TrackedRun
from duvo_tui.ui.app import DuvoApp, make_app
from tests.feed_service import wait_until

SIZE = (220, 60)
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class EmulatorFeed:
    """What the dashboard needs of ``DuvoService``, read from the emulator with the real client.

    ``read_all()`` reads the team's runs, each run's detail and messages, and emits the events the service
    would (RunAdded/RunChanged, MessagesAppended, HumanRequestAppeared/Resolved). Commands are passed to
    the client and recorded in ``commands``.
    """

    def __init__(self, client: DuvoClient, team_id: str) -> None:
        self.client = client
        self.team_id = team_id
        self.commands: list[tuple[str, Any]] = []
        self.drafts = None
        self._subscribers: list[Callable[[ev.Event], None]] = []
        self._runs: dict[str, Run] = {}
        self._messages: dict[str, list[Message]] = {}
        self._requests: dict[str, HumanRequest] = {}

    def refresh(self, run_id: str) -> None:
        pass  # everything is read once, at start

    def person_active(self) -> None:
        pass

    async def assignments(self) -> list[Any]:
        return []

    def subscribe(self, callback: Callable[[ev.Event], None]) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def emit(self, event: ev.Event) -> None:
        for callback in list(self._subscribers):
            callback(event)

    async def start(self) -> None:
        await self.read_all()

    async def close(self) -> None:
        await self.client.aclose()

    async def read_all(self) -> None:
        page = await self.client.list_team_runs(self.team_id, limit=100)
        for row in page.runs:
            detail = await self.client.get_run(row.id)
            run = dataclasses.replace(detail.run, title=row.title, agent_name=row.agent_name) if detail.run else row
            if run.id in self._runs:
                self.emit(ev.RunChanged(run, self._runs[run.id].status))
            else:
                self.emit(ev.RunAdded(run, row.agent_name))
            self._runs[run.id] = run
            known = self._messages.setdefault(run.id, [])
            messages = await self.client.list_messages(run.id, limit=100, offset=len(known))
            if messages.messages:
                start = len(known)
                known.extend(messages.messages)
                self.emit(ev.MessagesAppended(run.id, start, messages.messages, messages.total))
            request = detail.pending_human_request
            old = self._requests.get(run.id)
            if request is not None and (old is None or old.id != request.id):
                self._requests[run.id] = request
                self.emit(ev.HumanRequestAppeared(request))
            elif request is None and old is not None:
                del self._requests[run.id]
                self.emit(ev.HumanRequestResolved(run.id, old.id))

    def runs(self) -> list[TrackedRun]:
        return [TrackedRun(run) for run in self._runs.values()]

    def run(self, run_id: str) -> TrackedRun | None:
        run = self._runs.get(run_id)
        return TrackedRun(run) if run is not None else None

    def messages(self, run_id: str) -> list[Message]:
        return list(self._messages.get(run_id, []))

    def pending_requests(self) -> list[HumanRequest]:
        return list(self._requests.values())

    def focus(self, run_id: str | None) -> None:
        self.commands.append(("focus", run_id))

    def budget_snapshot(self) -> Any:
        return self.client.budget.snapshot()

    async def create_sandbox(self) -> Any:
        self.commands.append(("create_sandbox", None))
        return await self.client.create_sandbox()

    async def list_files(self, sandbox_id: str, path: str = "/workspace") -> Any:
        return await self.client.list_files(sandbox_id, path, urgent=True)

    async def start_run(self, agent_id: str, message: str | None = None, sandbox_id: str | None = None) -> Run:
        self.commands.append(("start_run", agent_id))
        return await self.client.start_run(agent_id, message=message, sandbox_id=sandbox_id)

    async def stop_run(self, run_id: str) -> None:
        self.commands.append(("stop_run", run_id))
        await self.client.stop_run(run_id)

    async def post_message(self, run_id: str, text: str) -> None:
        self.commands.append(("post_message", run_id))
        await self.client.post_message(run_id, text)

    async def track(self, run_id: str) -> Run:
        detail = await self.client.get_run(run_id, urgent=True)
        assert detail.run is not None
        return detail.run

    def remember(self, run: Run, origin: str = "started") -> None:
        self.commands.append(("remember", run.id))

    def forget(self, run_id: str) -> None:
        self.commands.append(("forget", run_id))

    uploads_enabled = False  # these tests send no files

    def upload(self, path: Path, sandbox_id: str, dest_dir: str = "/workspace") -> None:
        raise AssertionError("the hostile-data tests send no files")

    def watch(self, folders: Sequence[Any]) -> None:
        raise AssertionError("the hostile-data tests watch no folders")

    async def respond(self, submission: Submission) -> Outcome:
        self.commands.append(("respond", submission.request_id))
        return await answer(self.client.respond, submission)


# --- putting hostile data into the emulator ----------------------------------------------------------------


def inject_run(
    emu: Any,
    *,
    title: str = "a run",
    agent_name: str | None = None,
    status: str = "running",
    messages: list[dict] | None = None,
    request: dict | None = None,
    files: dict[str, bytes] | None = None,
) -> str:
    """A run in the emulator's state with the given (possibly hostile) content; returns its id."""
    state = emu.state

    def build() -> str:
        now = time.time()
        agent = state.agent_by_scenario("quick")
        if agent_name is not None:
            agent = dataclasses.replace(agent, name=agent_name)
        sandbox_id = None
        if files is not None:
            sandbox_id = str(uuid.uuid4())
            root = state.data_dir / "hostile" / sandbox_id
            root.mkdir(parents=True)
            for name, data in files.items():
                (root / name).write_bytes(data)
            state.sandboxes[sandbox_id] = SandboxRecord(sandbox_id, emu.team_id, root, now, now + 3600)
        run = RunRecord(
            id=str(uuid.uuid4()),
            agent=agent,
            team_id=emu.team_id,
            run_number=len(state.runs) + 1,
            title=title,
            status=status,
            created_at=now,
            updated_at=now,
            started_at=now,
            sandbox_id=sandbox_id,
        )
        for body in messages or []:
            run.messages.append({"id": str(uuid.uuid4()), "timestamp": iso(now), **body})
        if request is not None:
            record = HumanRequestRecord(
                id=str(uuid.uuid4()),
                run_id=run.id,
                type=request.get("type", "approval"),
                title=request.get("title", ""),
                description=request.get("description"),
                created_at=now,
                questions=request.get("questions"),
            )
            run.requests[record.id] = record
            run.pending = record
            run.status = "waiting"
        state.runs[run.id] = run
        return run.id

    return state.call(build)


# --- driving the app ---------------------------------------------------------------------------------------


def screen_lines(app: DuvoApp) -> list[str]:
    """The text of every screen line, read back from the SVG screenshot (what a terminal would show)."""
    svg = app.export_screenshot()
    lines: dict[int, list[str]] = {}
    for number, body in re.findall(r'<text [^>]*clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(int(number), []).append(html.unescape(body).replace("\xa0", " "))
    return ["".join(parts) for _, parts in sorted(lines.items())]


def screen_text(app: DuvoApp) -> str:
    return "\n".join(screen_lines(app))


def assert_no_escapes(app: DuvoApp) -> None:
    """Nothing on screen that a terminal would act on: no ESC, C1 or other control characters."""
    svg = app.export_screenshot()
    assert "\x1b" not in svg
    assert not UNSAFE.search(svg), repr(UNSAFE.search(svg).group(0))
    for line in screen_lines(app):
        assert not UNSAFE.search(line)


def open_dashboard(emu: Any) -> tuple[DuvoApp, EmulatorFeed]:
    client = DuvoClient(emu.base_url, emu.api_key)
    feed = EmulatorFeed(client, emu.team_id)
    return make_app(feed), feed


async def show_run(app: DuvoApp, pilot: Any, run_id: str) -> None:
    """Select ``run_id`` and wait until its panes are filled."""
    await wait_until(pilot, lambda: app.service_started)
    await wait_until(pilot, lambda: app.screen_dashboard.run_list.row(run_id) is not None)
    app.screen_dashboard.run_list.select(run_id)
    app.screen_dashboard.select(run_id)
    await pilot.pause(0.1)


# --- the tests ---------------------------------------------------------------------------------------------

ODD = st.sampled_from(
    [
        "",
        "\u200b\u200d\ufeff",
        "\u202eevil\u202c",
        "مرحبا بالعالم",
        "👩‍👩‍👧‍👦🏳️‍🌈",
        "e\u0301\u0301\u0301",
        "x" * 5000,
        "line\n" * 50,
        "\x1b]52;c;ZXZpbA==\x07\x1b[2J\r\x07",
        "[@click=app.quit]q[/]",
        "[/]",
    ]
) | st.text(max_size=40)


@pytest.fixture(scope="module")
def hostile_emulator():
    from duvo_tui.emulator.testing import running_emulator

    with running_emulator(speed=50) as handle:
        yield handle


# Each example opens the dashboard (about a second): few examples, and no shrinking (a failure prints its example).
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    title=ODD,
    agent=ODD,
    status=st.sampled_from(["running", "completed", "exploded", "", "waiting"]) | ODD,
    texts=st.lists(ODD, min_size=1, max_size=4),
    tool_value=ODD,
    request_title=ODD,
    option=ODD,
)
def test_hostile_runs_neither_crash_nor_hang_the_dashboard(
    hostile_emulator, title, agent, status, texts, tool_value, request_title, option
):
    emu = hostile_emulator
    messages: list[dict] = [{"type": "text", "role": "assistant", "text_content": t} for t in texts]
    messages.append(
        {
            "type": "tool_call",
            "role": "assistant",
            "tool_call": {"id": "c", "name": agent, "arguments": {title: tool_value}},
        }
    )
    messages.append(
        {
            "type": "tool_result",
            "role": "tool",
            "tool_result": {"tool_call_id": "c", "result": tool_value, "error": option or None},
        }
    )
    request = {
        "type": "question",
        "title": request_title,
        "description": title,
        "questions": [
            {
                "question": request_title or "q",
                "header": agent,
                "options": [{"label": option or "o", "description": tool_value}],
            }
        ],
    }
    run_id = inject_run(
        emu, title=title, agent_name=agent, status=status or "running", messages=messages, request=request
    )

    async def scenario() -> None:
        app, _feed = open_dashboard(emu)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await show_run(app, pilot, run_id)
            stream = app.screen_dashboard.query_one("#message-stream")
            await pilot.click("#message-stream")
            for key in ("G", "enter", "k", "enter", "t", "w", "w"):
                await pilot.press(key)
            await pilot.pause(0.05)
            assert stream.message_count == len(messages)
            assert_no_escapes(app)
            assert app.is_running and app.return_code is None

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))


def test_the_service_closes_promptly_right_after_a_command(hostile_emulator, tmp_path):
    """Quitting must not hang: a cancel arriving while the poller wakes up must still stop it."""
    from duvo_tui.service.service import DuvoService

    emu = hostile_emulator

    async def scenario() -> None:
        async with DuvoClient(emu.base_url, emu.api_key) as client:
            for attempt in range(5):
                service = DuvoService(client, state_dir=tmp_path / f"state{attempt}", team_id=emu.team_id)
                await service.start()
                await service.start_run(emu.agents["quick"])
                await asyncio.wait_for(service.close(), timeout=5)

    asyncio.run(asyncio.wait_for(scenario(), 40))


def test_a_one_megabyte_argument_and_deep_json_keep_the_dashboard_responsive(hostile_emulator):
    emu = hostile_emulator
    deep: object = "bottom"
    for _ in range(300):
        deep = {"a": [deep]}
    messages = [
        {
            "type": "tool_call",
            "role": "assistant",
            "tool_call": {"id": "c", "name": "w", "arguments": {"blob": "x" * 1_000_000}},
        },
        {"type": "tool_result", "role": "tool", "tool_result": {"tool_call_id": "c", "result": deep}},
        {"type": "text", "role": "assistant", "text_content": "after the big ones"},
    ]
    run_id = inject_run(emu, title="big", messages=messages)

    async def scenario() -> None:
        app, _feed = open_dashboard(emu)
        async with app.run_test(size=SIZE) as pilot:
            await show_run(app, pilot, run_id)
            stream = app.screen_dashboard.query_one("#message-stream")
            stream.focus()
            for keys in (("g", "enter"), ("j", "enter"), ("G",), ("g", "enter", "w")):
                await pilot.press(*keys)
                await pilot.pause(0.05)
            assert "after the big ones" in screen_text(app) or stream.message_count == 3
            assert_no_escapes(app)
            assert app.is_running

    asyncio.run(asyncio.wait_for(scenario(), 40))


def test_runs_without_timestamps_or_known_statuses_sort_and_filter(hostile_emulator):
    """Runs the server describes oddly (no timestamps, unknown or empty statuses) in every sort order."""
    from datetime import UTC, datetime

    odd = [
        Run(id="r-none", status="unknown"),
        Run(id="r-new", status="exploded", created_at=datetime(2100, 1, 1, tzinfo=UTC)),
        Run(id="r-old", status="", updated_at=datetime(1970, 1, 1, tzinfo=UTC), title="[/]"),
        Run(id="r-wait", status="waiting", title="\u202eevil", agent_name="🤖"),
    ]

    async def scenario() -> None:
        app, feed = open_dashboard(hostile_emulator)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: app.service_started)
            for run in odd:
                feed.emit(ev.RunAdded(run, run.agent_name))
            await wait_until(pilot, lambda: all(app.screen_dashboard.run_list.row(r.id) is not None for r in odd))
            app.screen_dashboard.run_list.focus()
            for _ in range(5):
                await pilot.press("o")
                await pilot.pause(0.05)
            await pilot.press("slash", "r", "enter")
            await pilot.pause(0.1)
            assert_no_escapes(app)
            assert app.is_running

    asyncio.run(asyncio.wait_for(scenario(), 30))
