"""Hostile but schema-valid server data: every model parses it, and cleaned text is safe to show.

Odd values of the right JSON type (unknown statuses, empty and huge strings, lone surrogates from
``\\ud800`` escapes, bytes that are not UTF-8 decoded with replacement, right-to-left and zero-width
characters, emoji, negative or absurd totals, timestamps that are not timestamps) go through the parsers,
then through :func:`duvo_tui.text.clean` and the message layout, which must neither raise nor let a
control character or escape sequence through.
"""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from duvo_tui.api.models import (
    HumanRequest,
    Message,
    MessagePage,
    Run,
    RunDetail,
    SandboxFile,
    TeamRunPage,
    ToolCall,
)
from duvo_tui.text import clean, clean_line
from duvo_tui.ui.stream.message_layout import Layout, LineStyles, message_lines, message_plain_text, wrapped_height

UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
UNSAFE_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")

ODD_PIECES = [
    "",
    " ",
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\ufeff",  # BOM
    "\u202e",  # right-to-left override
    "\u2067",  # right-to-left isolate
    "مرحبا بالعالم",  # Arabic
    "שלום",  # Hebrew
    "👩‍👩‍👧‍👦",  # family emoji (joined)
    "🏳️‍🌈",
    "e\u0301\u0301\u0301",  # stacked combining marks
    "\ud800",  # lone high surrogate (JSON "\ud800" decodes to this)
    "\udfff",
    "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: clipboard write
    "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
    "\x1b[2J\x1b[H",  # CSI clear screen
    "\x9b31m",  # 8-bit CSI
    "\x9d0;title\x9c",  # 8-bit OSC
    "\x1bP+q\x1b\\",  # DCS
    "\r",
    "\x07",
    "\x00",
    "[@click=app.quit]x[/]",
    "[/]",
    "[ @click=app.quit]",
    "$variable",
    "\\",
]

hostile_text = st.lists(
    st.sampled_from(ODD_PIECES) | st.text(max_size=8) | st.text(st.characters(codec=None), max_size=8),
    max_size=6,
).map("".join)
"""Strings built from odd pieces and arbitrary code points (surrogates included)."""

non_utf8 = st.binary(max_size=40).map(lambda raw: raw.decode("utf-8", errors="replace"))
surrogate_escaped = st.binary(max_size=40).map(lambda raw: raw.decode("utf-8", errors="surrogateescape"))
any_text = hostile_text | non_utf8 | surrogate_escaped

odd_statuses = st.sampled_from(["", "unknown", "RUNNING", "paused", "archived", "🚀", "waiting\x1b[2J"]) | any_text
odd_timestamps = (
    st.sampled_from(
        ["", "now", "yesterday", "0", "-1", "9999-99-99T99:99:99Z", "2026-13-45T00:00:00Z", "2026-11-29T01:02:03+25:00"]
    )
    | any_text
)
absurd_ints = st.sampled_from([-1, -(2**63), 2**63, 2**200, 0]) | st.integers()

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_safe(text: str, *, one_line: bool = False) -> None:
    """``text`` holds no control character, escape, C1 control or lone surrogate."""
    assert "\x1b" not in text
    pattern = UNSAFE_ONE_LINE if one_line else UNSAFE
    assert not pattern.search(text), repr(text)
    assert not SURROGATE.search(text), repr(text)
    text.encode("utf-8")  # what a terminal, a file or the clipboard gets


@st.composite
def run_objects(draw) -> dict:
    return {
        "id": draw(st.uuids().map(str) | any_text.filter(bool)),
        "agent_id": draw(any_text),
        "status": draw(odd_statuses),
        "title": draw(any_text),
        "agent_name": draw(any_text),
        "created_at": draw(odd_timestamps),
        "updated_at": draw(odd_timestamps),
        "sandbox_id": draw(st.none() | any_text),
        "human_in_the_loop_enabled": draw(st.booleans()),
    }


@st.composite
def request_objects(draw) -> dict:
    options = draw(
        st.lists(st.fixed_dictionaries({"label": any_text, "description": st.none() | any_text}), max_size=3)
    )
    question = {
        "question": draw(any_text),
        "header": draw(any_text),
        "options": options,
        "multi_select": draw(st.booleans()),
    }
    return {
        "id": draw(st.uuids().map(str)),
        "title": draw(any_text),
        "description": draw(st.none() | any_text),
        "type": draw(st.sampled_from(["approval", "question", "", "survey", "🤖"])),
        "created_at": draw(odd_timestamps),
        "questions": [question],
    }


@st.composite
def message_objects(draw) -> dict:
    kind = draw(st.sampled_from(["text", "tool_call", "tool_result", "weird"]))
    body: dict = {
        "id": draw(st.uuids().map(str)),
        "type": kind,
        "role": draw(st.sampled_from(["user", "assistant", "tool", "system", "", "narrator"]) | any_text),
        "timestamp": draw(odd_timestamps),
        "text_content": draw(st.none() | any_text),
    }
    if kind == "tool_call":
        args = draw(st.dictionaries(any_text, any_text | absurd_ints, max_size=3) | any_text)
        body["tool_call"] = {"id": draw(any_text), "name": draw(any_text), "arguments": args}
    if kind == "tool_result":
        body["tool_result"] = {
            "tool_call_id": draw(any_text),
            "result": draw(st.none() | any_text | st.lists(any_text, max_size=3)),
            "error": draw(st.none() | any_text),
        }
    return body


def rendered(message: Message) -> list[str]:
    """Every screen line and the plain text of ``message``, collapsed and expanded, wrapped and not."""
    out = [message_plain_text(message)]
    for expanded in (False, True):
        for layout in (Layout(width=60), Layout(width=30, timestamps=True, wrap=False)):
            lines = message_lines(message, expanded, layout, LineStyles())
            out += [line.plain for line in lines]
            if layout.wrap:
                assert len(lines) == wrapped_height(message, expanded, layout)
    return out


