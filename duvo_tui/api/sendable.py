"""Checks that what the client is asked to send can be sent: text must encode as UTF-8.

A ``str`` can hold lone UTF-16 surrogates (``\\udcff`` is how Python keeps the byte 0xFF of a command-line
argument that is not valid UTF-8, and a pasted string can carry one). Such text cannot go into a JSON
body, a form field or a URL, so the client refuses it with :class:`InvalidInputError` before anything is
sent, naming the field that holds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from duvo_tui.api.errors import InvalidInputError

__all__ = ["check_answers", "check_body", "check_header", "check_text", "unencodable_at"]


def unencodable_at(text: str) -> int | None:
    """The index of the first character UTF-8 cannot encode (a lone surrogate); None when all can be."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def _what(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # how surrogateescape keeps an undecodable byte
        return f"the byte 0x{code - 0xDC00:02X}"
    return f"a lone surrogate U+{code:04X}"


def check_text(field: str, value: object) -> None:
    """Raise :class:`InvalidInputError` naming ``field`` when ``value`` is a str that is not valid UTF-8."""
    if not isinstance(value, str):
        return
    index = unencodable_at(value)
    if index is None:
        return
    raise InvalidInputError(
        f"{field}: contains bytes that are not valid UTF-8 ({_what(value[index])} at character {index + 1})",
        field=field,
    )


def check_answers(answers: Mapping[Any, Any]) -> None:
    """Every question (key) and answer (value) of a human-request answer; numbered from 1 in their order."""
    for number, (question, answer) in enumerate(answers.items(), start=1):
        check_text(f"answers (question {number})", str(question))
        check_text(f"answers (answer {number})", str(answer))


def check_body(value: Any, field: str = "body") -> None:
    """Every string in a JSON body or query (keys too). A top-level key names its field."""
    if isinstance(value, str):
        check_text(field, value)
    elif isinstance(value, Mapping):
        for number, (key, item) in enumerate(value.items(), start=1):
            name = str(key)
            check_text(f"{field} (key {number})", name)
            check_body(item, name if field == "body" else f"{field} (value {number})")
    elif isinstance(value, (list, tuple)):
        for number, item in enumerate(value, start=1):
            check_body(item, f"{field} (item {number})")


def check_header(name: str, value: str) -> None:
    """A header value the caller chose must be visible ASCII (no space, no line break)."""
    if not all(33 <= ord(c) < 127 for c in value):
        raise InvalidInputError(f"{name}: holds characters that cannot go in an HTTP header", field=name)
