"""The desk's user-facing error kinds, so entry points (CLI, MCP) can report them plainly."""

from __future__ import annotations


class TradecrewError(Exception):
    """Base for errors whose message is written for the user."""


# Errors whose message is meant for a person: shown as one line, never a traceback. Input
# problems across the desk (bad data, unknown symbols, crew.yaml, illegal transitions) are
# ValueError or LookupError subclasses, so these bases cover them.
USER_ERRORS: tuple[type[BaseException], ...] = (
    TradecrewError,
    ValueError,
    LookupError,
    FileNotFoundError,
)