@FAST
@given(any_text)
@example("\x1b\x1b]52;c;x\x07")
@example("\x1b\x00[31m")
@example("\x9b\x1b[1m\ud800")
def test_clean_never_lets_a_control_or_escape_through(text):
    assert_safe(clean(text))
    assert_safe(clean_line(text), one_line=True)
    assert_safe(clean_line(text, 10), one_line=True)
    assert len(clean_line(text, 10)) <= 10


@FAST
@given(run_objects())
def test_runs_with_odd_values_parse_and_show_safely(row):
    run = Run.from_json(row)
    assert run is not None and run.status
    page = TeamRunPage.from_json({"data": [row, row], "total": -5})
    assert page.total >= len(page.runs) == 2
    for value in (run.title, run.agent_name, run.status, run.agent_id, run.id):
        assert_safe(clean_line(value), one_line=True)


@FAST
@given(run_objects(), request_objects())
def test_human_requests_with_odd_values_parse_and_show_safely(run, request):
    detail = RunDetail.from_json({"run": run, "pending_human_request": request})
    pending = detail.pending_human_request
    assert pending is not None and pending.run_id == detail.run.id
    from duvo_tui.ui.hitl.human_request_view import request_text

    assert_safe(request_text(pending).plain)


@FAST
@given(st.lists(message_objects(), max_size=4), absurd_ints, absurd_ints)
def test_messages_with_odd_values_parse_and_render_safely(messages, total, offset):
    page = MessagePage.from_json({"messages": messages, "total": total, "offset": offset, "limit": -3})
    assert len(page.messages) == len(messages)
    assert page.total >= page.offset + len(page.messages) and page.limit >= 0
    for message in page.messages:
        for line in rendered(message):
            assert_safe(line)


@FAST
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "name": any_text,
                "path": any_text,
                "type": st.sampled_from(["file", "dir", "link"]),
                "size_bytes": absurd_ints,
            }
        ),
        max_size=4,
    )
)
def test_sandbox_listings_with_odd_values_parse(files):
    listing = SandboxFile.list_from_json({"files": files})
    assert all(f.size_bytes >= 0 for f in listing)
    for entry in listing:
        assert_safe(clean_line(entry.name), one_line=True)


def test_a_one_megabyte_tool_argument_parses_and_renders_in_bounded_lines():
    huge = "x" * 1_000_000
    raw = {
        "id": "m",
        "type": "tool_call",
        "role": "assistant",
        "tool_call": {"id": "c", "name": "w", "arguments": {"blob": huge}},
    }
    message = Message.from_json(json.loads(json.dumps(raw)))
    assert message.tool_call.arguments["blob"] == huge
    layout = Layout(width=80)
    collapsed = message_lines(message, False, layout, LineStyles())
    assert len(collapsed) == 1 and len(collapsed[0].plain) <= 80
    # Expanded, every piece fits the width and nothing is lost.
    expanded = message_lines(message, True, layout, LineStyles())
    assert all(len(line.plain) <= 80 for line in expanded)
    assert sum(line.plain.count("x") for line in expanded) == len(huge)


def test_a_one_megabyte_tool_argument_as_a_json_string_parses():
    arguments = json.dumps({"blob": "y" * 1_000_000, "nested": [[[[1]]]]})
    call = ToolCall.from_json({"id": "c", "name": "w", "arguments": arguments})
    assert call.arguments["nested"] == [[[[1]]]] and len(call.arguments["blob"]) == 1_000_000


def test_deeply_nested_json_values_render():
    deep: object = "bottom"
    for _ in range(250):
        deep = {"a": [deep]}
    message = Message.from_json(
        {"id": "m", "type": "tool_call", "role": "assistant", "tool_call": {"id": "c", "name": "n", "arguments": deep}}
    )
    result = Message.from_json(
        {"id": "r", "type": "tool_result", "role": "tool", "tool_result": {"tool_call_id": "c", "result": deep}}
    )
    for item in (message, result):
        assert "bottom" in "\n".join(rendered(item))


def test_a_huge_title_and_empty_strings_everywhere():
    run = Run.from_json({"id": "r", "status": "", "title": "t" * 2_000_000, "agent_name": "", "created_at": ""})
    assert run.status == "unknown" and run.created_at is None
    assert len(clean_line(run.title, 200)) == 200
    request = HumanRequest.from_json({"id": "q", "title": "", "description": "", "questions": [{"question": ""}]})
    assert request is not None and request.questions == ()


def test_lone_surrogates_from_json_escapes_are_made_printable():
    body = json.loads('{"id": "m", "type": "text", "role": "assistant", "text_content": "a\\ud800b\\udc00c"}')
    message = Message.from_json(body)
    for line in rendered(message):
        assert_safe(line)
    assert "a\ufffdb\ufffdc" in message_plain_text(message)


def test_json_output_escapes_c1_controls_and_lone_surrogates():
    """``--json`` output is data, but it lands on a terminal: C1 controls (8-bit CSI/OSC) and lone surrogates
    (which cannot be written to a UTF-8 stream) go out as ``\\u`` escapes; the JSON still means the same."""
    import io

    from duvo_tui.cli.output import emit_json, emit_json_line

    value = {"text": "a\x9b2J b\x9d0;t\x9c c\x1b[31m d\ud800 é 😀", "\x85key": ["\x7f"]}
    for emit in (emit_json, emit_json_line):
        out = io.StringIO()
        emit(value, out)
        text = out.getvalue()
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]", text), repr(text)
        text.encode("utf-8")
        assert json.loads(text) == value
        assert "é 😀" in text  # everything else stays readable
