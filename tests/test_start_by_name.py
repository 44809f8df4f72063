"""The start dialog takes an Assignment's name: one Enter starts the run; an ambiguous name is refused with the
candidates; the hint is whole at 80x24 and 120x40."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from duvo_tui.ui.dialogs import StartRunScreen
from tests.test_ui_dashboard import dashboard, runs, type_text, wait_until


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_one_enter_starts_a_run_of_the_named_assignment(emulator, tmp_path, size):
    async with dashboard(emulator, tmp_path, size=size) as (app, pilot, service):
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))
        field = app.screen.query_one("#agent", Input)
        assert field.content_region.width >= len(field.placeholder), "the hint is not cut"
        await type_text(pilot, "health")
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, StartRunScreen) and service.runs())
        (tracked,) = service.runs()
        assert tracked.run.agent_id == emulator.agents["quick"]
        await wait_until(pilot, lambda: runs(app).row(tracked.id) is not None)


async def test_an_ambiguous_name_is_refused_with_the_candidates(emulator, tmp_path):
    async with dashboard(emulator, tmp_path) as (app, pilot, service):
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen))
        await type_text(pilot, "invoice")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen) and app.screen.error)
        assert "fits 2 Assignments" in app.screen.error and "(legacy)" in app.screen.error
        assert service.runs() == [] and app.screen.query_one("#agent", Input).value == "invoice"


def shown_rows(app) -> list[str]:
    """The Assignments the dialog lists, as the screen shows them: inside the dialog's frame, the lines between
    the Assignment field and the message's label."""
    from tests.screen_reading import screen_lines

    inside = [line.split("█")[1].strip() for line in screen_lines(app) if line.count("█") >= 2]
    start = inside.index("Assignment") + 2
    end = next(i for i, line in enumerate(inside) if line.startswith("Message (optional)"))
    return [line.rstrip("▁▂▃▄▅▆▇ ") for line in inside[start:end] if line]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_the_dialog_lists_assignments_filtered_as_you_type_and_arrows_choose(emulator, tmp_path, size):
    from tests.screen_reading import screen_text

    async with dashboard(emulator, tmp_path, size=size) as (app, pilot, service):
        earlier = await service.start_run(emulator.agents["quick"], message="ping")
        await wait_until(pilot, lambda: runs(app).row(earlier.id) is not None)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen) and app.screen.options)
        await pilot.pause(0.2)
        dialog = app.screen
        # Every Assignment, the last one run first, with its last run; whole buttons and hint at either size.
        rows = shown_rows(app)
        assert rows[0].startswith("Daily Health Check") and "last run now" in rows[0], rows
        assert any("never run" in row for row in rows), rows
        assert len(dialog.options) == len(emulator.state.agents), dialog.options
        shown = screen_text(app)
        assert any("Cancel" in line and "Start" in line for line in shown.splitlines()), shown  # the buttons
        assert "Message (optional)" in shown and "Sandbox id (optional)" in shown, shown
        field = dialog.query_one("#agent", Input)
        assert field.content_region.width >= len(field.placeholder), "the hint is not cut"
        # Filtered as one types: both invoice approvals, nothing else.
        await type_text(pilot, "supplier")
        await pilot.pause(0.2)
        rows = shown_rows(app)
        assert len(rows) == 2 and all(row.startswith("Supplier Invoice Approval") for row in rows), rows
        # ↓ picks the first, ↓ again the second (the legacy one), ↑ back; Enter starts the one picked.
        await pilot.press("down", "down")
        assert dialog.chosen is not None and dialog.chosen.name == "Supplier Invoice Approval (legacy)"
        await pilot.press("up")
        assert dialog.chosen.name == "Supplier Invoice Approval"
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, StartRunScreen) and len(service.runs()) == 2)
        started = {t.run.agent_id for t in service.runs()}
        assert emulator.agents["approval"] in started


async def test_an_alias_or_a_uuid_typed_in_still_starts_and_nothing_fitting_says_so(emulator, tmp_path):
    async with dashboard(emulator, tmp_path, size=(80, 24)) as (app, pilot, service):
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen) and app.screen.options)
        await type_text(pilot, emulator.agents["login"])
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, StartRunScreen) and service.runs())
        assert service.runs()[0].run.agent_id == emulator.agents["login"]
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, StartRunScreen) and app.screen.options)
        await type_text(pilot, "zzz nothing")
        await pilot.pause(0.2)
        assert any("No Assignment fits" in row for row in shown_rows(app)), shown_rows(app)
        await pilot.press("down")  # nothing to pick: the field keeps what was typed
        assert app.screen.chosen is None
        assert app.screen.query_one("#assignments").highlighted is None
        await pilot.press("ctrl+a", "ctrl+k")  # clear the field
        await type_text(pilot, "quick")
        await pilot.pause(0.1)
        assert shown_rows(app) == ["Daily Health Check  (quick)  · never run"]
        assert app.screen.query_one("#assignments").highlighted == 0  # the one Enter starts is lit
        await pilot.press("enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, StartRunScreen) and len(service.runs()) == 2)
        assert {t.run.agent_id for t in service.runs()} == {emulator.agents["login"], emulator.agents["quick"]}
