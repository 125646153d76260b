"""Bars for a backtest from any data source, cut to a date range."""

from __future__ import annotations

import sys

import pandas as pd

from tradecrew.config import get_settings
from tradecrew.data.base import filter_range, parse_timeframe, to_utc
from tradecrew.tools.catalog import load_bars


def load(
    symbol: str,
    timeframe: str = "D1",
    source: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> pd.DataFrame:
    """Every bar of ``symbol`` the source has (the configured one when None), from ``start``
    to ``end`` inclusive (dates or times, UTC); a DataError (a ValueError) for bad dates or an
    empty range."""
    tf = parse_timeframe(timeframe)
    lo = to_utc(start, "--from date") if start else None
    hi = to_utc(end, "--to date") if end else None
    if hi is not None and end is not None and len(str(end).strip()) <= 10:
        hi = hi + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")  # a bare date: the whole day
    bars = load_bars(symbol, tf, source or get_settings().data_source, None, sys.maxsize)
    attrs = dict(bars.attrs)
    out = filter_range(bars, lo, hi, f"{symbol} {tf.value}")
    out.attrs.update(attrs)
    out.attrs.setdefault("symbol", symbol.strip().upper())
    return out
