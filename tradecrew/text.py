"""Text from outside the desk (servers, feeds, brokers) made safe to keep and show.

A server's error message or a headline can carry terminal escape sequences (clear the screen,
move the cursor, set the window title, hide a link), bidi overrides or newlines that forge a
second ``error:`` line. Everything external is passed through here before it reaches a
terminal, a log line or a stored record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# Whole escape sequences, so their parameters do not survive as visible debris: CSI
# (ESC [ or the one-byte C1 form), string commands (OSC, DCS, SOS, PM, APC) up to their
# terminator, and the two- or three-byte ESC forms.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)

MESSAGE_LIMIT = 500


def clean_text(text: str, limit: int) -> str:
    """One line of printable text: escape sequences are removed, other control and format
    characters (bidi overrides) become spaces, whitespace runs collapse, cut to ``limit``."""
    text = _ESCAPES.sub("", text)
    kept = (" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join("".join(kept).split())[:limit]


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """``text`` cleaned as ``clean_text`` does, ending with an ellipsis when it was cut:
    what an error message from a server may look like when it is shown."""
    # Clean a bounded prefix: a 50 MB reply is not walked character by character.
    clean = clean_text(text[: limit * 8], limit + 1)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def redacted(text: str, secrets: Sequence[str | None], limit: int = MESSAGE_LIMIT) -> str:
    """``one_line(text, limit)`` with every secret replaced by ``***``, also one that an escape
    sequence split in two (the server echoing a key back with a sequence inside it)."""

    def hide(value: str) -> str:
        for s in secrets:
            if s:
                value = value.replace(s, "***")
        return value

    return hide(one_line(hide(text), limit))
