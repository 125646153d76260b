"""The synthetic generator: canonical, labelled, deterministic, calendar-aware, regime-true."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.data.synthetic import (
    bar_index,
    default_seed,
    generate_bars,
    generate_regime_path,
)
from tradecrew.instruments import get_instrument
from tradecrew.models import Regime, Timeframe

END = pd.Timestamp("2025-03-14 16:37", tz="UTC")  # a Friday afternoon


def _assert_canonical(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert all(str(t) == "float64" for t in df.dtypes)
    assert isinstance(df.index, pd.DatetimeIndex)
    assert str(df.index.tz) == "UTC"
    assert df.index.name == "timestamp"
    assert df.index.is_monotonic_increasing and df.index.is_unique
    values = df.to_numpy()
    assert np.isfinite(values).all()
    assert (df[["open", "high", "low", "close"]] > 0).all().all()
    assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
    assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    assert (df["volume"] > 0).all()


@pytest.mark.parametrize(
    ("symbol", "timeframe"),
    [("XAUUSD", "D1"), ("EURUSD", "H1"), ("AAPL", "M15"), ("BTCUSD", "H4"), ("SPX", "W1")],
)
def test_generated_bars_are_canonical_and_labelled_synthetic(symbol: str, timeframe: str) -> None:
    tf = Timeframe(timeframe)
    df = generate_bars(symbol, tf, 400, END, default_seed(symbol, tf))
    _assert_canonical(df)
    assert len(df) == 400
    assert df.attrs == {"symbol": symbol, "synthetic": True, "source": "sample:synthetic"}
    assert df.index[-1] <= END


def test_same_seed_gives_identical_bars_and_other_seed_differs() -> None:
    a = generate_bars("XAUUSD", Timeframe.H1, 300, END, 7)
    b = generate_bars("XAUUSD", Timeframe.H1, 300, END, 7)
    c = generate_bars("XAUUSD", Timeframe.H1, 300, END, 8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["close"].to_numpy(), c["close"].to_numpy())


def test_default_seed_is_stable_crc32_of_symbol_and_timeframe() -> None:
    import zlib

    assert default_seed("XAUUSD", Timeframe.D1) == zlib.crc32(b"XAUUSD|D1")
    assert default_seed("xauusd", "1d") == default_seed("XAUUSD", Timeframe.D1)
    assert default_seed("XAUUSD", Timeframe.H1) != default_seed("XAUUSD", Timeframe.D1)


def test_last_close_sits_near_the_instruments_typical_price() -> None:
    for symbol in ("XAUUSD", "EURUSD", "BTCUSD", "AAPL"):
        df = generate_bars(symbol, Timeframe.D1, 500, END, default_seed(symbol, "D1"))
        ratio = df["close"].iat[-1] / get_instrument(symbol).typical_price
        assert 0.8 < ratio < 1.25, (symbol, ratio)


def test_volatility_follows_the_instruments_annual_volatility() -> None:
    # Regimes scale volatility by 0.6x..2.5x around the instrument's normal, so the
    # long-run figure lands within a factor of ~2 of it, and the ordering holds.
    def annual(symbol: str) -> float:
        df = generate_bars(symbol, Timeframe.D1, 3000, END, 11)
        return float(np.log(df["close"]).diff().std() * np.sqrt(252))

    eur, btc = annual("EURUSD"), annual("BTCUSD") / np.sqrt(365 / 252)
    assert 0.5 * 0.07 < eur < 2.0 * 0.07
    assert 0.5 * 0.6 < btc < 2.0 * 0.6
    assert btc > 4 * eur


def test_unknown_symbol_gets_a_generic_profile() -> None:
    df = generate_bars("ZZTOP", Timeframe.D1, 200, END, 3)
    _assert_canonical(df)
    assert df.attrs["symbol"] == "ZZTOP"
    assert 50 < df["close"].iat[-1] < 200


def test_forex_skips_weekends_and_crypto_trades_them() -> None:
    fx = generate_bars("EURUSD", Timeframe.H1, 500, END, 1)
    btc = generate_bars("BTCUSD", Timeframe.H1, 500, END, 1)
    assert (fx.index.dayofweek < 5).all()
    assert (btc.index.dayofweek >= 5).any()
    assert (np.diff(btc.index.asi8) == 3_600 * 10**9).all()


def test_equity_daily_is_business_days_and_intraday_is_the_cash_session() -> None:
    daily = generate_bars("AAPL", Timeframe.D1, 300, END, 1)
    assert (daily.index.dayofweek < 5).all()
    assert (daily.index == daily.index.normalize()).all()
    intraday = generate_bars("AAPL", Timeframe.M30, 300, END, 1)
    minutes = intraday.index.hour * 60 + intraday.index.minute
    assert ((minutes >= 14 * 60 + 30) & (minutes < 21 * 60)).all()
    assert (intraday.index.dayofweek < 5).all()
    assert intraday.index[-1] == pd.Timestamp("2025-03-14 16:30", tz="UTC")


def test_bars_sit_on_the_timeframe_grid_ending_at_or_before_end() -> None:
    idx = bar_index(Timeframe.M15, 50, pd.Timestamp("2025-03-12 10:07", tz="UTC"), "24x5")
    assert idx[-1] == pd.Timestamp("2025-03-12 10:00", tz="UTC")
    assert (idx.minute % 15 == 0).all()
    # A Saturday end falls back to Friday's last bar for a 24x5 market.
    sat = bar_index(Timeframe.H4, 10, pd.Timestamp("2025-03-15 12:00", tz="UTC"), "24x5")
    assert sat[-1] == pd.Timestamp("2025-03-14 20:00", tz="UTC")
    naive = bar_index(Timeframe.D1, 5, pd.Timestamp("2025-03-12 10:00"), "24x5")
    assert naive[-1] == pd.Timestamp("2025-03-12", tz="UTC")


def test_forex_sessions_shape_intraday_activity() -> None:
    df = generate_bars("EURUSD", Timeframe.H1, 24 * 5 * 40, END, 5)
    hour = df.index.hour
    vol = df["volume"].groupby(hour).median()
    rng = (np.log(df["high"]) - np.log(df["low"])).groupby(hour).median()
    asia, london, overlap = range(0, 7), range(7, 12), range(12, 16)
    assert vol[list(overlap)].mean() > vol[list(london)].mean() > vol[list(asia)].mean()
    assert rng[list(overlap)].mean() > 1.5 * rng[list(asia)].mean()


def test_regime_path_labels_cover_every_bar_with_regime_values() -> None:
    bars, labels = generate_regime_path(2000, 4)
    assert labels.index.equals(bars.index)
    assert set(labels.unique()) <= {r.value for r in Regime}
    assert len(set(labels.unique())) == 4
    runs = (labels != labels.shift()).cumsum()
    lengths = labels.groupby(runs).size().to_numpy()
    assert lengths[:-1].min() >= 60 and lengths.max() <= 300


def test_regimes_are_statistically_distinct() -> None:
    ret, labels = [], []
    for seed in range(3):
        bars, lab = generate_regime_path(3000, seed)
        ret.append(np.log(bars["close"]).diff())
        labels.append(lab)
    r, lab = pd.concat(ret), pd.concat(labels)
    stats = r.groupby(lab).agg(["mean", "std"])
    sigma = 0.15 / np.sqrt(252)
    assert stats.loc["trending_bull", "mean"] > 0.15 * sigma
    assert stats.loc["trending_bear", "mean"] < -0.15 * sigma
    assert abs(stats.loc["volatile", "mean"]) < 0.1 * stats.loc["volatile", "std"]
    assert stats.loc["volatile", "std"] > 1.8 * stats.loc["trending_bull", "std"]
    assert stats.loc["ranging", "std"] < 0.8 * stats.loc["trending_bull", "std"]
    # Ranging mean-reverts (20-bar variance ratio well below 1); volatile is a random walk.
    ratio = {regime: _variance_ratio(regime, 20) for regime in ("ranging", "volatile")}
    assert ratio["ranging"] < 0.7 < ratio["volatile"]


def _variance_ratio(regime: str, k: int) -> float:
    """var(k-bar returns) / (k * var(1-bar returns)) inside runs of one regime."""
    long_moves, steps = [], []
    for seed in range(3):
        bars, labels = generate_regime_path(3000, seed)
        log_close = np.log(bars["close"])
        inside = (labels == regime).rolling(k + 1).sum() == k + 1
        long_moves.append(log_close.diff(k)[inside])
        steps.append(log_close.diff()[(labels == regime) & (labels.shift() == regime)])
    return float(pd.concat(long_moves).var() / (k * pd.concat(steps).var()))


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 400),
    seed=st.integers(0, 2**32 - 1),
    tf=st.sampled_from(list(Timeframe)),
    symbol=st.sampled_from(["XAUUSD", "EURUSD", "AAPL", "BTCUSD", "WTI", "NOPE"]),
)
def test_any_request_yields_consistent_ohlc(n: int, seed: int, tf: Timeframe, symbol: str) -> None:
    df = generate_bars(symbol, tf, n, END, seed)
    assert len(df) == n
    _assert_canonical(df)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_bars": 0}, "n_bars"),
        ({"annual_volatility": -0.1}, "annual_volatility"),
        ({"annual_volatility": float("nan")}, "annual_volatility"),
        ({"start_price": 0.0}, "start_price"),
        ({"durations": (50, 10)}, "durations"),
    ],
)
def test_bad_generator_arguments_are_refused(kwargs: dict, message: str) -> None:
    args = {"n_bars": 100, "seed": 1, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate_regime_path(**args)


def test_bad_bars_request_is_refused() -> None:
    with pytest.raises(ValueError, match="n_bars"):
        generate_bars("XAUUSD", Timeframe.D1, 0, END, 1)
    with pytest.raises(ValueError, match="symbol"):
        generate_bars("  ", Timeframe.D1, 10, END, 1)
    with pytest.raises(ValueError, match="timeframe"):
        generate_bars("XAUUSD", "3h", 10, END, 1)  # type: ignore[arg-type]
