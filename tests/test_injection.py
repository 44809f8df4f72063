"""Markup and terminal escapes in every server field are shown literally and have no effect.

Each test puts one hostile string into one field of the emulator's data (run title, agent name, message
text, tool call, tool result, tool error, sandbox file name, human-request title, description, question,
option, notices), opens the dashboard on it and checks that:

- the markup is on screen as text (``[@click=app.quit]`` is visible, so it was not parsed);
- no cell of the screen carries a click action (so no click can run one);
- clicking across those lines does not quit the app, and nothing is written to files;
- no ESC, C1 or other control character reaches the screen (the SVG export is built from the same
  segments the terminal gets).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from duvo_tui.service import events as ev
from tests.test_hostile_dashboard import (
    SIZE,
    assert_no_escapes,
    inject_run,
    open_dashboard,
    screen_lines,
    show_run,
    wait_until,
)

ESCAPES = "\x1b]52;c;ZXZpbA==\x07\x1b]8;;https://evil.example\x1b\\\x1b]8;;\x1b\\\x1b[2J\x1b[31m\x1b]0;owned\x07\r\x07"


def payload(mark: str, spaced: bool = False) -> str:
    """A field value: a marker, a click action (with a leading space when ``spaced``), markup, escapes."""
    click = "[ @click=app.quit]" if spaced else "[@click=app.quit]"
    return f"{mark}{click}Q[/]{ESCAPES}[b]B[/b][/]"


def visible(mark: str, spaced: bool = False) -> str:
    """What must be on screen: the markup as typed."""
    return f"{mark}[ @click=app.quit]Q[/]" if spaced else f"{mark}[@click=app.quit]Q[/]"


def run_scenario(coro: Any) -> None:
    asyncio.run(asyncio.wait_for(coro, timeout=60))


SHOT_DIR_NAME = "screenshots-would-land-here"

# Every hostile field of the data, by the marker that starts its value.
RUN_FIELDS = ["TITLE", "AGENT", "TEXT", "LINE2", "TOOL", "ARGKEY", "ARGVAL", "RESULT", "ERROR", "RTITLE", "RDESC"]
QUESTION_FIELDS = ["QUESTION", "HEADER", "OPTION", "OPTDESC"]
NOTICE_FIELDS = ["NOTICE", "RUNERR", "AUTH", "LOST"]
FILE_FIELDS = {"FILE": "FILE[@click=app.quit]Q[b]\x1b[2J\r.txt", "DIR": "DIR[b]B[x]\x1b]52;c;ZXZp\x07.csv"}
"""File names cannot hold "/" or NUL; everything else (ESC, CR, brackets) is allowed on disk."""


class Views:
    """What the dashboard showed of the hostile data: screens by name, and what the checks found."""

    def __init__(self) -> None:
        self.screens: dict[str, list[str]] = {}
        self.click_actions: list[tuple[str, int, int, str]] = []
        self.escape_errors: list[str] = []
        self.running_after_clicks = False
        self.files_written: list[str] = []

    def capture(self, app: Any, name: str) -> None:
        self.screens[name] = screen_lines(app)
        try:
            assert_no_escapes(app)
        except AssertionError as error:
            self.escape_errors.append(f"{name}: {error}")

    def text(self) -> str:
        return "\n\n".join("\n".join(lines) for lines in self.screens.values())

    async def scan_clicks(self, app: Any, pilot: Any, name: str, markers: list[str]) -> None:
        """No cell on a marker's row carries a click action; clicking along those rows runs nothing."""
        lines = screen_lines(app)
        rows = [y for y, line in enumerate(lines) if any(m in line for m in markers)]
        for y in rows:
            for x in range(app.size.width):
                meta = app.screen.get_style_at(x, y).meta
                if "@click" in meta:
                    self.click_actions.append((name, x, y, str(meta)))
        # A few real clicks as a backstop (each costs a screen refresh).
        for y in rows[:1]:
            for x in (4, app.size.width // 3, 2 * app.size.width // 3):
                await pilot.click(offset=(x, y))
                if not app.is_running:
                    return


@pytest.fixture(scope="module")
def views(tmp_path_factory) -> Views:
    """Open the dashboard once on runs carrying a hostile value in every field, and look at every view."""
    from duvo_tui.emulator.testing import running_emulator

    out = Views()
    shot_dir = tmp_path_factory.mktemp(SHOT_DIR_NAME)
    shot = f"[@click=app.screenshot('pwned.svg','{shot_dir}')]SHOT[/]"
    with running_emulator(speed=50) as emu:
        call = {"id": "c1", "name": payload("TOOL"), "arguments": {payload("ARGKEY"): payload("ARGVAL")}}
        messages = [
            {
                "type": "text",
                "role": "assistant",
                "text_content": f"{payload('TEXT', True)}\n{payload('LINE2')}\n{shot}",
            },
            {"type": "tool_call", "role": "assistant", "tool_call": call},
            {"type": "tool_result", "role": "tool", "tool_result": {"tool_call_id": "c1", "result": payload("RESULT")}},
            {"type": "tool_result", "role": "tool", "tool_result": {"tool_call_id": "c1", "error": payload("ERROR")}},
        ]
        run_a = inject_run(
            emu,
            title=payload("TITLE", spaced=True),
            agent_name=payload("AGENT"),
            messages=messages,
            files={name: b"x" for name in FILE_FIELDS.values()},
            request={"type": "approval", "title": payload("RTITLE"), "description": payload("RDESC")},
        )
        question = {
            "question": payload("QUESTION"),
            "header": payload("HEADER"),
            "options": [{"label": payload("OPTION"), "description": payload("OPTDESC")}, {"label": "other"}],
        }
        run_b = inject_run(emu, title="questions", request={"type": "question", "title": "t", "questions": [question]})

        async def scenario() -> None:
            app, feed = open_dashboard(emu)
            async with app.run_test(size=SIZE, notifications=True) as pilot:
                await show_run(app, pilot, run_a)
                tree = app.screen_dashboard.query_one("#sandbox-tree")
                await wait_until(pilot, lambda: any(c.data is not None for c in tree.root.children))
                await pilot.pause(0.1)
                out.capture(app, "run")
                stream = app.screen_dashboard.query_one("#message-stream")
                stream.focus()
                await pilot.press("g", "j", "enter")  # expand the tool call: every argument on its own line
                await pilot.pause(0.1)
                out.capture(app, "expanded")
                await pilot.press("x")  # the stop dialog repeats the title
                await pilot.pause(0.1)
                out.capture(app, "stop-dialog")
                await pilot.press("escape")
                app.screen_dashboard.action_show_pane(3)
                await pilot.pause(0.1)
                out.capture(app, "request")
                app.screen_dashboard.run_list.select(run_b)
                app.screen_dashboard.select(run_b)
                app.screen_dashboard.action_show_pane(3)
                await pilot.pause(0.2)
                out.capture(app, "questions")
                for event in (
                    ev.Notice(payload("NOTICE")),
                    ev.RunError("r-1", payload("RUNERR")),
                    ev.AuthFailed(payload("AUTH")),
                    ev.ConnectionLost(payload("LOST")),
                ):
                    feed.emit(event)
                await pilot.pause(0.2)
                out.capture(app, "toasts")
                await out.scan_clicks(app, pilot, "toasts", NOTICE_FIELDS + QUESTION_FIELDS)
                app.screen_dashboard.select(run_a)
                await pilot.pause(0.1)
                await out.scan_clicks(app, pilot, "run", RUN_FIELDS + list(FILE_FIELDS))
                await pilot.pause(0.1)
                out.running_after_clicks = app.is_running and app.return_code is None

        run_scenario(scenario())
    out.files_written = [str(p) for p in shot_dir.rglob("*")]
    return out


def assert_field_safe(views: Views, fragment: str) -> None:
    text = views.text()
    assert fragment in text, f"{fragment!r} not shown literally; screens:\n{text}"
    assert not views.escape_errors, views.escape_errors
    assert not views.click_actions, views.click_actions
    assert views.running_after_clicks, "the app quit or crashed"
    assert not views.files_written, views.files_written


@pytest.mark.parametrize("field", RUN_FIELDS)
def test_run_and_message_fields_are_literal(views, field):
    assert_field_safe(views, visible(field, spaced=field in ("TITLE", "TEXT")))


def test_a_click_action_in_a_message_writes_no_file(views):
    assert_field_safe(views, "[@click=app.screenshot('pwned.svg',")


def test_the_stop_dialog_shows_the_title_literally(views):
    assert visible("TITLE", spaced=True) in "\n".join(views.screens["stop-dialog"])


@pytest.mark.parametrize("field", list(FILE_FIELDS))
def test_sandbox_file_names_are_literal(views, field):
    assert_field_safe(views, {"FILE": "FILE[@click=app.quit]Q[b]", "DIR": "DIR[b]B[x]"}[field])


@pytest.mark.parametrize("field", QUESTION_FIELDS)
def test_question_fields_are_literal(views, field):
    assert_field_safe(views, visible(field))


@pytest.mark.parametrize("field", NOTICE_FIELDS)
def test_notifications_are_literal(views, field):
    assert_field_safe(views, visible(field))
    assert visible(field) in "\n".join(views.screens["toasts"])


def test_typed_filter_text_is_not_markup(tmp_path):
    from duvo_tui.emulator.testing import running_emulator

    with running_emulator(speed=50) as emu:
        inject_run(emu, title="plain")

        async def scenario() -> None:
            app, _ = open_dashboard(emu)
            async with app.run_test(size=SIZE) as pilot:
                await wait_until(pilot, lambda: app.service_started)
                await pilot.press("slash", "left_square_bracket", "slash", "right_square_bracket", "x")
                await pilot.pause(0.1)
                assert app.is_running
                assert "filter: [/]x" in "\n".join(screen_lines(app))

        run_scenario(scenario())
