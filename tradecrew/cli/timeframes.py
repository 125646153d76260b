"""Which timeframe a command reads from a file source, and saying when it resamples.

``regime --source csv:EURUSD_H1.csv`` reads the hourly bars as they are; asking for D1 of
hourly data resamples them, and the command says so on stderr (stdout stays the answer).
"""

from __future__ import annotations

from typing import Any

from tradecrew.cli.common import err_console
from tradecrew.models import Timeframe

DEFAULT_TIMEFRAME = Timeframe.D1


def _natives(provider: Any, symbol: str) -> list[Timeframe]:
    natives = getattr(provider, "native_timeframes", None)
    if natives is None:
        return []
    try:
        return list(natives(symbol))
    except LookupError:
        # A single csv file holds one symbol whatever its name (as load_bars reads it).
        only = list(getattr(provider, "symbols", []))
        return list(natives(only[0])) if len(only) == 1 else []


def choose_timeframe(symbol: str, requested: str | None, source: str) -> Timeframe:
    """The timeframe to read; when it is made from finer file bars, a note on stderr says so.

    Without ``requested``, a file source gives its own timeframe (the coarsest its files
    hold for the symbol) and any other source D1."""
    from tradecrew.tools.catalog import provider_for

    tf = Timeframe.parse(requested) if requested else None
    provider = provider_for(source)
    natives = _natives(provider, symbol) if getattr(provider, "name", "") == "csv" else []
    if tf is None:
        return natives[-1] if natives else DEFAULT_TIMEFRAME
    finer = [n for n in natives if n.minutes < tf.minutes] if tf not in natives else []
    if finer:
        err_console.print(f"note: resampling {finer[-1].value} bars to {tf.value}", highlight=False)
    return tf
