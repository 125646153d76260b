from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.data import DataError, completed_bars, resample_bars
from tradecrew.data.resample import bar_end, infer_timeframe
from tradecrew.models import Timeframe


def _frame(index: pd.DatetimeIndex, rows: list[tuple[float, ...]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["open", "high", "low", "close", "volume"], index=index.rename("timestamp")
    ).astype("float64")


def test_m15_to_h1_by_hand() -> None:
    idx = pd.date_range("2024-03-04 00:00", periods=6, freq="15min", tz="UTC")
    df = _frame(
        idx,
        [
            (1.0, 1.5, 0.9, 1.2, 10),
            (1.2, 1.3, 1.1, 1.25, 5),
            (1.25, 2.0, 1.2, 1.9, 7),
            (1.9, 1.95, 0.5, 0.8, 3),
            (0.8, 0.9, 0.7, 0.85, 1),
            (0.85, 1.1, 0.8, 1.0, 2),
        ],
    )
    out = resample_bars(df, "H1")
    assert list(out.index) == [
        pd.Timestamp("2024-03-04 00:00", tz="UTC"),
        pd.Timestamp("2024-03-04 01:00", tz="UTC"),
    ]
    assert out.iloc[0].tolist() == [1.0, 2.0, 0.5, 0.8, 25.0]
    assert out.iloc[1].tolist() == [0.8, 1.1, 0.7, 1.0, 3.0]


def test_empty_periods_are_dropped_not_filled() -> None:
    idx = pd.DatetimeIndex(
        ["2024-03-04 00:00", "2024-03-04 00:05", "2024-03-04 09:00", "2024-03-04 09:05"], tz="UTC"
    )
    df = _frame(idx, [(1, 1, 1, 1, 1)] * 4)
    out = resample_bars(df, "H1")
    assert len(out) == 2 and out["volume"].tolist() == [2.0, 2.0]


def test_daily_to_weekly_weeks_start_sunday_and_months_on_the_first() -> None:
    idx = pd.bdate_range("2024-01-01", "2024-02-09", tz="UTC")  # Mon 1 Jan .. Fri 9 Feb
    df = _frame(idx, [(i, i + 1, i - 1, i + 0.5, 1) for i in range(10, 10 + len(idx))])
    weekly = resample_bars(df, "W1")
    assert (weekly.index.dayofweek == 6).all()  # Sunday labels
    assert weekly.index[0] == pd.Timestamp("2023-12-31", tz="UTC")
    assert weekly["volume"].tolist() == [5.0] * 6
    assert weekly["open"].iloc[1] == 15 and weekly["close"].iloc[1] == 19.5
    monthly = resample_bars(df, "MN1")
    assert list(monthly.index.day) == [1, 1]
    assert monthly["volume"].tolist() == [23.0, 7.0]


def test_four_hour_bins_align_to_midnight_whatever_the_first_bar() -> None:
    idx = pd.date_range("2024-03-04 05:00", periods=10, freq="h", tz="UTC")
    out = resample_bars(_frame(idx, [(1, 1, 1, 1, 1)] * 10), "H4")
    assert [t.hour for t in out.index] == [4, 8, 12]
    assert out["volume"].tolist() == [3.0, 4.0, 3.0]


def test_finer_timeframe_than_the_data_is_refused(eurusd_h1: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="cannot be made from coarser"):
        resample_bars(eurusd_h1, "M15")


def test_same_timeframe_returns_an_equal_copy(eurusd_h1: pd.DataFrame) -> None:
    out = resample_bars(eurusd_h1, Timeframe.H1)
    pd.testing.assert_frame_equal(out, eurusd_h1)
    out.iloc[0, 0] = -1.0
    assert eurusd_h1.iloc[0, 0] != -1.0


def test_bad_inputs_are_data_errors() -> None:
    idx = pd.date_range("2024-01-01", periods=3, freq="D")
    naive = _frame(idx, [(1, 1, 1, 1, 1)] * 3)
    with pytest.raises(DataError, match="timezone-aware"):
        resample_bars(naive, "W1")
    with pytest.raises(DataError, match="unknown timeframe"):
        resample_bars(naive.tz_localize("UTC"), "H7")
    with pytest.raises(DataError, match="missing column"):
        resample_bars(naive.tz_localize("UTC").drop(columns="close"), "W1")
    with pytest.raises(DataError, match="sorted"):
        resample_bars(naive.tz_localize("UTC").iloc[::-1], "W1")


def test_infer_timeframe_of_the_shared_files(
    xauusd_d1: pd.DataFrame, eurusd_h1: pd.DataFrame, goog_d1: pd.DataFrame
) -> None:
    assert infer_timeframe(xauusd_d1.index) is Timeframe.D1
    assert infer_timeframe(eurusd_h1.index) is Timeframe.H1
    assert infer_timeframe(goog_d1.index) is Timeframe.D1
    assert infer_timeframe(xauusd_d1.index[:1]) is None


def test_real_hourly_to_daily_matches_a_groupby_by_date(eurusd_h1: pd.DataFrame) -> None:
    daily = resample_bars(eurusd_h1, "D1")
    by_day = eurusd_h1.groupby(eurusd_h1.index.normalize())
    assert np.array_equal(daily["high"].to_numpy(), by_day["high"].max().to_numpy())
    assert np.array_equal(daily["open"].to_numpy(), by_day["open"].first().to_numpy())
    assert daily["volume"].sum() == eurusd_h1["volume"].sum()


# ----------------------------------------------------------------------------- completed


def test_completed_bars_drop_the_bar_still_open_at_asof() -> None:
    idx = pd.date_range("2024-03-04 00:00", periods=30, freq="5min", tz="UTC")  # to 02:25
    df = _frame(idx, [(i, i + 1, i - 1, i, 1) for i in range(1, 31)])
    at = pd.Timestamp("2024-03-04 02:00", tz="UTC")
    out = completed_bars(df, "H1", at)
    assert list(out.index.hour) == [0, 1]
    assert out["close"].iloc[-1] == 24.0  # the 01:55 bar's close
    assert len(completed_bars(df, "H1", "2024-03-04 01:59")) == 1


def test_completed_daily_bar_is_not_known_until_the_day_ends(goog_d1: pd.DataFrame) -> None:
    day = goog_d1.index[100]
    out = completed_bars(goog_d1, "D1", day)
    assert out.index[-1] == goog_d1.index[99]
    assert completed_bars(goog_d1, "D1", day + pd.Timedelta(days=1)).index[-1] == day


def _five_minute_walk() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    idx = pd.date_range("2024-03-01", periods=5_000, freq="5min", tz="UTC")
    close = 100 + np.cumsum(rng.normal(0, 0.1, len(idx)))
    return pd.DataFrame(
        {"open": close, "high": close + 0.2, "low": close - 0.2, "close": close, "volume": 1.0},
        index=idx.rename("timestamp"),
    )


WALK = _five_minute_walk()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 4_999), st.sampled_from(["M15", "H1", "H4", "D1"]))
def test_completed_bars_never_look_ahead(cut: int, tf: str) -> None:
    df, idx = WALK, WALK.index
    at = idx[cut]
    full = completed_bars(df, tf, at)
    prefix = completed_bars(df.loc[df.index < at], tf, at)
    pd.testing.assert_frame_equal(full, prefix)
    if len(full):
        assert (bar_end(full.index, tf) <= at).all()


