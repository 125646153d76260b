from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.tools.correlation import correlation_check, correlation_matrix, rolling_correlation


def prices(n: int, seed: int, start: str = "2024-01-01", freq: str = "1h") -> pd.Series:
    rng = np.random.default_rng(seed)
    idx = pd.date_range(start, periods=n, freq=freq, tz="UTC", name="timestamp")
    return pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), index=idx)


def bars(close: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {"open": close, "high": close, "low": close, "close": close, "volume": 1.0},
        index=close.index,
    )


def test_identical_series_correlate_at_one_and_inverse_at_minus_one() -> None:
    a = prices(300, 1)
    same = rolling_correlation(a, a.copy(), 50).dropna()
    # 1/price has exactly the negated log returns.
    inverse = rolling_correlation(a, 1.0 / a, 50).dropna()
    assert len(same) == 300 - 50  # first return at bar 1, first full window at bar 50
    np.testing.assert_allclose(same, 1.0, atol=1e-9)
    np.testing.assert_allclose(inverse, -1.0, atol=1e-9)


def test_independent_noise_has_correlation_near_zero() -> None:
    corr = rolling_correlation(prices(3000, 1), prices(3000, 2), 1000).dropna()
    # The standard error of a correlation over 1000 independent pairs is about 0.03.
    assert corr.abs().max() < 0.15
    assert abs(corr.mean()) < 0.08


def test_known_partial_correlation_is_recovered() -> None:
    rng = np.random.default_rng(7)
    n, rho = 5000, 0.6
    x = rng.normal(0, 0.01, n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(0, 0.01, n)
    idx = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC")
    a, b = pd.Series(np.exp(np.cumsum(x)), idx), pd.Series(np.exp(np.cumsum(y)), idx)
    assert rolling_correlation(a, b, 4000).iloc[-1] == pytest.approx(rho, abs=0.04)


def test_rolling_correlation_is_the_same_on_every_prefix() -> None:
    a, b = prices(600, 3), prices(600, 4)
    full = rolling_correlation(a, b, 40)
    rng = np.random.default_rng(0)
    for cut in rng.integers(1, 600, 25):
        part = rolling_correlation(a.iloc[: cut + 1], b.iloc[: cut + 1], 40)
        np.testing.assert_allclose(part.to_numpy(), full.iloc[: cut + 1].to_numpy(), atol=1e-12)


def test_misaligned_timestamps_use_only_shared_bars() -> None:
    a = prices(400, 5)
    b = prices(400, 6, start="2024-01-03")  # starts two days later
    b = b.drop(b.index[10:30])  # and has a hole
    corr = rolling_correlation(a, b, 30)
    shared = a.index.intersection(b.index)
    assert corr.index.equals(shared)
    # Same answer as aligning by hand first: returns span consecutive shared bars.
    ra = np.log(a.loc[shared]).diff()
    rb = np.log(b.loc[shared]).diff()
    expected = ra.rolling(30).corr(rb)
    np.testing.assert_allclose(corr.to_numpy(), expected.to_numpy(), atol=1e-12)
    # Frames work as well as series.
    pd.testing.assert_series_equal(rolling_correlation(bars(a), bars(b), 30), corr)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 40))
def test_correlation_stays_within_minus_one_and_one(seed: int, window: int) -> None:
    corr = rolling_correlation(prices(80, seed), prices(80, seed + 1), window).dropna()
    assert ((corr >= -1.0) & (corr <= 1.0)).all()


def test_flat_prices_give_no_correlation_rather_than_a_number() -> None:
    a = prices(100, 1)
    flat = pd.Series(50.0, index=a.index)
    assert rolling_correlation(a, flat, 20).isna().all()


