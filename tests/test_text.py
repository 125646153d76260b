"""External text is shown as one plain line: whole escape sequences go, other control and
format characters become spaces, newlines collapse, and a long message is cut visibly."""

from __future__ import annotations

import pytest

from tradecrew.text import clean_text, one_line, redacted


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain words stay", "plain words stay"),
        ("\x1b[31mred\x1b[0m", "red"),  # CSI (colour)
        ("\x1b[2J\x1b[1Aup", "up"),  # clear screen, cursor up
        ("\x9b2Jc1", "c1"),  # the one-byte C1 CSI
        ("\x1b]0;title\x07after", "after"),  # OSC ended by BEL
        ("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 ended by ST
        ("\x1bPdcs\x1b\\x", "x"),  # DCS
        ("a\x1bcb", "ab"),  # a two-byte ESC form (full reset)
        ("one\nerror: two\r\nthree", "one error: two three"),  # no forged lines
        ("left\u202etfel\u2066x", "left tfel x"),  # bidi overrides
        ("a\u2028b\x00c\x07d", "a b c d"),
    ],
)
def test_escapes_and_controls_never_survive(raw: str, shown: str) -> None:
    assert clean_text(raw, 100) == shown
    assert one_line(raw) == shown


def test_a_long_message_is_cut_with_an_ellipsis() -> None:
    text = one_line("x" * 100_000, 50)
    assert len(text) == 50 and text.endswith("…")
    assert one_line("y" * 50, 50) == "y" * 50


def test_secrets_are_hidden_even_when_an_escape_splits_them() -> None:
    text = redacted("key=SEC\x1b[0mRET other=SECRET", ["SECRET", None, ""])
    assert "SECRET" not in text and text == "key=*** other=***"
