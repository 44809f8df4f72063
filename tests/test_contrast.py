"""Text from the server is drawn at WCAG AA contrast (4.5:1) on every shipped theme, computed from the colours
the widgets actually use. The ANSI themes leave colours to the terminal's palette, so there is nothing to compute.
"""

from __future__ import annotations

from textual.color import Color

from duvo_tui.config import Profile
from duvo_tui.ui.app import make_app
from duvo_tui.ui.contrast import AA, contrast_ratio, legible
from tests.feed_service import FeedService, wait_until

STREAM_ROLES = ("user", "assistant", "system", "tool", "result", "error", "time", "muted")
RUN_LIST_TEXT = ("run-list--active", "run-list--waiting", "run-list--done", "run-list--failed", "run-list--muted",
                 "run-list--agent", "run-list--age", "run-list--marker")  # fmt: skip


def test_contrast_ratio_matches_the_wcag_examples():
    assert round(contrast_ratio(Color(0, 0, 0), Color(255, 255, 255)), 1) == 21.0
    assert round(contrast_ratio(Color(119, 119, 119), Color(255, 255, 255)), 2) == 4.48  # just under AA
    assert contrast_ratio(Color(10, 10, 10), Color(10, 10, 10)) == 1.0


def test_legible_moves_a_colour_just_enough():
    background = Color(250, 250, 250)
    pale = Color(120, 200, 255)
    fixed = legible(pale, background)
    assert contrast_ratio(fixed, background) >= AA
    assert fixed.b > fixed.r  # still blue
    dark_text = Color(30, 30, 30)
    assert legible(dark_text, background) == dark_text  # already fine: untouched


def ratio(style, base) -> float:
    foreground = Color.from_rich_color(style.color or base.color)
    background = Color.from_rich_color(style.bgcolor or base.bgcolor)
    return contrast_ratio(foreground, background)


async def test_server_text_reaches_aa_on_every_shipped_theme():
    app = make_app(FeedService(), Profile(name="t"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.service_started)
        stream = app.screen_dashboard.query_one("#message-stream")
        runs = app.screen_dashboard.query_one("#run-list")
        themes = sorted(name for name in app.available_themes if not name.startswith("ansi"))
        assert len(themes) >= 10
        failures = []
        for theme in themes:
            app.theme = theme
            await pilot.pause(0.02)
            styles = stream._styles()
            for role in STREAM_ROLES:
                value = ratio(getattr(styles, role), stream.rich_style)
                if value < AA:
                    failures.append(f"{theme}: message {role} {value:.2f}")
            for name in RUN_LIST_TEXT:
                value = ratio(runs._legible(name), runs.rich_style)
                if value < AA:
                    failures.append(f"{theme}: {name} {value:.2f}")
            # Plain server text (message bodies, titles, questions) is the theme's foreground.
            value = ratio(stream.rich_style, stream.rich_style)
            if value < AA:
                failures.append(f"{theme}: message text {value:.2f}")
        assert not failures, "\n".join(failures)