# ----------------------------------------------------------------------------- properties


@st.composite
def minute_bars(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(2, 300))
    steps = draw(st.lists(st.integers(1, 3), min_size=n - 1, max_size=n - 1))
    start = draw(st.integers(0, 60 * 24 * 60))
    base = pd.Timestamp("2023-12-20", tz="UTC") + pd.Timedelta(minutes=start)
    idx = base + pd.to_timedelta(np.concatenate(([0], np.cumsum(steps))), unit="min")
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    o = rng.uniform(50, 150, n)
    c = rng.uniform(50, 150, n)
    h = np.maximum(o, c) + rng.uniform(0, 5, n)
    lo = np.minimum(o, c) - rng.uniform(0, 5, n)
    v = rng.integers(0, 1000, n).astype(float)
    return _frame(pd.DatetimeIndex(idx), list(zip(o, h, lo, c, v, strict=True)))


def _expected_label(ts: pd.DatetimeIndex, tf: Timeframe) -> pd.DatetimeIndex:
    if tf is Timeframe.W1:
        days_since_sunday = (ts.dayofweek + 1) % 7
        return ts.normalize() - pd.to_timedelta(days_since_sunday, unit="D")
    if tf is Timeframe.MN1:
        return ts.normalize() - pd.to_timedelta(ts.day - 1, unit="D")
    return ts.floor(f"{tf.minutes}min")


@settings(max_examples=40, deadline=None)
@given(minute_bars(), st.sampled_from(["M5", "M15", "H1", "H4", "D1", "W1", "MN1"]))
def test_resampled_bars_obey_ohlcv_rules(df: pd.DataFrame, tf_name: str) -> None:
    tf = Timeframe(tf_name)
    out = resample_bars(df, tf)
    assert out.index.is_monotonic_increasing and not out.index.has_duplicates
    assert out["volume"].sum() == pytest.approx(df["volume"].sum())
    labels = _expected_label(df.index, tf)
    groups = df.groupby(labels)
    assert list(out.index) == list(groups.size().index)
    for label, part in groups:
        bar = out.loc[label]
        assert bar["high"] >= part["high"].max() and bar["high"] == part["high"].max()
        assert bar["low"] == part["low"].min()
        assert bar["open"] == part["open"].iloc[0] and bar["close"] == part["close"].iloc[-1]
        assert bar["low"] <= min(bar["open"], bar["close"]) <= bar["high"]
        assert (part.index < bar_end(pd.DatetimeIndex([label]), tf)[0]).all()
