"""Checks shared by the bar-based tools: one place that turns a frame into float64 arrays."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

OHLCV = ("open", "high", "low", "close", "volume")


class NotEnoughBars(ValueError):
    """Fewer bars than a calculation needs; ``needed`` says how many it wants."""

    def __init__(self, what: str, needed: int, got: int) -> None:
        super().__init__(f"{what} needs at least {needed} bars, got {got}")
        self.needed = needed
        self.got = got


def ohlcv_arrays(df: pd.DataFrame, needed: int, what: str) -> tuple[np.ndarray, ...]:
    """Validate a canonical bars frame and return contiguous float64 (open, high, low, close,
    volume); bad data raises a ValueError naming the problem rather than being used."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} expects a pandas DataFrame of bars, got {type(df).__name__}")
    missing = [c for c in OHLCV if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: bars frame lacks column(s) {', '.join(missing)}")
    if len(df) < needed:
        raise NotEnoughBars(what, needed, len(df))
    index = df.index
    if not isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"{what}: bars need a DatetimeIndex, got {type(index).__name__}")
    if not index.is_monotonic_increasing:
        raise ValueError(f"{what}: bar timestamps are not sorted ascending")
    if not index.is_unique:
        raise ValueError(f"{what}: bar timestamps contain duplicates")
    # Selecting columns builds a new frame (~0.1 ms); skip it when the frame is canonical.
    frame = df if tuple(df.columns) == OHLCV else df[list(OHLCV)]
    try:
        block = np.ascontiguousarray(frame.to_numpy(dtype=np.float64).T)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what}: OHLCV columns must be numeric ({exc})") from None
    finite = np.isfinite(block)
    if not finite.all():
        col, row = np.argwhere(~finite)[0]
        raise ValueError(
            f"{what}: {OHLCV[col]} is NaN or infinite at {index[row]} "
            f"({int((~finite).sum())} bad value(s)); repair or drop those bars first"
        )
    o, h, low, c, v = block
    bad = np.flatnonzero(h < low)
    if bad.size:
        raise ValueError(f"{what}: high < low at {index[bad[0]]} ({bad.size} bar(s))")
    if not (block[:4] > 0).all():
        row = np.flatnonzero((block[:4] <= 0).any(axis=0))[0]
        raise ValueError(f"{what}: zero or negative price at {index[row]}")
    if (v < 0).any():
        raise ValueError(f"{what}: negative volume at {index[np.flatnonzero(v < 0)[0]]}")
    return o, h, low, c, v


def last_timestamp(df: pd.DataFrame) -> datetime:
    """The last bar's time as an aware UTC datetime (a naive index is taken to be UTC)."""
    ts = pd.Timestamp(df.index[-1])
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime().astimezone(UTC)
