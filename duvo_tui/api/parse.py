"""Total readers of JSON values: each turns whatever the server sent into the type asked for, never raising.

The models (``api/models.py``, ``api/account.py``) build on these, so that one odd field never costs a
whole response.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

__all__ = ["as_dict", "as_int", "as_list", "as_str", "opt_str", "parse_timestamp", "positive_seconds"]


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 (with ``Z`` or an offset, or naive = UTC) to an aware datetime; anything else to None."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def as_str(value: Any, default: str = "") -> str:
    """A string as it is; a number or bool as text; other JSON as compact JSON; None as ``default``."""
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return default


def opt_str(value: Any) -> str | None:
    """Like :func:`as_str`, but None stays None."""
    return None if value is None else as_str(value)


def as_int(value: Any, default: int = 0) -> int:
    """An integer from an int, a finite float or a numeric string; ``default`` otherwise (bools included)."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def positive_seconds(value: Any) -> float:
    """A finite positive number of seconds; 0.0 for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0.0
    seconds = float(value)
    return seconds if math.isfinite(seconds) and seconds > 0 else 0.0


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []
