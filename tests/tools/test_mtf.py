from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import talib

from tradecrew.tools.mtf import mtf_series, multi_timeframe


def m5_bars(n: int = 4000, seed: int = 1, drift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC", name="timestamp")
    close = 100 * np.exp(np.cumsum(rng.normal(drift, 0.001, n)))
    open_ = np.r_[close[0], close[:-1]]
    wick = np.abs(rng.normal(0, 0.0005, n)) * close
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + wick,
            "low": np.minimum(open_, close) - wick,
            "close": close,
            "volume": rng.integers(1, 100, n).astype(float),
        },
        index=idx,
    )


def formula(bars: pd.DataFrame) -> np.ndarray:
    h, lo, c = (bars[k].to_numpy(float) for k in ("high", "low", "close"))
    return np.tanh((talib.EMA(c, 12) - talib.EMA(c, 26)) / talib.ATR(h, lo, c, 14))


def test_fused_series_is_identical_on_every_prefix() -> None:
    df = m5_bars(3500, seed=2)
    full = mtf_series(df)
    rng = np.random.default_rng(5)
    for cut in rng.integers(30, len(df), 20):
        part = mtf_series(df.iloc[: cut + 1])
        np.testing.assert_allclose(part.to_numpy(), full.iloc[: cut + 1].to_numpy(), atol=1e-12)
        snap = multi_timeframe(df.iloc[: cut + 1])
        if snap.fused_score is None:
            assert np.isnan(full.iloc[cut])
        else:
            assert snap.fused_score == pytest.approx(full.iloc[cut], abs=1e-12)


def test_changing_bars_after_t_does_not_change_the_answer_at_t() -> None:
    df = m5_bars(3000, seed=3)
    t = 2500  # mid-way through an H4 bar
    shocked = df.copy()
    shocked.iloc[t + 1 :, :4] *= 1.5
    a, b = mtf_series(df), mtf_series(shocked)
    np.testing.assert_array_equal(a.iloc[: t + 1].to_numpy(), b.iloc[: t + 1].to_numpy())
    assert not np.allclose(a.iloc[t + 60 :], b.iloc[t + 60 :])


def test_only_completed_coarse_bars_are_used() -> None:
    df = m5_bars(3000, seed=4)
    # The 05:55 bar ends at 06:00: the 04:00-08:00 H4 bar is still forming.
    at = df.index.get_loc(pd.Timestamp("2024-01-08 05:55", tz="UTC"))
    res = {t.timeframe: t for t in multi_timeframe(df.iloc[: at + 1]).timeframes}
    assert res["H4"].last_completed == datetime(2024, 1, 8, 0, 0, tzinfo=UTC)
    assert res["H1"].last_completed == datetime(2024, 1, 8, 5, 0, tzinfo=UTC)
    assert res["M15"].last_completed == datetime(2024, 1, 8, 5, 45, tzinfo=UTC)
    assert res["M5"].last_completed == datetime(2024, 1, 8, 5, 55, tzinfo=UTC)
    assert res["H4"].bars_used == 7 * 6 + 1  # 1-7 January, then 00:00 on the 8th
    # The 07:50 bar ends at 07:55, still inside; the 07:55 bar ends at 08:00 and closes it.
    before = {t.timeframe: t for t in multi_timeframe(df.iloc[: at + 24]).timeframes}
    assert before["H4"].last_completed == datetime(2024, 1, 8, 0, 0, tzinfo=UTC)
    later = {t.timeframe: t for t in multi_timeframe(df.iloc[: at + 25]).timeframes}
    assert later["H4"].last_completed == datetime(2024, 1, 8, 4, 0, tzinfo=UTC)


def test_each_timeframe_score_is_the_atr_scaled_ema_spread() -> None:
    df = m5_bars(3000, seed=6)
    res = {t.timeframe: t for t in multi_timeframe(df).timeframes}
    assert res["M5"].score == pytest.approx(formula(df)[-1], abs=1e-12)
    # M15 bars built by hand from three consecutive M5 bars (the data starts on a boundary).
    n = len(df) // 3 * 3
    block = df.iloc[:n].to_numpy().reshape(-1, 3, 5)
    m15 = pd.DataFrame(
        {
            "open": block[:, 0, 0],
            "high": block[:, :, 1].max(1),
            "low": block[:, :, 2].min(1),
            "close": block[:, -1, 3],
        }
    )
    assert res["M15"].score == pytest.approx(formula(m15)[-1], abs=1e-12)
    fused = sum(t.effective_weight * t.score for t in res.values())
    assert multi_timeframe(df).fused_score == pytest.approx(fused, abs=1e-12)


