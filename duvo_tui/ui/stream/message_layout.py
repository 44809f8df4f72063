"""How a run's messages become screen lines: one pure function per message, plus plain-text forms.

A message renders as a list of logical lines (``Text`` built from cleaned strings, never markup): the first
carries an optional timestamp and a role label, the others are indented under the text. Tool calls, tool
results and ``thinking`` messages show one line when collapsed and everything when expanded; ``system``
messages are styled apart; a message of a type this dashboard does not know is shown as it came, labelled
with its type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text

from duvo_tui.api.models import Message
from duvo_tui.text import clean, clean_line

__all__ = ["Layout", "LineStyles", "message_kind", "message_lines", "message_plain_text", "wrapped_height"]

ROLE_WIDTH = 10
"""Cells taken by the role label (plus one space)."""
TIME_WIDTH = 9
"""Cells taken by ``HH:MM:SS `` when timestamps are shown."""


@dataclass(frozen=True)
class Layout:
    """What shapes a message's lines: the view's width and its toggles."""

    width: int
    timestamps: bool = False
    wrap: bool = True

    @property
    def indent(self) -> int:
        return ROLE_WIDTH + (TIME_WIDTH if self.timestamps else 0)

    @property
    def text_width(self) -> int:
        return max(8, self.width - self.indent)


@dataclass(frozen=True)
class LineStyles:
    """Rich styles (taken from the widget's component classes, so themes and NO_COLOR apply)."""

    user: Any = ""
    assistant: Any = ""
    system: Any = ""
    tool: Any = ""
    result: Any = ""
    error: Any = ""
    time: Any = ""
    muted: Any = ""
    thinking: Any = ""
    system_text: Any = ""
    other: Any = ""


KNOWN_TYPES = frozenset({"", "text", "message", "tool_call", "tool_result", "system", "thinking"})
"""Message types shown by role; any other is shown as it came, under its type's name."""


def _type(message: Message) -> str:
    kind = message.type
    if kind in KNOWN_TYPES:
        return kind  # the usual case, without cleaning (layouts ask this of every message)
    return clean_line(kind, 80).strip().lower()


def message_kind(message: Message) -> str:
    """``tool``, ``result``, ``error``, ``thinking``, ``other`` (a type not known here) or the (cleaned) role."""
    if message.tool_result is not None:
        return "error" if message.tool_result.is_error else "result"
    if message.tool_call is not None:
        return "tool"
    kind = _type(message)
    if kind in ("thinking", "system"):
        return kind
    if kind not in KNOWN_TYPES:
        return "other"
    role = clean_line(message.role, 12).lower()
    return role if role in ("user", "assistant", "system") else "system"


def is_collapsible(message: Message) -> bool:
    """Tool calls, tool results and the agent's thinking can be expanded and collapsed."""
    if message.tool_call is not None or message.tool_result is not None:
        return True
    return _type(message) == "thinking"


def _json(value: Any, *, pretty: bool) -> str:
    if isinstance(value, str):
        return value
    try:
        if pretty:
            return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False, default=str)
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    except (TypeError, ValueError):
        return str(value)


def _call_summary(message: Message) -> str:
    call = message.tool_call
    assert call is not None
    args = ", ".join(f"{clean_line(k)}={clean_line(_json(v, pretty=False))}" for k, v in call.arguments.items())
    return f"{clean_line(call.name)}({args})"


def _body(message: Message, expanded: bool) -> tuple[str, list[str]]:
    """(label, logical text lines) of ``message``."""
    kind = message_kind(message)
    if message.tool_call is not None:
        call = message.tool_call
        if not expanded:
            return "▸ tool", [_call_summary(message)]
        lines = [clean_line(call.name) + "("]
        pretty = _json(call.arguments, pretty=True) if call.arguments else ""
        lines += ["  " + line for line in clean(pretty).split("\n") if pretty]
        lines.append(")")
        return "▾ tool", lines
    if message.tool_result is not None:
        result = message.tool_result
        label = "error" if kind == "error" else "result"
        if result.is_error:
            full = clean(result.error)
        else:
            full = clean(_json(result.result, pretty=True))
        if not expanded:
            summary = result.error if result.is_error else _json(result.result, pretty=False)
            return f"▸ {label}", [clean_line(summary, 400)]
        return f"▾ {label}", full.split("\n") if full else [""]
    text = clean(message.text_content) if message.text_content is not None else ""
    if kind == "thinking":
        if not expanded:
            return "▸ thought", [clean_line(message.text_content or "", 400)]
        return "▾ thought", text.split("\n") if text else [""]
    if kind == "other":
        name = clean_line(message.type, 80)
        label = name if len(name) <= ROLE_WIDTH - 1 else name[: ROLE_WIDTH - 2] + "…"
        lines = text.split("\n") if text else ["(no text)"]
        if label != name:
            lines[0] = f"[{name}] {lines[0]}"
        return label, lines
    return kind, text.split("\n") if text else [""]


