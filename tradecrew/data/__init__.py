"""Market data for the desk: providers, validation and resampling of canonical bars.

``get_provider("sample")`` is the offline default; ``get_provider("csv:PATH")`` reads a
file or a folder of OHLCV files (MetaTrader exports included); ``get_provider("alpaca")``
serves real US equities, ETFs and crypto from Alpaca; ``yfinance``, ``openbb``, ``mt5`` and
``ccxt:EXCHANGE`` serve theirs through those libraries. Live bars are cached on disk.
"""

from __future__ import annotations

from tradecrew.data.base import (
    BadDataError,
    DataError,
    DataNotAvailable,
    Provider,
    SourceUnavailable,
    UnknownSymbolError,
)
from tradecrew.data.resample import completed_bars, resample_bars
from tradecrew.data.validate import validate_bars

__all__ = [
    "BadDataError",
    "DataError",
    "DataNotAvailable",
    "Provider",
    "SourceUnavailable",
    "UnknownSymbolError",
    "completed_bars",
    "get_provider",
    "resample_bars",
    "validate_bars",
]

# Live providers that take no argument; ``ccxt`` takes its exchange (``ccxt:binance``).
_LIVE = {
    "yfinance": ("tradecrew.data.yfinance", "YFinanceProvider"),
    "mt5": ("tradecrew.data.mt5", "Mt5DataProvider"),
    "openbb": ("tradecrew.data.openbb", "OpenBBProvider"),
}


def get_provider(source: str) -> Provider:
    """The provider named by ``source``: ``sample``, ``csv:PATH``, ``alpaca``, ``yfinance``,
    ``openbb``, ``mt5`` or ``ccxt[:EXCHANGE]``; a DataError otherwise."""
    text = str(source).strip()
    kind, _, arg = text.partition(":")
    kind = kind.strip().lower()
    valid = (
        "'sample' (offline, the default), 'csv:PATH' (a file or a folder of OHLCV files), "
        "'alpaca' (US equities, ETFs and crypto; needs network and, for stocks, keys), "
        "'yfinance', 'openbb', 'mt5' or 'ccxt[:EXCHANGE]' (crypto exchanges, no keys)"
    )
    if kind == "alpaca" and not arg:
        from tradecrew.data.alpaca import AlpacaProvider

        return AlpacaProvider()
    if kind == "sample" and not arg:
        from tradecrew.data.sample import SampleProvider

        return SampleProvider()
    if kind == "csv":
        if not arg.strip():
            raise DataError(f"the csv source needs a path; use {valid}")
        from tradecrew.data.csv import CsvProvider

        return CsvProvider(arg.strip())
    if kind in _LIVE and not arg:
        import importlib

        module, cls = _LIVE[kind]
        return getattr(importlib.import_module(module), cls)()
    if kind == "ccxt":
        from tradecrew.data.ccxt import CcxtProvider

        return CcxtProvider(exchange=arg.strip().lower() or None)
    raise DataError(f"unknown data source {source!r}; use {valid}")
