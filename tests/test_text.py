"""Server text is shown literally: escape sequences and controls are removed, markup is left as text."""

from __future__ import annotations

import pytest

from duvo_tui.text import clean, clean_line, mask_key


@pytest.mark.parametrize(
    "hostile",
    [
        "\x1b]52;c;ZXZpbA==\x07",  # OSC 52: write the clipboard
        "\x1b]0;owned\x07",  # OSC 0: window title
        "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",  # OSC 8 hyperlink
        "\x1b[2J\x1b[H",  # CSI: clear screen
        "\x1bP1$r\x1b\\",  # DCS
        "\x9b31m",  # 8-bit CSI
        "\x1bc",  # RIS: full reset
    ],
)
def test_escape_sequences_are_removed(hostile):
    out = clean(f"before {hostile} after")
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert out.startswith("before ") and out.endswith(" after")


def test_osc8_keeps_its_visible_text():
    assert clean("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\") == "link"


def test_controls_removed_newlines_kept_tabs_expanded():
    assert clean("a\rb\x07c\x00d\ne\tf") == "abcd\ne    f"


def test_markup_is_left_as_literal_text():
    text = "[b]bold[/b] [@click=app.quit]quit[/]"
    assert clean(text) == text


def test_bidi_overrides_removed():
    assert clean("abc\u202edef\u2066") == "abcdef"


def test_clean_line_folds_and_cuts():
    assert clean_line("one\ntwo\tthree", limit=10) == "one two  …"
    assert clean_line(None) == ""


def test_mask_key_never_shows_the_middle():
    key = "dv_abcdefghijklmnopqrstuvwxyz0123456"
    masked = mask_key(key)
    assert masked == "dv_ab…56"
    assert "klmnop" not in masked
    assert mask_key("short") == "••••••"
    assert mask_key(None) == "(none)"
