"""The regime classifier: causal, accurate on known labels, sensible on gold, hard to misuse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.data.synthetic import generate_bars, generate_regime_path
from tradecrew.models import Regime, Timeframe
from tradecrew.tools.regime import (
    PROBABILITY_COLUMNS,
    RegimeResult,
    market_regime,
    regime_series,
    warmup_bars,
)

SKIP_AFTER_SWITCH = 30
ACCURACY_SEEDS = tuple(range(1, 11))
PATH_BARS = 5000  # ~28 regimes per path, so one misread regime does not decide a seed


def _accuracy(timeframe: Timeframe, seed: int, n_bars: int = PATH_BARS) -> float:
    """Share of bars labelled with the true regime, after warm-up and 30 bars past a switch."""
    bars, truth = generate_regime_path(n_bars, seed, timeframe=timeframe)
    got = regime_series(bars)["regime"]
    age = truth.groupby((truth != truth.shift()).cumsum()).cumcount()
    scored = (age >= SKIP_AFTER_SWITCH) & (got != "unknown")
    assert scored.sum() > 0.6 * n_bars  # the score covers most of the path
    return float((got[scored] == truth[scored]).mean())


@pytest.mark.parametrize("timeframe", [Timeframe.D1, Timeframe.H1])
def test_recovers_known_regimes_of_synthetic_paths(timeframe: Timeframe) -> None:
    scores = {seed: _accuracy(timeframe, seed) for seed in ACCURACY_SEEDS}
    assert np.mean(list(scores.values())) >= 0.85, scores
    assert min(scores.values()) >= 0.80, scores


def test_chance_level_labels_would_fail_the_accuracy_bar() -> None:
    # The measure is not trivially high: the majority class alone scores far below 85%.
    _, truth = generate_regime_path(PATH_BARS, ACCURACY_SEEDS[0])
    assert truth.value_counts(normalize=True).max() < 0.6


def test_each_bar_depends_only_on_the_past() -> None:
    bars, _ = generate_regime_path(900, 17, timeframe=Timeframe.H1)
    full = regime_series(bars)
    rng = np.random.default_rng(0)
    for cut in [*sorted(rng.integers(1, len(bars), 12).tolist()), 279, 280, 281]:
        prefix = regime_series(bars.iloc[:cut])
        pd.testing.assert_frame_equal(prefix, full.iloc[:cut], check_exact=True)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), cut=st.integers(282, 699))
def test_snapshot_equals_the_series_row_at_any_cut(seed: int, cut: int) -> None:
    bars, _ = generate_regime_path(700, seed)
    row = regime_series(bars).iloc[cut - 1]
    snap = market_regime(bars.iloc[:cut])
    assert snap.regime.value == row["regime"]
    assert snap.confidence == pytest.approx(row["confidence"], abs=1e-12)
    assert snap.features["bars_in_regime"] == row["bars_in_regime"]


def test_warmup_rows_are_unknown_and_the_rest_are_valid_probabilities() -> None:
    bars, _ = generate_regime_path(600, 9)
    out = regime_series(bars)
    warm = warmup_bars()
    assert warm == 280  # 30-bar volatility + 250 bars of baseline
    assert (out["regime"].iloc[: warm - 1] == "unknown").all()
    assert out.iloc[: warm - 1][["confidence", *PROBABILITY_COLUMNS]].isna().all().all()
    live = out.iloc[warm - 1 :]
    assert set(live["regime"]) <= {r.value for r in Regime}
    probs = live[list(PROBABILITY_COLUMNS)].to_numpy()
    assert np.isfinite(probs).all() and (probs >= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
    assert ((live["confidence"] > 0) & (live["confidence"] <= 1)).all()
    assert (live["bars_in_regime"] >= 1).all()


def test_labels_do_not_flicker() -> None:
    bars, truth = generate_regime_path(3000, 21)
    got = regime_series(bars)["regime"].iloc[warmup_bars() :]
    true_switches = int((truth != truth.shift()).sum())
    switches = int((got != got.shift()).sum())
    runs = got.groupby((got != got.shift()).cumsum()).size()
    assert switches <= 4 * true_switches
    assert runs.iloc[:-1].min() >= 3  # the confirmation rule: no label lives under 3 bars


def test_snapshot_reports_features_and_provenance() -> None:
    bars = generate_bars("XAUUSD", Timeframe.D1, 500, pd.Timestamp("2025-01-10", tz="UTC"), 3)
    result = market_regime(bars)
    assert isinstance(result, RegimeResult)
    assert result.symbol == "XAUUSD" and result.synthetic is True
    assert result.timestamp == bars.index[-1].to_pydatetime()
    assert set(result.probabilities) == {r.value for r in Regime}
    assert sum(result.probabilities.values()) == pytest.approx(1.0)
    assert result.confidence == pytest.approx(result.probabilities[result.regime.value])
    assert {"trend_tstat", "efficiency_ratio", "adx", "vol_ratio", "bars_in_regime"} <= set(
        result.features
    )
    assert result.features["warmup_bars"] == 280
    assert 0 <= result.features["efficiency_ratio"] <= 1
    RegimeResult.model_validate_json(result.model_dump_json())


def test_a_steady_climb_is_bull_and_a_steady_slide_is_bear() -> None:
    idx = pd.date_range("2020-01-01", periods=400, freq="D", tz="UTC", name="timestamp")
    rng = np.random.default_rng(1)
    for sign, expected in ((1, Regime.TRENDING_BULL), (-1, Regime.TRENDING_BEAR)):
        close = 100 * np.exp(np.cumsum(sign * 0.004 + rng.normal(0, 0.008, 400)))
        bars = pd.DataFrame(
            {"open": close, "high": close * 1.004, "low": close * 0.996, "close": close},
            index=idx,
        )
        assert market_regime(bars).regime is expected


def test_a_calm_stretch_then_a_storm_reads_volatile() -> None:
    idx = pd.date_range("2020-01-01", periods=500, freq="D", tz="UTC", name="timestamp")
    rng = np.random.default_rng(2)
    scale = np.where(np.arange(500) < 440, 0.008, 0.03)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 1, 500) * scale))
    bars = pd.DataFrame(
        {"open": close, "high": close * 1.003, "low": close * 0.997, "close": close}, index=idx
    )
    assert market_regime(bars).regime is Regime.VOLATILE


def test_flat_prices_read_as_ranging_without_nans() -> None:
    idx = pd.date_range("2020-01-01", periods=300, freq="D", tz="UTC", name="timestamp")
    bars = pd.DataFrame({"open": 5.0, "high": 5.0, "low": 5.0, "close": 5.0}, index=idx)
    out = regime_series(bars).iloc[warmup_bars() - 1 :]
    assert (out["regime"] == "ranging").all()
    assert np.isfinite(out[list(PROBABILITY_COLUMNS)].to_numpy()).all()


def test_gold_bull_run_and_2013_crash_on_a_yearly_horizon(xauusd_d1: pd.DataFrame) -> None:
    # A bull or bear *market* is a yearly notion, so use a one-year (250-bar) trend window.
    labels = regime_series(xauusd_d1, window=250)["regime"]
    bull_run = labels["2005":"2011"]
    bull_run = bull_run[bull_run != "unknown"].value_counts(normalize=True)
    assert bull_run.idxmax() == "trending_bull"
    assert bull_run["trending_bull"] >= 0.4
    assert bull_run.get("trending_bear", 0.0) <= 0.05
    crash = labels["2013"].value_counts(normalize=True)
    assert crash.idxmax() == "trending_bear"
    assert crash.get("trending_bull", 0.0) <= 0.05


def test_gold_default_window_leans_the_right_way(xauusd_d1: pd.DataFrame) -> None:
    # On the default 50-bar window gold's trend calls still point the way the market went.
    labels = regime_series(xauusd_d1)["regime"]
    run = labels["2005":"2011"].value_counts()
    crash = labels["2013"].value_counts()
    assert run["trending_bull"] > 5 * run.get("trending_bear", 0)
    assert crash["trending_bear"] > 5 * crash.get("trending_bull", 0)


def test_too_few_bars_for_a_snapshot_is_a_clear_error() -> None:
    bars, _ = generate_regime_path(279, 1)
    with pytest.raises(ValueError, match="at least 280 bars"):
        market_regime(bars)
    assert regime_series(bars)["regime"].eq("unknown").all()


def _bars(n: int = 300) -> pd.DataFrame:
    return generate_regime_path(n, 5)[0]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda df: df.drop(columns="high"), "missing columns"),
        (lambda df: df.reset_index(drop=True), "DatetimeIndex"),
        (lambda df: df.iloc[::-1], "sorted"),
        (lambda df: pd.concat([df, df.iloc[[-1]]]), "unique"),
        (lambda df: df.assign(close=df["close"].where(df.index != df.index[50])), "NaN"),
        (lambda df: df.assign(low=-df["low"]), "negative"),
        (lambda df: df.assign(high=df["low"] * 0.9), "high < low"),
    ],
)
def test_bad_bars_are_refused(mutate, message: str) -> None:
    bad = mutate(_bars())
    with pytest.raises(ValueError, match=message):
        regime_series(bad)
    with pytest.raises(ValueError, match=message):
        market_regime(bad)


def test_bad_parameters_and_inputs_are_refused() -> None:
    bars = _bars()
    with pytest.raises(TypeError):
        regime_series(bars["close"])  # type: ignore[arg-type]
    for kwargs in ({"window": 2}, {"vol_window": 0}, {"confirm_bars": 0}, {"smooth": 1.5}):
        with pytest.raises(ValueError):
            regime_series(bars, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="baseline_min"):
        regime_series(bars, baseline_window=100, baseline_min=200)
