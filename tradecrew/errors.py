"""The desk's user-facing error kinds, so entry points (CLI, MCP) can report them plainly."""

from __future__ import annotations


class TradecrewError(Exception):
    """Base for errors whose message is written for the user."""


def known_user_errors() -> tuple[type[BaseException], ...]:
    """Error kinds whose message is meant for a person: shown as one line, never a traceback."""
    from tradecrew.crewfile import CrewFileError
    from tradecrew.instruments import UnknownSymbol
    from tradecrew.models import IllegalTransition

    kinds: list[type[BaseException]] = [
        TradecrewError,
        CrewFileError,
        UnknownSymbol,
        IllegalTransition,
        FileNotFoundError,
        ValueError,
        LookupError,
    ]
    try:
        from tradecrew.data import DataError

        kinds.append(DataError)
    except ImportError:  # pragma: no cover - during bootstrap only
        pass
    return tuple(kinds)
