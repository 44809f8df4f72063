"""Reading back what a person sees: the screen's text, and whether the focused widget is inside the screen."""

from __future__ import annotations

import html
import re
from typing import Any


def screen_lines(app: Any) -> list[str]:
    """The text of every screen line, read back from the SVG screenshot (what a terminal would show)."""
    svg = app.export_screenshot()
    lines: dict[int, list[str]] = {}
    for number, body in re.findall(r'<text [^>]*clip-path="url\(#[\w-]+-line-(\d+)\)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(int(number), []).append(html.unescape(body).replace("\xa0", " "))
    return ["".join(parts) for _, parts in sorted(lines.items())]


def screen_text(app: Any) -> str:
    return "\n".join(screen_lines(app))


def focus_is_visible(app: Any) -> tuple[bool, str]:
    """(True, "") when the focused widget lies inside what the screen shows, else (False, why).

    Inside means: its region on screen is within the screen and within each scrolling container around it
    (a widget scrolled out of its container's view has a region outside the container's content region).
    """
    screen = app.screen
    focused = screen.focused
    if focused is None:
        return True, ""
    region = focused.region
    if region.area == 0:
        return False, f"{focused!r} has no area on screen"
    if not screen.region.contains_region(region):
        return False, f"{focused!r} at {region} lies outside the screen {screen.region}"
    node = focused.parent
    while node is not None and node is not screen:
        if getattr(node, "is_scrollable", False) and getattr(node, "region", None) is not None:
            view = node.scrollable_content_region
            if view.area and not view.contains_region(region):
                # A tall widget only needs its cursor row in view: the first line is where the cursor starts.
                top = region.intersection(view)
                if top.area == 0:
                    return False, f"{focused!r} at {region} is scrolled out of {node!r} showing {view}"
        node = node.parent
    return True, ""
