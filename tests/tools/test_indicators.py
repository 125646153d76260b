"""indicator_frame / indicators / component_scores against TA-Lib, pandas and their promises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrew.tools.indicators import (
    IndicatorParams,
    IndicatorSnapshot,
    NotEnoughBars,
    component_scores,
    indicator_frame,
    indicators,
)


def _bars(close: np.ndarray, spread: np.ndarray, volume: np.ndarray) -> pd.DataFrame:
    """A valid OHLCV frame around a close path: open is the previous close."""
    open_ = np.concatenate([[close[0]], close[:-1]])
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    index = pd.date_range("2024-01-01", periods=len(close), freq="h", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def _walk(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    return _bars(close, rng.uniform(0.01, 0.5, n), rng.integers(100, 10_000, n).astype(float))


def test_columns_match_talib_called_directly(xauusd_d1: pd.DataFrame) -> None:
    f = indicator_frame(xauusd_d1)
    h, low, c, v = (xauusd_d1[k].to_numpy() for k in ("high", "low", "close", "volume"))
    macd, sig, hist = talib.MACD(c, 12, 26, 9)
    k, d = talib.STOCH(h, low, c, 14, 3, 0, 3, 0)
    up, mid, lo = talib.BBANDS(c, 20, 2.0, 2.0, 0)
    expected = {
        "rsi": talib.RSI(c, 14),
        "macd": macd,
        "macd_signal": sig,
        "macd_hist": hist,
        "stoch_k": k,
        "stoch_d": d,
        "mfi": talib.MFI(h, low, c, v, 14),
        "adl": talib.AD(h, low, c, v),
        "obv": talib.OBV(c, v),
        "atr": talib.ATR(h, low, c, 14),
        "adx": talib.ADX(h, low, c, 14),
        "plus_di": talib.PLUS_DI(h, low, c, 14),
        "minus_di": talib.MINUS_DI(h, low, c, 14),
        "bb_upper": up,
        "bb_middle": mid,
        "bb_lower": lo,
        "bb_width": (up - lo) / mid,
        "bb_pct": (c - lo) / (up - lo),
    }
    for name, want in expected.items():
        np.testing.assert_allclose(f[name].to_numpy(), want, rtol=0, atol=1e-6, err_msg=name)
    assert f.index.equals(xauusd_d1.index)


def test_awesome_oscillator_matches_pandas_rolling_means(xauusd_d1: pd.DataFrame) -> None:
    median = (xauusd_d1["high"] + xauusd_d1["low"]) / 2
    want = median.rolling(5).mean() - median.rolling(34).mean()
    got = indicator_frame(xauusd_d1)["ao"]
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=0, atol=1e-9)
    assert got.isna().sum() == 33


def test_custom_params_reach_talib(xauusd_d1: pd.DataFrame) -> None:
    p = IndicatorParams(rsi_period=7, bb_period=10, bb_std=1.5, ao_fast=3, ao_slow=10)
    f = indicator_frame(xauusd_d1, p)
    c = xauusd_d1["close"].to_numpy()
    np.testing.assert_allclose(f["rsi"], talib.RSI(c, 7), atol=1e-6)
    np.testing.assert_allclose(f["bb_upper"], talib.BBANDS(c, 10, 1.5, 1.5)[0], atol=1e-6)


@pytest.mark.parametrize("func", [indicator_frame, component_scores])
def test_prefix_gives_the_same_rows_as_the_full_history(func, xauusd_d1: pd.DataFrame) -> None:
    data = xauusd_d1.iloc[-1500:]
    full = func(data)
    rng = np.random.default_rng(7)
    for cut in rng.integers(IndicatorParams().min_bars, len(data), 6):
        prefix = func(data.iloc[: cut + 1])
        pd.testing.assert_frame_equal(
            prefix, full.iloc[: cut + 1], check_exact=False, rtol=0, atol=1e-12
        )


def test_snapshot_is_last_row_with_states(xauusd_d1: pd.DataFrame) -> None:
    data = xauusd_d1.copy()
    data.attrs.update(symbol="XAUUSD", synthetic=False)
    snap = indicators(data)
    last = indicator_frame(data).iloc[-1]
    scores = component_scores(data).iloc[-1]
    assert isinstance(snap, IndicatorSnapshot)
    assert snap.symbol == "XAUUSD" and snap.synthetic is False
    assert snap.timestamp == data.index[-1].to_pydatetime()
    assert snap.rsi == pytest.approx(last["rsi"]) and snap.adx == pytest.approx(last["adx"])
    assert snap.trend_score == pytest.approx(scores["trend"])
    want_rsi = "overbought" if last.rsi >= 70 else "oversold" if last.rsi <= 30 else "neutral"
    assert snap.rsi_state == want_rsi
    assert snap.macd_state.endswith("signal") or snap.macd_state.endswith("cross")
    assert ("above" in snap.macd_state or "bullish" in snap.macd_state) == (last.macd_hist > 0)


def test_states_read_a_steady_rally_as_overbought_strong_uptrend() -> None:
    n = 120
    close = 100.0 + np.arange(n) * 1.0
    df = _bars(close, np.full(n, 0.2), np.full(n, 1000.0))
    snap = indicators(df)
    assert snap.rsi_state == "overbought"
    assert snap.stoch_state == "overbought"
    assert snap.trend_direction == "up" and snap.trend_strength in ("very_strong", "extreme")
    assert snap.trend_score > 0.5 and snap.momentum_score > 0.5
    # Every close is above the last, so OBV only rises: volume confirms the move.
    assert snap.volume_score > 0.5


def test_motionless_market_scores_no_momentum() -> None:
    df = _walk(200)
    last = df["close"].iloc[159]
    df.iloc[160:, :4] = last  # forty bars that do not move at all
    s = component_scores(df).iloc[-1]
    assert s["momentum"] == pytest.approx(0.0, abs=1e-9)
    assert not np.isnan(s["trend"])


def test_macd_cross_detected_on_the_bar_it_happens() -> None:
    df = _walk(400, seed=3)
    hist = indicator_frame(df)["macd_hist"].to_numpy()
    crosses = np.flatnonzero((hist[:-1] <= 0) & (hist[1:] > 0)) + 1
    cut = int(crosses[crosses >= IndicatorParams().min_bars][0])
    assert indicators(df.iloc[: cut + 1]).macd_state == "bullish_cross"
    assert indicators(df.iloc[: cut + 2]).macd_state != "bullish_cross" or hist[cut] <= 0


def test_scores_are_nan_in_warm_up_and_defined_after() -> None:
    df = _walk(300)
    s = component_scores(df)
    assert list(s.columns) == [
        "trend",
        "trend_confidence",
        "momentum",
        "momentum_confidence",
        "volume",
        "volume_confidence",
    ]
    assert s.iloc[0].isna().all()
    assert s.iloc[IndicatorParams().min_bars - 2 :].notna().all().all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(60, 160),
    seed=st.integers(0, 2**32 - 1),
    vol=st.floats(0.0, 0.08),
    zero_volume=st.booleans(),
    flat_run=st.integers(0, 40),
)
def test_scores_stay_bounded_on_any_valid_bars(
    n: int, seed: int, vol: float, zero_volume: bool, flat_run: int
) -> None:
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0, vol, n)))
    spread = rng.uniform(0, 1, n) * (rng.random(n) < 0.7)
    if flat_run:  # a motionless tail: oscillators divide by zero ranges there
        close[n - flat_run :] = close[n - flat_run - 1]
        spread[n - flat_run :] = 0.0
    volume = np.zeros(n) if zero_volume else rng.exponential(1000, n)
    s = component_scores(_bars(close, spread, volume)).iloc[IndicatorParams().min_bars - 2 :]
    for name in ("trend", "momentum", "volume"):
        assert s[name].notna().all()
        assert ((s[name] >= -1) & (s[name] <= 1)).all()
        assert ((s[f"{name}_confidence"] >= 0) & (s[f"{name}_confidence"] <= 1)).all()
    if zero_volume:
        assert (s["volume"] == 0).all() and (s["volume_confidence"] == 0).all()


def test_too_few_bars_says_how_many_are_needed() -> None:
    need = IndicatorParams().min_bars
    with pytest.raises(NotEnoughBars, match=f"at least {need} bars, got {need - 1}"):
        indicator_frame(_walk(need - 1))
    assert indicator_frame(_walk(need)).iloc[-2:].notna().all().all()


def test_bad_input_is_refused_with_a_reason() -> None:
    df = _walk(120)
    with pytest.raises(ValueError, match="lacks column"):
        indicators(df.drop(columns="volume"))
    nan = df.copy()
    nan.iloc[50, nan.columns.get_loc("close")] = np.nan
    with pytest.raises(ValueError, match="close is NaN"):
        indicator_frame(nan)
    with pytest.raises(ValueError, match="not sorted"):
        component_scores(df.iloc[::-1])
    with pytest.raises(ValueError, match="duplicates"):
        indicator_frame(pd.concat([df.iloc[:60], df.iloc[59:]]))
    bad = df.copy()
    bad.iloc[10, bad.columns.get_loc("high")] = bad["low"].iloc[10] - 1
    with pytest.raises(ValueError, match="high < low"):
        indicator_frame(bad)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        indicator_frame(df.reset_index(drop=True))
    with pytest.raises(TypeError):
        indicator_frame(df["close"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="macd_fast"):
        IndicatorParams(macd_fast=30)
