"""What the request form shows as a person moves through it, at 80x24 and 120x40: the option under the cursor
is on screen however many options a question has, and the key line offers only keys that work now."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll

from duvo_tui.api.models import HumanRequest, Question, QuestionOption
from duvo_tui.service.drafts import DraftStore
from duvo_tui.ui.hitl.hitl_choices import ChoiceList
from duvo_tui.ui.hitl.hitl_form import HumanRequestForm
from tests.screen_reading import screen_lines, screen_text

SIZES = [(80, 24), (120, 40)]

MANY = HumanRequest(
    id="req-many",
    run_id="run-many",
    title="Where should the shipment go?",
    type="question",
    questions=(
        Question(
            "Which warehouse should ship the order?",
            header="Warehouse",
            options=tuple(
                QuestionOption(f"Warehouse {n:02d}", description=f"Dock {n}, opens at {6 + n % 4}:00")
                for n in range(1, 41)
            ),
        ),
        Question("Anything the driver should know?", header="Notes"),
    ),
)


class FormInAPane(App):
    """Only the form, in a scrolling pane that fills the screen (as the dashboard's request pane does)."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="pane"):
            yield HumanRequestForm(drafts=DraftStore(), id="form")


def cursor_line(app: App) -> str:
    """The screen line that carries the cursor's pointer (``▸``); fails when no line shows it."""
    lines = [line for line in screen_lines(app) if "▸" in line]
    assert len(lines) == 1, "the cursor's row is not on screen:\n" + screen_text(app)
    return lines[0]


@pytest.mark.parametrize("size", SIZES)
async def test_the_cursor_row_stays_on_screen_through_forty_options(tmp_path, size):
    app = FormInAPane()
    async with app.run_test(size=size) as pilot:
        form = app.query_one(HumanRequestForm)
        form.show(MANY, agent="Shipping")
        await pilot.pause()
        form.focus()
        await pilot.pause()
        choices = form.query_one(ChoiceList)
        assert app.screen.focused is choices
        # Every step moves the cursor; the screen is read back at steps spread over the list and at both ends.
        looks = {1, 8, 15, 22, 29, 36, 39, 40}
        for step in range(1, 41):
            await pilot.press("down")
            if step in looks:
                await pilot.pause()
                expected = "Other (type an answer of your own)" if step == 40 else f"Warehouse {step + 1:02d}"
                assert expected in cursor_line(app), f"after {step} x down"
        await pilot.press("down")  # round to the first option again: the pane scrolls back up
        await pilot.pause()
        assert "Warehouse 01" in cursor_line(app)
        await pilot.press("up")  # and round from the first to the last row: down it scrolls again
        await pilot.pause()
        assert "Other (type an answer of your own)" in cursor_line(app)
        for step in range(1, 4):
            await pilot.press("up")
            await pilot.pause()
            assert f"Warehouse {41 - step:02d}" in cursor_line(app), f"after {step} x up from the last row"
        # Picking moves on to the next question, and that one is on screen too.
        await pilot.press("space")
        await pilot.pause()
        assert "Anything the driver should know?" in screen_text(app)


def approval(request_id: str) -> HumanRequest:
    return HumanRequest(id=request_id, run_id="run-" + request_id, title="Pay invoice 42?", type="approval")


@pytest.mark.parametrize("size", SIZES)
async def test_the_approval_key_line_offers_n_only_when_another_request_waits(size):
    app = FormInAPane()
    async with app.run_test(size=size) as pilot:
        form = app.query_one(HumanRequestForm)
        form.show(approval("only"), agent="Invoices", waiting_elsewhere=0)
        await pilot.pause()
        shown = screen_text(app)
        assert "a approve" in shown and "d deny" in shown
        assert "n next" not in shown, shown
        form.show(approval("first"), agent="Invoices", waiting_elsewhere=2)
        await pilot.pause()
        await pilot.pause()
        assert "n next" in screen_text(app)
        # The other request was answered elsewhere: the same request is shown again, and n goes from its line.
        form.show(approval("first"), agent="Invoices", waiting_elsewhere=0)
        await pilot.pause()
        assert "n next" not in screen_text(app)


@pytest.mark.parametrize("size", SIZES)
async def test_on_the_dashboard_n_next_shows_once_a_second_request_waits(emulator, tmp_path, size):
    from tests.feed_service import wait_until
    from tests.test_hitl_screen import dashboard

    async with dashboard(emulator, tmp_path, size) as (app, pilot, service):
        await service.start_run(emulator.agents["approval"], message="pay")
        await wait_until(pilot, lambda: len(app.screen_dashboard.requests) == 1)
        await pilot.press("n")
        await wait_until(pilot, lambda: "a approve" in screen_text(app) and "a Approve" in screen_lines(app)[-1])
        assert "n next" not in screen_text(app), screen_text(app)
        assert "Next waiting" not in screen_lines(app)[-1]  # nor in the footer, once it shows the form's keys
        await service.start_run(emulator.agents["questions"], message="report")
        await wait_until(pilot, lambda: len(app.screen_dashboard.requests) == 2)
        await wait_until(pilot, lambda: "n next" in screen_text(app))
        assert "a approve" in screen_text(app)
        await wait_until(pilot, lambda: "Next waiting" in screen_lines(app)[-1])  # the footer follows
        form = app.screen_dashboard.query_one("#hitl-form")
        shown = form.request.id
        await pilot.press("n")  # and it goes there: to the other request
        await wait_until(pilot, lambda: form.request is not None and form.request.id != shown)
        # The request now shown is read by its title. (Its kind line above it may be scrolled off by a line at
        # 120x40: the pane keeps the whole first question in view, and there the head wraps to two lines.)
        title = form.request.title
        await wait_until(pilot, lambda: title in screen_text(app), explain=lambda: screen_text(app))


@pytest.mark.parametrize("size", SIZES)
async def test_a_request_answered_elsewhere_offers_n_only_when_another_request_waits(size):
    login = HumanRequest(id="req-login", run_id="run-login", title="Sign in to the ERP", type="login")
    app = FormInAPane()
    async with app.run_test(size=size) as pilot:
        form = app.query_one(HumanRequestForm)
        form.show(login, agent="Importer", waiting_elsewhere=0)
        await pilot.pause()
        assert "Nothing can be sent from here" in screen_text(app)
        assert "n next" not in screen_text(app)
        form.show(login, agent="Importer", waiting_elsewhere=1)
        await pilot.pause()
        assert "n next" in screen_text(app)
