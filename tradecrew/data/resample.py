"""Coarser bars from finer ones, and the higher-timeframe bars that are closed at a moment.

Bars are labelled at their start. Days and intraday bins are aligned to UTC midnight, weeks
start on Sunday 00:00 UTC (as MetaTrader's W1 bars do, so the Sunday-evening forex open
belongs to the week it opens) and months on the 1st.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradecrew.data.base import (
    COLUMNS,
    INDEX_NAME,
    TIME_UNIT,
    DataError,
    TimeLike,
    parse_timeframe,
    to_utc,
)
from tradecrew.models import Timeframe

_RULES = {tf: tf.pandas_rule for tf in Timeframe} | {Timeframe.W1: "W-SUN", Timeframe.MN1: "MS"}
_MINUTE_NS = 60 * 10**9
_BY_SIZE = sorted(Timeframe, key=lambda t: t.minutes)


def infer_timeframe(index: pd.DatetimeIndex) -> Timeframe | None:
    """The timeframe of bars from their median spacing; ``None`` with fewer than two bars.

    Months vary in length, so a median of 27 to 32 days is MN1; otherwise the largest
    timeframe not longer than the median spacing.
    """
    if len(index) < 2:
        return None
    ns = pd.DatetimeIndex(index).as_unit("ns").asi8
    diffs = np.diff(ns)
    diffs = diffs[diffs > 0]
    if len(diffs) == 0:
        return None
    median_min = float(np.median(diffs)) / _MINUTE_NS
    if 27 * 1440 <= median_min <= 32 * 1440:
        return Timeframe.MN1
    fitting = [t for t in _BY_SIZE if t.minutes <= median_min * 1.01]
    if not fitting:
        raise DataError(
            f"bars are spaced {median_min * 60:.0f} seconds apart (median); the finest "
            "supported timeframe is M1"
        )
    return fitting[-1]


def resample_bars(df: pd.DataFrame, timeframe: Timeframe | str) -> pd.DataFrame:
    """Bars of ``timeframe`` built from finer canonical bars (first/max/min/last/sum).

    Periods without any bar are dropped rather than filled, because an invented flat bar
    would be data nobody traded. Asking for a finer timeframe than the data is an error.
    """
    tf = parse_timeframe(timeframe)
    _check_frame(df)
    native = infer_timeframe(df.index)
    if native is not None and native.minutes > tf.minutes:
        raise DataError(
            f"the bars are {native.value}; {tf.value} bars cannot be made from coarser data"
        )
    if native is tf:
        return df.copy()
    # Fixed-length bins count from the epoch so a prefix of the data gets the same bins.
    anchor = {"origin": "epoch"} if tf.minutes < Timeframe.D1.minutes else {}
    grouped = df[list(COLUMNS)].resample(_RULES[tf], closed="left", label="left", **anchor)
    out = pd.DataFrame(
        {
            "open": grouped["open"].first(),
            "high": grouped["high"].max(),
            "low": grouped["low"].min(),
            "close": grouped["close"].last(),
            "volume": grouped["volume"].sum(),
        }
    )
    out = out.loc[out["open"].notna().to_numpy()]
    out.index = pd.DatetimeIndex(out.index, name=INDEX_NAME).as_unit(TIME_UNIT)
    out.attrs = dict(df.attrs)
    return out


def bar_end(index: pd.DatetimeIndex, timeframe: Timeframe | str) -> pd.DatetimeIndex:
    """When each bar labelled at its start closes."""
    tf = parse_timeframe(timeframe)
    if tf is Timeframe.MN1:
        return index + pd.DateOffset(months=1)
    return index + pd.Timedelta(minutes=tf.minutes)


def completed_bars(df: pd.DataFrame, timeframe: Timeframe | str, asof: TimeLike) -> pd.DataFrame:
    """Only the ``timeframe`` bars fully closed at ``asof``, so nothing looks ahead.

    ``df`` may hold bars of ``timeframe`` itself or finer ones, which are resampled from
    the part before ``asof`` first.
    """
    tf = parse_timeframe(timeframe)
    _check_frame(df)
    at = to_utc(asof, "asof")
    native = infer_timeframe(df.index)
    # A lone bar's timeframe is unknown; binning it is right whether it is finer or not.
    if native is None or native.minutes < tf.minutes:
        before = df.loc[(df.index < at)]
        if before.empty:
            return before.copy()
        df = resample_bars(before, tf)
    ends = bar_end(df.index, tf)
    return df.loc[np.asarray(ends <= at)].copy()


def _check_frame(df: pd.DataFrame) -> None:
    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is None:
        raise DataError("bars need a timezone-aware DatetimeIndex (canonical frame)")
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"bars are missing column(s): {', '.join(missing)}")
    if not df.index.is_monotonic_increasing or df.index.has_duplicates:
        raise DataError("bars must be sorted with unique timestamps; see validate_bars")
