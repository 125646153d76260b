"""Checks that bars are fit to trade on, gap reports, and explicit, reported repairs.

Bad data is never used silently: ``validate_bars`` raises a ``BadDataError`` naming the
source, the row and the problem; ``repair_bars`` fixes what a user chose to fix and says
exactly what it changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.data.base import COLUMNS, INDEX_NAME, TIME_UNIT, BadDataError, parse_timeframe
from tradecrew.models import Timeframe

_WEEK_NS = 7 * 86_400 * 10**9
_WEEKEND_NS = 2 * 86_400 * 10**9
# 1970-01-03 was a Saturday: counting Saturday-midnight crossings from it finds weekends.
_SATURDAY0_NS = 2 * 86_400 * 10**9


class Gap(BaseModel):
    """A stretch with more bars missing than a weekend or a holiday explains."""

    model_config = ConfigDict(extra="forbid")

    start: datetime = Field(description="the last bar before the gap")
    end: datetime = Field(description="the first bar after the gap")
    missing_bars: int = Field(ge=1)


class RepairReport(BaseModel):
    """What ``repair_bars`` changed, so a repair is never silent."""

    model_config = ConfigDict(extra="forbid")

    rows_in: int
    rows_out: int
    sorted: bool = Field(False, description="True when the rows were out of order")
    duplicates_dropped: int = 0
    invalid_dropped: int = 0
    changes: list[str] = Field(default_factory=list)


def validate_bars(
    df: pd.DataFrame, source_name: str, *, rows: Sequence[int] | np.ndarray | None = None
) -> pd.DataFrame:
    """The canonical float64 frame, or a ``BadDataError`` for the first problem found.

    ``rows`` gives each bar's 1-based line number in the source file so the error can
    point at it; without it rows are counted 1-based from the top of the frame.
    """
    line = _row_numbers(len(df), rows)
    if not isinstance(df.index, pd.DatetimeIndex):
        raise BadDataError(source_name, None, "the index is not a DatetimeIndex of timestamps")
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise BadDataError(source_name, None, f"missing column(s): {', '.join(missing)}")
    if len(df) == 0:
        raise BadDataError(source_name, None, "no bars (the data is empty)")

    values = {}
    for col in COLUMNS:
        try:
            values[col] = df[col].to_numpy(dtype="float64")
        except (TypeError, ValueError):
            raw = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype="float64")
            bad = np.flatnonzero(np.isnan(raw) & df[col].notna().to_numpy())
            i = int(bad[0]) if len(bad) else 0
            # The text itself is not quoted: error messages never carry file contents.
            raise BadDataError(source_name, int(line[i]), f"{col} is not a number") from None
    index = df.index

    def fail(mask: np.ndarray, problem: Callable[[int], str]) -> None:
        hits = np.flatnonzero(mask)
        if len(hits):
            i = int(hits[0])
            more = f" (and {len(hits) - 1} more row(s) with this problem)" if len(hits) > 1 else ""
            raise BadDataError(source_name, int(line[i]), f"{problem(i)}{more}")

    fail(np.asarray(index.isna()), lambda i: "missing or unreadable timestamp")
    for col in COLUMNS:
        v = values[col]

        def nan_at(i: int, c: str = col) -> str:
            return f"{c} is missing (NaN) at {index[i]}"

        def inf_at(i: int, c: str = col, v: np.ndarray = v) -> str:
            return f"{c} is infinite ({v[i]}) at {index[i]}"

        fail(np.isnan(v), nan_at)
        fail(np.isinf(v), inf_at)
    o, h, lo, c, vol = (values[k] for k in COLUMNS)
    fail(
        h < lo,
        lambda i: f"high {h[i]} is below low {lo[i]} at {index[i]}",
    )
    for name, arr in (("open", o), ("close", c)):

        def outside_range(i: int, n: str = name, a: np.ndarray = arr) -> str:
            return f"{n} {a[i]} is outside [low {lo[i]}, high {h[i]}] at {index[i]}"

        fail((arr < lo) | (arr > h), outside_range)
    fail(vol < 0, lambda i: f"volume {vol[i]} is negative at {index[i]}")
    dup = np.asarray(index.duplicated(keep="first"))
    if dup.any():

        def first_row(i: int) -> int:
            return int(line[int(np.flatnonzero(index == index[i])[0])])

        fail(dup, lambda i: f"duplicate timestamp {index[i]} (first seen at row {first_row(i)})")
    ns = index.asi8
    fail(
        np.concatenate(([False], ns[1:] < ns[:-1])),
        lambda i: f"timestamps are not sorted: {index[i]} comes after {index[i - 1]}",
    )
    return _canonical(df, values)


def _row_numbers(n: int, rows: Sequence[int] | np.ndarray | None) -> np.ndarray:
    if rows is None:
        return np.arange(1, n + 1)
    out = np.asarray(rows, dtype=np.int64)
    if len(out) != n:
        raise ValueError(f"rows has {len(out)} entries for {n} bars")
    return out


def _canonical(df: pd.DataFrame, values: dict[str, np.ndarray]) -> pd.DataFrame:
    index = df.index
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")
    index = pd.DatetimeIndex(index, name=INDEX_NAME).as_unit(TIME_UNIT)
    out = pd.DataFrame({c: values[c] for c in COLUMNS}, index=index)
    out.attrs = dict(df.attrs)
    return out


def find_gaps(
    df: pd.DataFrame,
    timeframe: Timeframe | str,
    *,
    factor: float = 3.0,
    skip_weekends: bool = True,
) -> list[Gap]:
    """Gaps between consecutive bars longer than ``factor`` bar lengths.

    With ``skip_weekends`` each Saturday the gap spans takes two days off its length, so
    the Friday-close to Sunday/Monday-open pause of forex, metals and stocks is not a gap
    while a missing week still is. Turn it off for markets that trade every day.
    """
    tf = parse_timeframe(timeframe)
    if len(df) < 2:
        return []
    ns = pd.DatetimeIndex(df.index).as_unit("ns").asi8
    step = tf.minutes * 60 * 10**9
    delta = np.diff(ns)
    if skip_weekends and tf.minutes < Timeframe.W1.minutes:
        weekends = (ns[1:] - _SATURDAY0_NS) // _WEEK_NS - (ns[:-1] - _SATURDAY0_NS) // _WEEK_NS
        delta = delta - weekends * _WEEKEND_NS
    gaps = []
    for i in np.flatnonzero(delta > factor * step):
        gaps.append(
            Gap(
                start=df.index[i].to_pydatetime(),
                end=df.index[i + 1].to_pydatetime(),
                missing_bars=max(round(float(delta[i]) / step) - 1, 1),
            )
        )
    return gaps


def repair_bars(
    df: pd.DataFrame,
    drop_duplicates: bool = True,
    sort: bool = True,
    *,
    drop_invalid: bool = False,
    source_name: str = "frame",
) -> tuple[pd.DataFrame, RepairReport]:
    """Fix what the caller asked for, validate the result, and report every change.

    Duplicates keep the last row for a timestamp (a later line is the later revision);
    ``drop_invalid`` removes rows with NaN/inf prices, high < low, open/close outside the
    range or negative volume. Anything not fixed still fails validation loudly.
    """
    report = RepairReport(rows_in=len(df), rows_out=len(df))
    out = df.copy()
    if isinstance(out.index, pd.DatetimeIndex) and out.index.isna().any() and drop_invalid:
        n = int(out.index.isna().sum())
        out = out.loc[~out.index.isna()]
        report.invalid_dropped += n
        report.changes.append(f"dropped {n} row(s) without a readable timestamp")
    if drop_invalid and all(c in out.columns for c in COLUMNS):
        num = out[list(COLUMNS)].apply(pd.to_numeric, errors="coerce").astype("float64")
        o, h, lo, c, v = (num[k].to_numpy() for k in COLUMNS)
        bad = (
            ~np.isfinite(num.to_numpy()).all(axis=1)
            | (h < lo)
            | (o < lo)
            | (o > h)
            | (c < lo)
            | (c > h)
            | (v < 0)
        )
        if bad.any():
            n = int(bad.sum())
            out = out.loc[~bad]
            report.invalid_dropped += n
            report.changes.append(f"dropped {n} invalid row(s) (NaN/inf, high<low, out of range)")
    if sort and not out.index.is_monotonic_increasing:
        out = out.sort_index(kind="mergesort")  # stable: duplicates keep their file order
        report.sorted = True
        report.changes.append("sorted the rows by timestamp")
    if drop_duplicates and out.index.has_duplicates:
        dup = out.index.duplicated(keep="last")
        n = int(dup.sum())
        out = out.loc[~dup]
        report.duplicates_dropped = n
        report.changes.append(f"dropped {n} duplicate timestamp(s), keeping the last row of each")
    report.rows_out = len(out)
    return validate_bars(out, source_name), report
