"""Volume analysis against plain pandas rolling computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradecrew.tools.volume import VolumeAnalysis, volume_analysis, volume_series


def _frame(close: list[float], volume: list[float]) -> pd.DataFrame:
    c = np.asarray(close, float)
    index = pd.date_range("2024-01-01", periods=len(c), freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": c, "high": c + 1, "low": c - 1, "close": c, "volume": np.asarray(volume, float)},
        index=index,
    )


def test_columns_match_pandas_rolling(xauusd_d1: pd.DataFrame) -> None:
    period = 20
    got = volume_series(xauusd_d1, period)
    v, c = xauusd_d1["volume"], xauusd_d1["close"]
    ma = v.rolling(period).mean()
    sd = v.rolling(period).std(ddof=0)
    change = c.diff()
    up = v.where(change > 0, 0.0).rolling(period).sum().where(change.notna().cumsum() >= period)
    down = v.where(change < 0, 0.0).rolling(period).sum().where(change.notna().cumsum() >= period)
    np.testing.assert_allclose(got["volume_ma"], ma, rtol=1e-9)
    np.testing.assert_allclose(got["volume_ratio"], v / ma, rtol=1e-9)
    np.testing.assert_allclose(got["volume_z"], (v - ma) / sd, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(got["up_volume"], up, rtol=1e-9)
    np.testing.assert_allclose(got["down_volume"], down, rtol=1e-9)
    np.testing.assert_allclose(got["up_volume_share"], up / (up + down), rtol=1e-9)


def test_obv_slope_is_least_squares_slope_in_average_volumes() -> None:
    # Every bar closes higher on volume 10, so OBV climbs 10 per bar: slope = 1 average bar.
    df = _frame(list(range(100, 130)), [10.0] * 30)
    last = volume_series(df, 10).iloc[-1]
    assert last["obv_slope"] == pytest.approx(1.0)
    assert last["up_volume_share"] == 1.0 and last["down_volume"] == 0.0
    assert last["volume_z"] == 0.0  # constant volume: no surprise, and no division by zero


def test_snapshot_reads_spike_and_accumulation() -> None:
    close = list(range(100, 130))
    volume = [10.0] * 29 + [100.0]
    snap = volume_analysis(_frame(close, volume), period=10)
    assert isinstance(snap, VolumeAnalysis)
    # z of a lone spike among n-1 equal values is (n-1)/sqrt(n-1) = 3 for n = 10.
    assert snap.volume_z == pytest.approx(3.0)
    assert snap.activity == "extreme"
    assert snap.volume_ratio == pytest.approx(100.0 / 19.0)
    # Close at the high-low midpoint means ADL does not move, so OBV alone is not enough.
    assert snap.flow == "mixed"


def test_no_volume_is_reported_as_none() -> None:
    snap = volume_analysis(_frame(list(range(100, 130)), [0.0] * 30), period=10)
    assert snap.activity == "none" and snap.flow == "none" and snap.volume_ratio == 0.0


def test_prefix_gives_the_same_rows(xauusd_d1: pd.DataFrame) -> None:
    data = xauusd_d1.iloc[-800:]
    full = volume_series(data)
    for cut in (25, 300, 799):
        pd.testing.assert_frame_equal(volume_series(data.iloc[: cut + 1]), full.iloc[: cut + 1])


def test_bad_input() -> None:
    df = _frame(list(range(100, 130)), [1.0] * 30)
    with pytest.raises(ValueError, match="at least 2"):
        volume_series(df, 1)
    with pytest.raises(ValueError, match="needs at least 31 bars"):
        volume_analysis(df, 30)
    neg = df.copy()
    neg.iloc[3, 4] = -5.0
    with pytest.raises(ValueError, match="negative volume"):
        volume_series(neg, 5)
