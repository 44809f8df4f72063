"""The dashboard posting text that is not valid UTF-8 (a pasted lone surrogate): a notification says which field
holds it, the draft stays in the box, and nothing reaches the server."""

from __future__ import annotations

import json

import pytest

from duvo_tui.api.client import DuvoClient
from duvo_tui.config import Profile
from duvo_tui.emulator.scenarios import NOTES_QUESTION
from duvo_tui.service.drafts import DraftStore
from duvo_tui.service.service import DuvoService
from duvo_tui.ui.app import make_app
from tests.feed_service import wait_until
from tests.hitl_harness import FormHarness, wait_for_request
from tests.settings import service_settings

FAST = service_settings(min_interval=0.2, focus_status_interval=0.2, interval=0.3, waiting_interval=0.5)


@pytest.mark.parametrize(
    ("draft", "note"),
    [
        (b"caf\xff".decode("utf-8", "surrogateescape"), "(the byte 0xFF at character 4)"),
        ("hi \ud83d", "(a lone surrogate U+D83D at character 4)"),
    ],
    ids=["invalid-byte", "lone-surrogate"],
)
async def test_posting_unencodable_text_notifies_and_keeps_the_draft(emulator, tmp_path, draft, note):
    client = DuvoClient(emulator.base_url, emulator.api_key)
    service = DuvoService(client, FAST, state_dir=tmp_path / "state")
    profile = Profile(name="test", base_url=emulator.base_url, api_key=emulator.api_key)
    app = make_app(service, profile, on_close=client.aclose)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        run = await service.start_run(emulator.agents["quick"], message="ping")
        await wait_until(pilot, lambda: service.run(run.id) is not None and service.run(run.id).status == "completed")
        app.screen_dashboard.select(run.id)
        await pilot.press("2", "i")
        box = app.screen.focused
        assert box is not None and box.id == "post-input"
        sent_before = len(emulator.state.runs[run.id].messages)

        box.value = draft
        await pilot.press("enter")
        expected = f"message: contains bytes that are not valid UTF-8 {note}"
        await wait_until(pilot, lambda: any(n.message == expected for n in app._notifications))

        said = next(n for n in app._notifications if n.message == expected)
        assert said.severity == "error" and said.title == "The message was not sent"
        assert box.value == draft  # what the user typed is kept
        await pilot.pause(0.3)
        assert len(emulator.state.runs[run.id].messages) == sent_before
        assert app.is_running


async def test_an_answer_with_a_lone_surrogate_is_refused_and_the_draft_kept(emulator):
    """The answering form: typing goes to the draft on disk, sending says which answer holds the bad text."""
    async with DuvoClient(emulator.base_url, emulator.api_key, max_retries=0) as client:
        run = await client.start_run(emulator.agents["questions"], message="test")
        request = await wait_for_request(client, run.id)
        app = FormHarness(client.respond)
        async with app.run_test(size=(100, 50)) as pilot:
            app.form.show(request, agent="Invoice Approver")
            await pilot.pause()
            app.form.focus()
            await pilot.pause()
            await pilot.press("1", "2", "tab", *"keep")
            box = app.focused
            assert box is not None and box.value == "keep"
            box.value = "keep \ud83d"  # a paste that carried half of a surrogate pair
            await pilot.pause()
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: app.outcomes, within=20)

            assert app.outcomes[0].kind == "failed"
            expected = (
                "answers (answer 3): contains bytes that are not valid UTF-8 (a lone surrogate U+D83D at character 6)"
            )
            assert app.outcomes[0].message == f"Not sent: {expected}"
            assert expected in app.form.status_text
            draft = DraftStore().load(request.id)
            assert draft is not None and draft.answers[NOTES_QUESTION].text == "keep \ud83d"
            assert emulator.state.runs[run.id].requests[request.id].response is None  # nothing was sent

            box.value = "keep"
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: len(app.outcomes) == 2, within=20)
            assert app.outcomes[1].ok
    assert json.loads(emulator.state.runs[run.id].requests[request.id].response)[NOTES_QUESTION] == "keep"
