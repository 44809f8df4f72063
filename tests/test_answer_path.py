"""An answer's path: form -> pane -> service -> client -> server, and back to the form as one outcome.

The form is told what became of each submission exactly once, whether it failed or went through; the service's
own news of the answered request does not reach the form as a second "answered"."""

from __future__ import annotations

from textual.message import Message

from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
from tests.hitl_harness import dashboard, start_run, wait_until


def _form(app) -> HumanRequestForm:
    return app.screen_dashboard.query_one(HumanRequestForm)


def _waiting(service, run_id: str) -> bool:
    return any(r.run_id == run_id for r in service.pending_requests())


async def test_the_form_receives_exactly_one_outcome_per_submission(emulator, tmp_path):
    messages: list[Message] = []
    async with dashboard(emulator, tmp_path, message_hook=messages.append, max_retries=0) as (app, pilot, service):
        run_id = await start_run(service, emulator, "approval", "Pay the invoices")
        await wait_until(pilot, lambda: _waiting(service, run_id))
        await pilot.press("n")
        await wait_until(pilot, lambda: _form(app).request is not None)

        def sent(kind: type[Message]) -> list:
            # A message is seen by the hook at every node it bubbles through: count each message once.
            return list({id(m): m for m in messages if isinstance(m, kind)}.values())

        def submitted() -> list[HumanRequestForm.Submit]:
            return sent(HumanRequestForm.Submit)

        def finished() -> list[HumanRequestForm.Finished]:
            return sent(HumanRequestForm.Finished)

        # First try: the server fails; the form hears one failure and keeps the answer.
        emulator.state.fail_next(1000, status=502)  # the polls take their share too: enough for the answer
        await pilot.press("a", "y")
        await wait_until(pilot, lambda: finished())
        emulator.state.clear_faults()
        assert [f.outcome.kind for f in finished()] == ["failed"]
        assert "press a or d to send it again" in _form(app).status_text

        # Second try: it goes through; one more outcome, and only one.
        await pilot.press("a", "y")
        await wait_until(pilot, lambda: len(finished()) == 2)
        await wait_until(pilot, lambda: service.run(run_id).status != "waiting", within=15)
        await pilot.pause(0.5)  # the service's news of the answered request has arrived by now

        assert len(submitted()) == 2
        assert [f.outcome.kind for f in finished()] == ["failed", "answered"]
        # Each outcome reached the form once, and no further: nothing else handles it.
        assert sum(isinstance(m, HumanRequestForm.Finished) for m in messages) == 2
        assert all(f.request_id == submitted()[0].request_id for f in finished())
        assert _form(app).status_text.startswith("✓ Approved.")
    record = next(iter(emulator.state.runs[run_id].requests.values()))
    assert record.response is not None
