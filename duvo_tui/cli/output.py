"""Printing for the command line: aligned tables and lines for people, stable JSON for scripts.

Everything that came from the server passes through :func:`duvo_tui.text.clean` before it is printed.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TextIO

from duvo_tui.text import clean, clean_line

__all__ = [
    "emit_json",
    "emit_json_line",
    "format_message",
    "format_size",
    "format_time",
    "print_table",
    "to_jsonable",
]


def to_jsonable(value: Any) -> Any:
    """Dataclasses as dicts of their API fields, datetimes in ISO 8601, enums as their values, tuples as lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = [f for f in dataclasses.fields(value) if not f.metadata.get("local")]  # API fields only
        return {f.name: to_jsonable(_field_value(value, f)) for f in fields}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _field_value(value: Any, field: dataclasses.Field[Any]) -> Any:
    """The field's value; one the client could not parse falls back to what the server sent (``metadata["raw"]``)."""
    parsed = getattr(value, field.name)
    raw = field.metadata.get("raw")
    return getattr(value, raw) if parsed is None and raw else parsed


# json.dumps escapes C0 controls but not DEL, C1 controls (8-bit CSI/OSC a terminal may act on) or lone
# surrogates (which a UTF-8 stream cannot write); outside strings JSON has none of them, so \u escapes are exact.
_JSON_UNSAFE = {code: f"\\u{code:04x}" for code in [*range(0x7F, 0xA0), *range(0xD800, 0xE000)]}


def _terminal_safe(text: str) -> str:
    return text.translate(_JSON_UNSAFE)


def emit_json(value: Any, stream: TextIO | None = None) -> None:
    """One indented JSON document."""
    out = stream or sys.stdout
    out.write(_terminal_safe(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False)) + "\n")
    out.flush()


def emit_json_line(value: Any, stream: TextIO | None = None) -> None:
    """One JSON object on one line (JSON Lines), flushed at once for a reader that follows."""
    out = stream or sys.stdout
    out.write(_terminal_safe(json.dumps(to_jsonable(value), ensure_ascii=False, separators=(",", ":"))) + "\n")
    out.flush()


def format_time(value: datetime | None, *, date: bool = True) -> str:
    """A timestamp in local time, to the second, with its zone (``2026-11-29 21:23:42 UTC``); ``-`` when unknown."""
    if value is None:
        return "-"
    local = value.astimezone() if value.tzinfo else value.replace(tzinfo=UTC).astimezone()
    zone = local.strftime("%Z") or local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S") + f" {zone}"


def format_size(size: int) -> str:
    """Bytes for a person: ``812 B``, ``4.2 KiB``, ``12.0 MiB``."""
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{int(amount)} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{size} B"  # pragma: no cover - the loop always returns


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], stream: TextIO | None = None) -> None:
    """Rows under headers in left-aligned columns; every cell is cleaned onto one line."""
    out = stream or sys.stdout
    cells = [[clean_line(c, 80) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))
    for row in [list(headers), *cells]:
        out.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() + "\n")
    out.flush()


def _short_json(value: Any, limit: int = 160) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    except (TypeError, ValueError):
        text = str(value)
    return clean_line(text, limit)


_ROLE_TYPES = frozenset({"", "text", "message", "tool_call", "tool_result"})
"""Message types labelled by their role; ``thinking``, ``system`` and any other type are labelled by the type."""


def format_message(message: Any) -> str:
    """A run's message as lines for a terminal: time, role (or its type: thinking, system, one not known here),
    then text, tool call or tool result."""
    kind = clean_line(getattr(message, "type", "") or "", 40).strip()
    label = clean_line(message.role, 10) if kind.lower() in _ROLE_TYPES else kind
    head = f"{format_time(message.timestamp, date=False)}  {label:<9}"
    if message.tool_call is not None:
        call = message.tool_call
        body = f"→ {clean_line(call.name, 60)}({_short_json(call.arguments)})"
    elif message.tool_result is not None:
        result = message.tool_result
        body = f"✗ {clean_line(result.error, 200)}" if result.is_error else f"← {_short_json(result.result, 200)}"
    else:
        body = clean(message.text_content or "").strip("\n")
    indent = " " * (len(head) + 2)
    lines = body.split("\n") if body else [""]
    return "\n".join([f"{head}  {lines[0]}".rstrip(), *[f"{indent}{line}".rstrip() for line in lines[1:]]])
