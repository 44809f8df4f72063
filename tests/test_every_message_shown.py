"""Every message and request a run has is shown: ``system`` and ``thinking`` messages styled apart (thinking
folded to one line, unfolded and folded again by keyboard), a message of an unknown type shown as it came
under its type's name, and a request the dashboard cannot answer (a login request) shown with its title,
description and "answer this in the Duvo web app", counted, with no answer keys.

Runs with odd content are put straight into the emulator's state and read by the real service over a socket.
"""

from __future__ import annotations

import pytest

from duvo_tui.api.models import WEB_APP_ONLY
from duvo_tui.emulator.testing import running_emulator
from duvo_tui.ui.hitl.inbox import InboxScreen
from duvo_tui.ui.stream.message_stream import MessageStream
from tests.feed_service import wait_until
from tests.screen_reading import screen_lines, screen_text
from tests.test_hitl_screen import dashboard
from tests.test_hostile_dashboard import inject_run

SIZES = [(80, 24), (120, 40)]

THOUGHT = "First I compare the totals line by line.\nThen I look at the outliers one at a time."
MESSAGES = [
    {"type": "text", "role": "user", "text_content": "Reconcile the ledger"},
    {"type": "system", "role": "system", "text_content": "Connected to the ledger sandbox"},
    {"type": "thinking", "role": "assistant", "text_content": THOUGHT},
    {"type": "citation", "role": "assistant", "text_content": "See policy 4.2"},
    {"role": "assistant", "text_content": "A message without a type"},
    {"type": 42, "role": "assistant", "text_content": "A numeric type"},
    {"type": "very_long_type_name", "role": "assistant"},
    {"type": "text", "role": "assistant", "text_content": "Done."},
]


@pytest.fixture
def slow_login():
    """An emulator where a login request waits (for a sign-in in the web app) as long as a test needs."""
    with running_emulator(speed=50, login_wait=100_000) as handle:
        yield handle


def own_run(emu, **kwargs) -> str:
    """A run put in the emulator's state, owned by the test key's person (so ``GET /v1/runs`` lists it)."""
    run_id = inject_run(emu, **kwargs)
    user = emu.state.key_users[emu.api_key]
    emu.state.call(lambda: setattr(emu.state.runs[run_id], "user_id", user.id))
    return run_id


def flat(app) -> str:
    """The screen's words in one line, pane borders taken out (a sentence wrapped in a pane reads whole)."""
    return " ".join(screen_text(app).translate(str.maketrans("", "", "┃│▎▊█")).split())


def line_with(app, text: str) -> str:
    found = [line for line in screen_lines(app) if text in line]
    assert found, f"{text!r} is not on screen:\n{screen_text(app)}"
    return found[0]


async def show_messages(app, pilot, run_id: str) -> None:
    runs = app.screen_dashboard.query_one("#run-list")
    await wait_until(pilot, lambda: runs.row(run_id) is not None)
    runs.select(run_id)
    await pilot.press("2")
    stream = app.screen_dashboard.query_one(MessageStream)
    await wait_until(pilot, lambda: stream.run_id == run_id and stream.message_count == len(MESSAGES))
    await pilot.pause(0.2)


@pytest.mark.parametrize("size", SIZES)
async def test_system_thinking_and_unknown_messages_are_each_shown(emulator, tmp_path, size):
    run_id = own_run(emulator, title="ledger", status="completed", messages=MESSAGES)
    async with dashboard(emulator, tmp_path, size) as (app, pilot, _service):
        await show_messages(app, pilot, run_id)
        assert line_with(app, "Connected to the ledger sandbox").lstrip("│┃ ").startswith("system")
        # Thinking: folded to one line under its own label; its second line is not on screen.
        folded = line_with(app, "First I compare the totals")
        assert "▸ thought" in folded
        assert "Then I look" in folded or folded.rstrip(" │┃").endswith("…"), folded
        assert not any(line.lstrip("│┃ ").startswith("Then I look") for line in screen_lines(app))
        # Unknown types: as they came, under their type's name (cut to the label, named in full beside).
        assert line_with(app, "See policy 4.2").lstrip("│┃ ").startswith("citation")
        assert line_with(app, "A numeric type").lstrip("│┃ ").startswith("42 ")
        assert "[very_long_type_name] (no text)" in line_with(app, "very_long_type_name")
        # A message without a type reads as any assistant's message.
        assert line_with(app, "A message without a type").lstrip("│┃ ").startswith("assistant")

        # Styled apart: system text and thinking are italic, thinking in the muted colour.
        stream = app.screen_dashboard.query_one(MessageStream)
        thinking_style = stream.get_component_rich_style("message-stream--thinking")
        system_style = stream.get_component_rich_style("message-stream--system-text")
        assert thinking_style.italic and system_style.italic
        assert thinking_style.color != system_style.color

        # The expand key is offered, and unfolds then folds the thought again.
        stream.focus()
        await pilot.press("g", "j", "j")
        await pilot.pause(0.1)
        assert "⏎ Expand" in screen_lines(app)[-1]
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "▾ thought" in line_with(app, "First I compare the totals")
        assert any(line.lstrip("│┃ ").startswith("Then I look at the outliers") for line in screen_lines(app))
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert "▸ thought" in line_with(app, "First I compare the totals")
        assert not any(line.lstrip("│┃ ").startswith("Then I look") for line in screen_lines(app))