def message_plain_text(message: Message) -> str:
    """The message as plain text (what copy and save produce), everything expanded."""
    label, lines = _body(message, expanded=True)
    stamp = message.timestamp.strftime("%Y-%m-%d %H:%M:%S") + " " if message.timestamp else ""
    role = label.lstrip("▾▸ ")
    if message_kind(message) == "other":
        role = clean_line(message.type, 80)  # the whole type, not the label cut to its column
        if role != label:
            lines = [lines[0].removeprefix(f"[{role}] "), *lines[1:]]
    return f"{stamp}{role}: " + "\n".join(lines)


def _fold(line: str, width: int) -> list[str]:
    """``line`` cut into pieces of at most ``width`` cells, at a space when there is one (else mid-word)."""
    if width <= 0 or cell_len(line) <= width:
        return [line]
    pieces: list[str] = []
    rest = line
    ascii_only = line.isascii()
    while (len(rest) if ascii_only else cell_len(rest)) > width:
        # Take as many characters as fit in ``width`` cells.
        if ascii_only:
            count = width
        else:
            count, used = 0, 0
            for char in rest:
                w = cell_len(char)
                if used + w > width:
                    break
                used += w
                count += 1
            count = max(1, count)
        cut = rest.rfind(" ", 0, count + 1)
        if cut > 0:
            pieces.append(rest[:cut])
            rest = rest[cut + 1 :]
        else:
            pieces.append(rest[:count])
            rest = rest[count:]
    pieces.append(rest)
    return pieces


def _cut(line: str, width: int) -> str:
    """``line`` cut to ``width`` cells, with an ellipsis when something was cut."""
    if cell_len(line) <= width:
        return line
    out, used = [], 0
    for char in line:
        w = cell_len(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def wrapped_height(message: Message, expanded: bool, layout: Layout) -> int:
    """How many screen lines ``message`` takes (the same count ``message_lines`` returns, computed cheaply)."""
    if not expanded and is_collapsible(message):
        return 1  # a collapsed tool call or result is one line, cut to fit
    _label, lines = _body(message, expanded)
    if not layout.wrap:
        return len(lines)
    width = layout.text_width
    total = 0
    for line in lines:
        length = len(line) if line.isascii() else cell_len(line)
        total += 1 if length <= width else len(_fold(line, width))
    return total


def message_lines(message: Message, expanded: bool, layout: Layout, styles: LineStyles) -> list[Text]:
    """The screen lines of ``message``: Text objects, at most ``layout.width`` cells wide when wrapping."""
    kind = message_kind(message)
    label, lines = _body(message, expanded)
    body_style = {
        "error": styles.error,
        "tool": styles.muted,
        "result": styles.muted,
        "thinking": styles.thinking,
        "system": styles.system_text,
    }.get(kind, "")
    label_style = getattr(styles, kind, "")
    if not expanded and is_collapsible(message):
        pieces = [_cut(lines[0] if lines else "", layout.text_width)]
    elif layout.wrap:
        pieces = [piece for line in lines for piece in _fold(line, layout.text_width)]
    else:
        pieces = lines
    out: list[Text] = []
    pad = " " * layout.indent
    for number, piece in enumerate(pieces):
        line = Text(no_wrap=True, overflow="crop", end="")
        if number == 0:
            if layout.timestamps:
                stamp = message.timestamp.strftime("%H:%M:%S") if message.timestamp else "--:--:--"
                line.append(stamp + " ", styles.time)
            line.append(label.ljust(ROLE_WIDTH - 1)[: ROLE_WIDTH - 1] + " ", label_style)
        else:
            line.append(pad)
        line.append(piece, body_style)
        out.append(line)
    return out
