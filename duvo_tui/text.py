"""Making server text safe to show: terminal escape sequences and control characters removed.

Server strings are data. Textual parses ``str`` as markup in many widgets and passes ESC
sequences through to the terminal, so everything from the server goes through
:func:`clean` before it reaches a widget, and widgets build ``Content``/``Text`` from it
rather than markup strings.
"""

from __future__ import annotations

import re

__all__ = ["clean", "clean_line", "mask_key"]

# OSC ... (BEL | ST), DCS/SOS/PM/APC ... ST, CSI sequences, then any other two-byte ESC sequence.
_ESCAPES = re.compile(
    r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?      # OSC (title, clipboard, hyperlink)
  | \x9d[^\x07\x1b\x9c]*(?:\x07|\x9c|\x1b\\)?  # 8-bit OSC
  | \x1b[PX^_][^\x1b]*(?:\x1b\\)?           # DCS, SOS, PM, APC
  | \x1b\[[0-?]*[ -/]*[@-~]?                # CSI
  | \x9b[0-?]*[ -/]*[@-~]?                  # 8-bit CSI
  | \x1b[ -/]*[0-~]?                        # other ESC sequences (two-byte and nF)
    """,
    re.VERBOSE,
)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROLS_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Bidirectional overrides can make shown text read differently from what it is.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Lone surrogates (JSON "\ud800" escapes) cannot be encoded: a terminal, a file or the clipboard would fail.
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean(text: object, *, keep_newlines: bool = True) -> str:
    """``text`` without escape sequences, control characters (tabs become spaces) or bidi overrides."""
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    text = text.replace("\t", "    ")
    text = _ESCAPES.sub("", text)
    text = _BIDI.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    if keep_newlines:
        return _CONTROLS.sub("", text)
    return _CONTROLS_ONE_LINE.sub(" ", text.replace("\n", " "))


def clean_line(text: object, limit: int | None = None) -> str:
    """``clean`` folded onto one line, cut to ``limit`` characters with an ellipsis."""
    line = clean(text, keep_newlines=False)
    if limit is not None and len(line) > limit:
        return line[: max(0, limit - 1)] + "…"
    return line


def mask_key(key: str | None) -> str:
    """An API key as it may be shown: ``dv_ab…yz``. Short keys are masked whole."""
    if not key:
        return "(none)"
    if len(key) < 12:
        return "•" * 6
    head = key[:5] if key.startswith("dv_") else key[:2]
    return f"{head}…{key[-2:]}"
