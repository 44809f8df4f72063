"""Text that stays readable on every theme: WCAG contrast of a colour on a background, and the nearest colour
that reaches AA (4.5:1) when a theme's colour does not.

Theme colours such as ``$accent`` or ``$success`` are chosen for accents, not for text: on light themes several
fall under 2:1 against the background. Widgets that draw server text in such colours pass their styles through
:func:`legible_style`, which keeps the hue and moves it toward black or white just enough.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.color import Color as RichColor
from rich.style import Style
from textual.color import Color

if TYPE_CHECKING:
    from textual.widget import Widget

__all__ = ["AA", "LegibleStyles", "contrast_ratio", "legible", "legible_style"]

AA = 4.5
"""WCAG 2 level AA for normal text."""


def _channel(value: int) -> float:
    value_ = value / 255
    return value_ / 12.92 if value_ <= 0.03928 else ((value_ + 0.055) / 1.055) ** 2.4


def _luminance(color: Color) -> float:
    return 0.2126 * _channel(color.r) + 0.7152 * _channel(color.g) + 0.0722 * _channel(color.b)


def contrast_ratio(foreground: Color, background: Color) -> float:
    """The WCAG 2 contrast ratio of two opaque colours (1 to 21)."""
    high, low = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def legible(color: Color, background: Color, minimum: float = AA) -> Color:
    """``color``, or the first blend of it toward black or white (whichever the background is further from)
    that has at least ``minimum`` contrast on ``background``."""
    if contrast_ratio(color, background) >= minimum:
        return color
    toward = Color(0, 0, 0) if _luminance(background) > 0.18 else Color(255, 255, 255)
    for step in range(1, 21):
        candidate = color.blend(toward, step / 20)
        if contrast_ratio(candidate, background) >= minimum:
            return candidate
    return toward


def _opaque(color: RichColor | None) -> Color | None:
    if color is None or color.triplet is None:
        return None  # an ANSI colour: the terminal's palette decides, nothing to compute
    return Color.from_rich_color(color)


def legible_style(style: Style, base: Style) -> Style:
    """``style`` drawn over ``base`` (the widget's style), with its colour made legible on the background."""
    foreground = _opaque(style.color or base.color)
    background = _opaque(style.bgcolor or base.bgcolor)
    if foreground is None or background is None:
        return style
    fixed = legible(foreground, background)
    if fixed == foreground:
        return style
    return style + Style(color=fixed.rich_color)


class LegibleStyles:
    """A widget's component styles, each made legible on the widget's own background, worked out once per theme:
    ``styles("run-list--age")``. The widget calls :meth:`clear` from ``notify_style_update``."""

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._styles: dict[str, Style] = {}

    def __call__(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            widget = self._widget
            style = self._styles[name] = legible_style(widget.get_component_rich_style(name), widget.rich_style)
        return style

    def clear(self) -> None:
        """Forget every style (the theme or the widget's own style changed)."""
        self._styles.clear()
