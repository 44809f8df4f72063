"""What the header shows about the profile: its label, its colour and READ-ONLY."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.color import Color, ColorParseError

from duvo_tui.readonly import is_read_only
from duvo_tui.text import clean_line

if TYPE_CHECKING:
    from duvo_tui.config import Profile
    from duvo_tui.service.facade import DashboardService
    from duvo_tui.ui.chrome.header import DashboardHeader

__all__ = ["apply_profile_marks", "header_color"]


def header_color(color: str | None) -> str | None:
    """``color`` when Rich understands it as one colour (``red``, ``#ff0000``, ``color(196)``), else None.

    Only a colour is accepted, never a style: the text comes from a config file and ends up in a style.
    """
    if not color:
        return None
    text = clean_line(color, 40).strip().lower()
    if not text or " " in text or text != color.strip().lower():
        return None
    try:
        Color.parse(text)
    except ColorParseError:
        return None
    return text


def apply_profile_marks(
    header: DashboardHeader, profile: Profile | None, service: DashboardService | None = None
) -> str | None:
    """Set READ-ONLY and the profile colour on ``header``; returns a warning when the colour is unusable."""
    header.read_only = bool(profile is not None and profile.read_only) or is_read_only(service)
    raw = profile.color if profile is not None else None
    color = header_color(raw)
    header.profile_color = color or ""
    if raw and color is None:
        return f"The profile colour {clean_line(raw, 40)!r} is not a colour Rich knows; the header stays plain"
    return None