def test_steady_uptrend_scores_positive_everywhere_with_full_agreement() -> None:
    up = multi_timeframe(m5_bars(4000, seed=7, drift=0.0004))
    assert all(t.available and t.score > 0.3 for t in up.timeframes)
    assert up.fused_score > 0.3 and up.agreement == 1.0
    down = multi_timeframe(m5_bars(4000, seed=7, drift=-0.0004))
    assert down.fused_score < -0.3 and down.agreement == 1.0


def test_coarser_input_marks_fine_timeframes_unavailable_and_renormalises(
    eurusd_h1: pd.DataFrame,
) -> None:
    res = multi_timeframe(eurusd_h1)
    by = {t.timeframe: t for t in res.timeframes}
    assert res.base_minutes == 60
    assert not by["M5"].available and "coarser" in by["M5"].reason
    assert not by["M15"].available and by["M15"].effective_weight == 0.0
    assert by["H1"].effective_weight == pytest.approx(0.3 / 0.7)
    assert by["H4"].effective_weight == pytest.approx(0.4 / 0.7)
    expected = (0.3 * by["H1"].score + 0.4 * by["H4"].score) / 0.7
    assert res.fused_score == pytest.approx(expected, abs=1e-12)
    assert by["H1"].score == pytest.approx(formula(eurusd_h1)[-1], abs=1e-12)
    agreeing = sum(
        t.effective_weight for t in by.values() if t.available and t.score * res.fused_score > 0
    )
    assert res.agreement == pytest.approx(agreeing)
    series = mtf_series(eurusd_h1).dropna()
    assert len(series) > 4000 and series.between(-1, 1).all()


def test_too_few_coarse_bars_leave_that_timeframe_without_a_score() -> None:
    df = m5_bars(300, seed=8)  # 25 hours: 6 H4 bars, 25 H1 bars
    by = {t.timeframe: t for t in multi_timeframe(df).timeframes}
    assert by["M5"].available and by["M15"].available
    assert not by["H1"].available and not by["H4"].available
    assert "needs 26" in by["H4"].reason
    assert by["M5"].effective_weight == pytest.approx(0.1 / 0.3)


def test_custom_weights_select_timeframes() -> None:
    df = m5_bars(3000, seed=9)
    only_h1 = multi_timeframe(df, weights={"H1": 1.0})
    assert [t.timeframe for t in only_h1.timeframes] == ["H1"]
    assert only_h1.fused_score == only_h1.timeframes[0].score
    series = mtf_series(df, weights={"1h": 1.0})
    assert series.iloc[-1] == only_h1.fused_score


def test_weights_default_to_the_built_in_ones_never_the_process_settings(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.config_sections import FusionSettings

    monkeypatch.setenv("TRADECREW_FUSION__TIMEFRAME_WEIGHTS", '{"M15": 1.0, "H1": 0.0}')
    get_settings.cache_clear()
    bars = m5_bars(3000, seed=10)
    built_in = multi_timeframe(bars, FusionSettings().timeframe_weights)
    assert multi_timeframe(bars) == built_in
    res = multi_timeframe(bars, get_settings().fusion.timeframe_weights)
    by = {t.timeframe: t for t in res.timeframes}
    assert set(by) == {"M15", "H1"}
    assert res.fused_score == by["M15"].score and by["H1"].effective_weight == 0.0


def test_bad_inputs_are_rejected() -> None:
    df = m5_bars(200)
    with pytest.raises(ValueError, match="timeframe"):
        multi_timeframe(df, weights={"H7": 1.0})
    with pytest.raises(ValueError, match=">= 0"):
        multi_timeframe(df, weights={"H1": -1.0})
    with pytest.raises(ValueError, match="above zero"):
        multi_timeframe(df, weights={"H1": 0.0})
    with pytest.raises(ValueError, match="timezone-aware"):
        multi_timeframe(df.tz_localize(None))
    broken = df.copy()
    broken.iloc[5, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mtf_series(broken)
    with pytest.raises(ValueError):
        multi_timeframe(df.iloc[:1])
    with pytest.raises(TypeError):
        multi_timeframe(df["close"])  # type: ignore[arg-type]
