"""A small app holding only the answering form, wired to the real client the way the dashboard wires it to the
service: a Submit message goes to an exclusive worker, and the outcome comes back to the form."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from duvo_tui.api.models import HumanRequest
from duvo_tui.service.drafts import DraftStore
from duvo_tui.service.responder import Outcome, Submission, answer
from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
from tests.feed_service import wait_until
from tests.settings import service_settings


class FormHarness(App):
    """The form in a scrolling pane; submissions go through ``respond`` (e.g. ``DuvoClient.respond``)."""

    def __init__(self, respond: Any, drafts: DraftStore | None = None) -> None:
        super().__init__()
        self.respond = respond
        self.drafts = drafts if drafts is not None else DraftStore()
        self.submitted: list[HumanRequestForm.Submit] = []
        self.outcomes: list[Outcome] = []
        self.keys: list[str | None] = []
        """The Idempotency-Key of each answer sent (the client's retries inside reuse it)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield HumanRequestForm(drafts=self.drafts, id="form")

    @property
    def form(self) -> HumanRequestForm:
        return self.query_one(HumanRequestForm)

    @on(HumanRequestForm.Submit)
    def _on_submit(self, event: HumanRequestForm.Submit) -> None:
        self.submitted.append(event)
        self._send(event)

    @work(exclusive=True, group="hitl", exit_on_error=False)
    async def _send(self, event: HumanRequestForm.Submit) -> None:
        submission = Submission(event.run_id, event.request_id, event.approved, event.answers)
        outcome = await answer(self._respond, submission, self.drafts)
        self.outcomes.append(outcome)
        self.form.post_message(HumanRequestForm.Finished(event.request_id, outcome))

    async def _respond(self, run_id: str, request_id: str, **kwargs: Any) -> object:
        self.keys.append(kwargs.get("idempotency_key"))
        return await self.respond(run_id, request_id, **kwargs)


async def wait_for_request(client: Any, run_id: str, limit: float = 10.0) -> HumanRequest:
    """Poll the run until it waits for a person; its pending request."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        detail = await client.get_run(run_id)
        if detail.pending_human_request is not None:
            return detail.pending_human_request
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} never asked for a person")


# The emulator runs scenarios 200x faster than real time, so the longest interval shrinks with it: with the
# default 30 s an unfocused run that looks unchanged a few times backs off past these tests' time limits.
FAST = service_settings(
    min_interval=0.2, focus_status_interval=0.2, interval=0.3, waiting_interval=0.5, max_interval=1.0
)


@contextlib.asynccontextmanager
async def dashboard(
    emulator: Any, tmp_path: Any, size: tuple[int, int] = (120, 40), message_hook: Any = None, **client_options: Any
) -> AsyncIterator[Any]:
    """The dashboard on a real service over a real client against ``emulator``; closed afterwards.
    ``message_hook`` sees every Textual message; ``client_options`` go to the client (``max_retries=0``...)."""
    from duvo_tui.api.client import DuvoClient
    from duvo_tui.config import Profile
    from duvo_tui.service.service import DuvoService
    from duvo_tui.ui.app import make_app

    client = DuvoClient(emulator.base_url, emulator.api_key, **client_options)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    profile = Profile(name="test", base_url=emulator.base_url, api_key=emulator.api_key)
    app = make_app(service, profile, on_close=client.aclose)
    async with app.run_test(size=size, message_hook=message_hook) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        yield app, pilot, service


async def start_run(service: Any, emulator: Any, scenario: str, message: str) -> str:
    """Start a run of ``scenario`` through the service; its id."""
    run = await service.start_run(emulator.agents[scenario], message=message)
    return run.id


async def type_text(pilot: Any, text: str) -> None:
    """Type ``text`` key by key."""
    for char in text:
        await pilot.press(char if char != " " else "space")
