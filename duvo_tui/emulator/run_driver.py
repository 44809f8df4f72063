"""Drives runs: one asyncio task per run plays its agent's scenario in scaled time.

A scenario is ``async def script(ctx: RunContext)``; it talks through ``ctx`` (text, tool calls, human
requests, sandbox files). Returning completes the run; raising :class:`ScenarioFailed` fails it.

Posting a message to a run (``post_message``):
- running or pending: the user message is appended and the agent acknowledges it shortly after;
- waiting: the user message is appended, the agent replies that it still needs the pending request
  answered, and the run stays ``waiting``;
- completed, interrupted, failed or stopped: the run resumes (``running``), the agent replies to the
  message and the run ends ``completed`` again.
Stopping works on pending, running and waiting runs (status ``stopped``); otherwise it is a no-op.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from duvo_tui.emulator import webhooks
from duvo_tui.emulator.sandbox_store import list_tree, read_text
from duvo_tui.emulator.state import EmulatorState, HumanRequestRecord, RunRecord, iso

__all__ = [
    "ACTIVE",
    "RunContext",
    "ScenarioFailed",
    "delete_run",
    "interrupt_run",
    "post_user_message",
    "start_run",
    "stop_run",
]

ACTIVE = frozenset({"pending", "starting", "running", "waiting"})
"""Statuses in which a run has a live task (and ``stop`` does something)."""

Script = Callable[["RunContext"], Awaitable[None]]


class ScenarioFailed(Exception):
    """Raised by a scenario to end its run ``failed``."""


class RunContext:
    """What a scenario can do to its run."""

    def __init__(self, state: EmulatorState, run: RunRecord, rng: random.Random) -> None:
        self.state = state
        self.run = run
        self.rng = rng

    @property
    def user_message(self) -> str | None:
        return self.run.initial_message

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` of scenario time (divided by the ``speed`` option)."""
        await asyncio.sleep(max(0.0, seconds) / max(self.state.options.speed, 1e-6))

    def say(self, text: str) -> dict[str, Any]:
        return add_message(self.run, "text", "assistant", text_content=text)

    def think(self, text: str) -> dict[str, Any]:
        """The agent's reasoning: a ``thinking`` message."""
        return add_message(self.run, "thinking", "assistant", text_content=text)

    def note(self, text: str) -> dict[str, Any]:
        """A platform note in the conversation: a ``system`` message."""
        return add_message(self.run, "system", "system", text_content=text)

    async def tool(
        self, name: str, arguments: dict[str, Any], result: Any = None, error: str | None = None, delay: float = 0.4
    ) -> str:
        """A tool call, then (after ``delay`` scenario seconds) its result or error. Returns the call id."""
        call_id = "call_" + uuid.UUID(int=self.rng.getrandbits(128)).hex[:20]
        add_message(self.run, "tool_call", "assistant", tool_call={"id": call_id, "name": name, "arguments": arguments})
        if delay:
            await self.pause(delay)
        tool_result: dict[str, Any] = {"tool_call_id": call_id, "result": result}
        if error is not None:
            tool_result["error"] = error
        add_message(self.run, "tool_result", "tool", tool_result=tool_result)
        return call_id

    def files(self) -> list[tuple[str, int]]:
        """(path, size) of every file in the run's sandbox, sorted; empty without a sandbox."""
        sandbox = self.state.sandboxes.get(self.run.sandbox_id or "")
        return list_tree(sandbox.root) if sandbox else []

    def read(self, path: str, limit: int = 400) -> str:
        sandbox = self.state.sandboxes.get(self.run.sandbox_id or "")
        return read_text(sandbox.root, path, limit) if sandbox else ""

    async def ask_approval(self, title: str, description: str | None) -> bool:
        return bool(await self._ask("approval", title, description, None))

    async def ask_questions(self, title: str, description: str | None, questions: list[dict]) -> dict[str, str]:
        return dict(await self._ask("question", title, description, questions))

    async def ask_login(self, title: str, description: str | None) -> None:
        """A login request: a person signs in from the web app (the API cannot answer it).

        The sign-in is taken to happen ``login_wait`` scenario seconds later, or when a test calls
        ``World.complete_login(run_id)``.
        """

        async def signed_in_later() -> None:
            await self.pause(self.state.options.login_wait)
            if request.answer is not None and not request.answer.done():
                answer_request(self.state, self.run, request, True, "signed in from the web app")

        waiter = self.state.spawn(signed_in_later())
        request = self._request("login", title, description, None)
        try:
            await request.answer  # type: ignore[misc]  # _request always sets a future
        finally:
            waiter.cancel()
        await self.pause(0.2)

    def _request(self, kind: str, title: str, description: str | None, questions: list[dict] | None) -> Any:
        run = self.run
        request = HumanRequestRecord(
            id=str(uuid.uuid4()),
            run_id=run.id,
            type=kind,
            title=title,
            description=description,
            created_at=time.time(),
            questions=questions,
            answer=asyncio.get_running_loop().create_future(),
        )
        run.requests[request.id] = request
        run.pending = request
        set_status(run, "waiting")
        webhooks.send_event(self.state, run, "human_request")
        return request

    async def _ask(self, kind: str, title: str, description: str | None, questions: list[dict] | None) -> Any:
        request = self._request(kind, title, description, questions)
        value = await request.answer
        await self.pause(0.2)
        return value


