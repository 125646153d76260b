"""The desk's user-facing error kinds, so entry points (CLI, MCP) can report them plainly."""

from __future__ import annotations

# Exit codes of every command, documented in the README's "Command line" section.
EXIT_NOT_DONE = 1  # the command ran but its action did not happen (an order not sent)
EXIT_BAD_INPUT = 2  # bad input or settings: nothing was changed
EXIT_UNAVAILABLE = 3  # a broker or data source could not be reached or did not answer


class TradecrewError(Exception):
    """Base for errors whose message is written for the user."""


class Unavailable(TradecrewError):
    """A broker or data source could not be reached or did not answer: an outage, not bad
    input. Entry points report it in one line (the CLI exits with ``EXIT_UNAVAILABLE``)."""


# Connection failures that escape an adapter unwrapped count as an outage too.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (Unavailable, ConnectionError, TimeoutError)


# Errors whose message is meant for a person: shown as one line, never a traceback. Input
# problems across the desk (bad data, unknown symbols, crew.yaml, illegal transitions) are
# ValueError or LookupError subclasses, so these bases cover them.
USER_ERRORS: tuple[type[BaseException], ...] = (
    TradecrewError,
    ValueError,
    LookupError,
    FileNotFoundError,
)