def test_check_flags_a_peer_above_the_threshold_and_reports_short_peers() -> None:
    base = prices(300, 11)
    twin = base * np.exp(np.random.default_rng(1).normal(0, 0.001, 300))  # ~0.99 correlated
    mirror = 1.0 / base
    other = prices(300, 12)
    short = prices(300, 13).iloc[-20:]
    report = correlation_check(
        bars(base),
        {"twin": bars(twin), "mirror": mirror, "other": other, "short": short},
        window=60,
        max_correlation=0.8,
    )
    by = {p.peer: p for p in report.peers}
    assert [p.peer for p in report.peers] == ["twin", "mirror", "other", "short"]
    assert report.breaches == ["twin", "mirror"]  # |corr| counts: the mirror is -1
    assert by["twin"].latest > 0.95 and by["mirror"].latest == pytest.approx(-1.0)
    assert not by["other"].flagged and abs(by["other"].latest) < 0.5
    assert report.insufficient == ["short"]
    assert not by["short"].sufficient and by["short"].latest is None
    assert by["short"].overlap_bars == 20 and "insufficient" in by["short"].note
    assert by["other"].overlap_bars == 300
    # The mean covers the last `lookback` rolling values.
    expected = rolling_correlation(base, other, 60).iloc[-60:].mean()
    assert by["other"].mean == pytest.approx(expected, abs=1e-12)
    assert by["other"].as_of == base.index[-1]


def test_check_defaults_are_the_built_in_ones_never_the_process_settings(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.config_sections import CorrelationComponent

    monkeypatch.setenv("TRADECREW_COMPONENTS__CORRELATION__WINDOW", "25")
    monkeypatch.setenv("TRADECREW_COMPONENTS__CORRELATION__MAX_CORRELATION", "0.1")
    get_settings.cache_clear()
    base = prices(100, 1)
    built_in = CorrelationComponent()
    report = correlation_check(base, {"p": prices(100, 2)})
    assert (report.window, report.max_correlation) == (built_in.window, built_in.max_correlation)
    cfg = get_settings().components.correlation
    report = correlation_check(base, {"p": prices(100, 2)}, cfg.window, cfg.max_correlation)
    assert report.window == 25 and report.max_correlation == 0.1
    assert report.peers[0].sufficient  # 100 bars are plenty for a 25-bar window


def test_matrix_is_symmetric_with_unit_diagonal_and_gaps_for_short_pairs() -> None:
    a = prices(200, 1)
    frames = {"A": a, "B": prices(200, 2), "NEG": 1.0 / a, "TINY": prices(200, 3).iloc[-5:]}
    m = correlation_matrix(frames, window=30)
    assert m.symbols == ["A", "B", "NEG", "TINY"]
    mat = m.matrix
    for i in range(4):
        assert mat[i][i] == 1.0
        for j in range(4):
            assert mat[i][j] == mat[j][i]
    assert mat[0][2] == pytest.approx(-1.0)
    assert mat[0][3] is None and mat[1][3] is None
    assert mat[0][1] == pytest.approx(rolling_correlation(a, frames["B"], 30).iloc[-1])


def test_bad_inputs_are_rejected() -> None:
    a = prices(50, 1)
    with pytest.raises(ValueError, match="window"):
        rolling_correlation(a, a, 2)
    with pytest.raises(ValueError, match="above zero"):
        rolling_correlation(a, a - 200, 10)
    with pytest.raises(ValueError, match="sorted"):
        rolling_correlation(a.iloc[::-1], a, 10)
    with pytest.raises(ValueError, match="close"):
        rolling_correlation(bars(a).drop(columns="close"), a, 10)
    with pytest.raises(TypeError):
        rolling_correlation([1.0, 2.0], a, 10)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_correlation"):
        correlation_check(a, {"b": a}, window=10, max_correlation=1.5)
    with pytest.raises(ValueError, match="lookback"):
        correlation_check(a, {"b": a}, window=10, max_correlation=0.5, lookback=0)


def test_latest_correlation_is_the_last_rolling_value(xauusd_d1, goog_d1):
    from tradecrew.tools.correlation import latest_correlation, rolling_correlation

    for window in (20, 60):
        rolling = rolling_correlation(xauusd_d1, goog_d1, window).dropna()
        assert latest_correlation(xauusd_d1, goog_d1, window) == pytest.approx(
            float(rolling.iloc[-1]), abs=1e-9
        )
    short = xauusd_d1.iloc[:10]
    assert latest_correlation(short, goog_d1, 60) is None