def add_message(run: RunRecord, kind: str, role: str, **fields: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"id": str(uuid.uuid4()), "type": kind, "role": role, "timestamp": iso(time.time())}
    message.update({k: v for k, v in fields.items() if v is not None})
    run.messages.append(message)
    run.updated_at = time.time()
    return message


def set_status(run: RunRecord, status: str) -> None:
    run.status = status
    run.updated_at = time.time()
    if status == "running" and run.started_at is None:
        run.started_at = run.updated_at
    if status in ACTIVE:
        run.completed_at = None
    else:
        run.completed_at = run.updated_at
        run.pending = None


def _finish(state: EmulatorState, run: RunRecord, status: str) -> None:
    set_status(run, status)
    event = {"completed": "run_completed", "failed": "run_failed"}.get(status, "run_interrupted")
    webhooks.send_event(state, run, event)


def start_run(state: EmulatorState, run: RunRecord, script: Script, seed_key: str) -> None:
    """Begin playing ``script`` for ``run`` (call on the server's loop)."""
    rng = random.Random(f"{state.options.seed}:{seed_key}")
    ctx = RunContext(state, run, rng)

    async def play() -> None:
        try:
            await ctx.pause(0.3)
            set_status(run, "running")
            await script(ctx)
        except ScenarioFailed as exc:
            ctx.say(f"The run failed: {exc}")
            _finish(state, run, "failed")
        except Exception as exc:  # a bug in a script must not leave the run "running" forever
            ctx.say(f"The run failed: internal error in the emulator ({type(exc).__name__}).")
            _finish(state, run, "failed")
        else:
            _finish(state, run, "completed")

    run.task = state.spawn(play())


def stop_run(state: EmulatorState, run: RunRecord) -> bool:
    """Stop an active run; False (and nothing done) when it is not active."""
    if run.status not in ACTIVE:
        return False
    if run.task is not None and not run.task.done():
        run.task.cancel()
    add_message(run, "text", "assistant", text_content="Run stopped on request.")
    _finish(state, run, "stopped")
    return True


def interrupt_run(state: EmulatorState, run_id: str) -> None:
    run = state.runs[run_id]
    if run.task is not None and not run.task.done():
        run.task.cancel()
    _finish(state, run, "interrupted")


def delete_run(state: EmulatorState, run_id: str) -> None:
    run = state.runs[run_id]
    if run.task is not None and not run.task.done():
        run.task.cancel()
    run.deleted = True


def answer_request(state: EmulatorState, run: RunRecord, request: HumanRequestRecord, value: Any, text: str) -> None:
    """Record a person's answer and wake the scenario."""
    request.response = text
    request.responded_at = time.time()
    run.pending = None
    set_status(run, "running")
    if request.answer is not None and not request.answer.done():
        request.answer.set_result(value)


def post_user_message(state: EmulatorState, run: RunRecord, text: str) -> dict[str, Any]:
    """Append a user message and make the run react (see the module docstring)."""
    message = add_message(run, "text", "user", text_content=text)
    status = run.status
    if status == "waiting":
        title = run.pending.title if run.pending else "the open request"
        add_message(run, "text", "assistant", text_content=f"Thanks. I still need an answer to “{title}” to go on.")
        return message
    if status in ACTIVE:

        async def acknowledge() -> None:
            await asyncio.sleep(0.2 / max(state.options.speed, 1e-6))
            add_message(run, "text", "assistant", text_content=f"Noted: “{text[:200]}”. I'll take it into account.")

        state.spawn(acknowledge())
        return message

    set_status(run, "running")

    async def resume() -> None:
        await asyncio.sleep(0.5 / max(state.options.speed, 1e-6))
        sandbox = state.sandboxes.get(run.sandbox_id or "")
        files = list_tree(sandbox.root) if sandbox else []
        names = ", ".join(p.rsplit("/", 1)[-1] for p, _ in files[:5]) or "no files"
        reply = f"Picking this up again. You said: “{text[:500]}”. (Sandbox: {names}.)"
        add_message(run, "text", "assistant", text_content=reply)
        await asyncio.sleep(0.3 / max(state.options.speed, 1e-6))
        add_message(run, "text", "assistant", text_content="Done with the follow-up.")
        _finish(state, run, "completed")

    run.task = state.spawn(resume())
    return message
