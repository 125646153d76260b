"""Keep third-party chatter (CrewAI's console warnings, LiteLLM/httpx/OpenAI log lines) out
of the user's terminal while a command runs: the command says what matters in its own words,
and the run record keeps the details."""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator


@contextlib.contextmanager
def third_party_quiet() -> Iterator[None]:
    """Drop log records and stdout prints made by libraries inside the block.

    A root logger without handlers makes ``logging.error(...)`` install one that writes to
    stderr; a ``NullHandler`` there keeps it from doing so. CrewAI prints its warnings to
    stdout through rich, so stdout is set aside for the block (the command prints after)."""
    root = logging.getLogger()
    null = logging.NullHandler()
    saved_handlers = root.handlers[:]
    root.handlers = [null]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.handlers = saved_handlers