async def test_a_thought_and_an_unknown_type_are_copied_whole(emulator, tmp_path):
    from duvo_tui.ui.stream.message_layout import message_plain_text

    run_id = own_run(emulator, title="ledger", status="completed", messages=MESSAGES)
    async with dashboard(emulator, tmp_path, (120, 40)) as (app, pilot, service):
        await show_messages(app, pilot, run_id)
        texts = [message_plain_text(m) for m in service.messages(run_id)]
        assert texts[2].endswith("thought: " + THOUGHT)
        assert texts[6].endswith("very_long_type_name: (no text)")
        assert texts[5].endswith("42: A numeric type")


@pytest.mark.parametrize("size", SIZES)
async def test_a_login_request_is_shown_counted_and_offers_no_answer_keys(slow_login, tmp_path, size):
    emu = slow_login
    async with dashboard(emu, tmp_path, size) as (app, pilot, service):
        run = await service.start_run(emu.agents["login"], message="this week's sign-ups")
        await wait_until(pilot, lambda: run.id in app.screen_dashboard.requests)
        await pilot.pause(0.2)
        assert "◆ 1 waiting" in screen_lines(app)[0]
        announced = [str(n.message) for n in app._notifications if "Sign in to Salesforce" in str(n.message)]
        assert announced and WEB_APP_ONLY in announced[0] and "answer it)" not in announced[0], announced
        app.screen_dashboard.query_one("#run-list").select(run.id)
        await pilot.press("4")
        await pilot.pause(0.3)
        shown = screen_text(app)
        words = flat(app)
        assert "Login request" in shown and "Sign in to Salesforce" in shown, shown
        assert WEB_APP_ONLY in words, shown
        description = emu.state.runs[run.id].pending.description
        assert " ".join(description.split())[:30] in words, shown
        assert "approve" not in words and "ctrl+s send" not in words, shown
        # The answer keys only repeat where to answer: no confirmation asked, no dialog, nothing sent.
        await pilot.press("a", "y", "d", "y", "ctrl+s")
        await pilot.pause(0.3)
        assert app.sent == [] and app.screen is app.screen_dashboard
        assert "Press y" not in screen_text(app) and WEB_APP_ONLY in flat(app)
        assert emu.state.runs[run.id].pending is not None
        # Counted in the inbox, with the same sentence.
        await pilot.press("1", "N")
        await wait_until(pilot, lambda: isinstance(app.screen, InboxScreen))
        await pilot.pause(0.2)
        inbox = flat(app)
        assert "1 request(s)" in inbox and "Sign in to Salesforce" in inbox, inbox
        assert f"login request Sign in to Salesforce ({WEB_APP_ONLY})" in inbox, inbox
        await pilot.press("escape")
        # Signed in from the web app: the request goes, and the form says where it was answered.
        emu.state.complete_login(run.id)
        await wait_until(pilot, lambda: run.id not in app.screen_dashboard.requests)


@pytest.mark.parametrize("size", SIZES)
async def test_requests_with_no_title_or_an_unknown_type_are_shown(emulator, tmp_path, size):
    untitled = own_run(emulator, title="untitled", request={"type": "approval", "title": ""})
    odd = own_run(
        emulator,
        title="odd",
        request={"type": "mfa_code", "title": "", "description": "Type the code from your phone"},
    )
    async with dashboard(emulator, tmp_path, size) as (app, pilot, _service):
        waiting = app.screen_dashboard.requests
        await wait_until(pilot, lambda: untitled in waiting and odd in waiting)
        await pilot.pause(0.2)
        assert "◆ 2 waiting" in screen_lines(app)[0]
        runs = app.screen_dashboard.query_one("#run-list")
        runs.select(odd)
        await pilot.press("4")
        await pilot.pause(0.3)
        words = flat(app)
        assert "Mfa_code request" in words and "(untitled request)" in words, words
        assert "Type the code from your phone" in words and WEB_APP_ONLY in words, words
        assert "approve" not in words, words
        await pilot.press("1")
        runs.select(untitled)
        await pilot.press("4")
        await pilot.pause(0.3)
        words = flat(app)
        assert "Approval" in words and "(untitled request)" in words and "a approve" in words, words
