"""The overfitting guards: the paper's numbers, noise that must not pass, skill that must."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest

from tradecrew.config import GuardSettings, Settings
from tradecrew.research.guards import (
    GuardReport,
    check_guards,
    deflated_sharpe_from_stats,
    deflated_sharpe_ratio,
    expected_max_sharpe,
    probability_of_backtest_overfitting,
    sharpe_ratio,
)

_N = NormalDist()
_GAMMA = 0.5772156649015329


def _noise_grid(seed: int, bars: int = 2000, configs: int = 100) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 0.01, (bars, configs))


def _best_column(matrix: np.ndarray) -> int:
    return int(np.argmax([sharpe_ratio(matrix[:, j]) for j in range(matrix.shape[1])]))


def test_dsr_matches_the_papers_worked_example() -> None:
    # Bailey & Lopez de Prado (2014), section 5: 100 trials, V[SR] = 1/2 annualised, 5 years
    # of daily returns (T = 1250), best annualised SR 2.5, skew -3, kurtosis 10.
    sr, var, t = 2.5 / math.sqrt(250), 0.5 / 250, 1250
    # By hand, with the standard library's normal distribution (not SciPy's).
    sr0 = math.sqrt(var) * (
        (1 - _GAMMA) * _N.inv_cdf(1 - 1 / 100) + _GAMMA * _N.inv_cdf(1 - 1 / (100 * math.e))
    )
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - (-3) * sr + (10 - 1) / 4 * sr**2)
    assert sr0 == pytest.approx(0.1132, abs=1e-4)  # the paper's SR0
    assert _N.cdf(z) == pytest.approx(0.9004, abs=1e-4)  # the paper's DSR
    assert expected_max_sharpe(100, var) == pytest.approx(sr0, rel=1e-9)
    assert deflated_sharpe_from_stats(sr, t, -3.0, 10.0, 100, var) == pytest.approx(_N.cdf(z))


def test_dsr_of_a_return_series_uses_its_own_moments() -> None:
    r = np.random.default_rng(7).standard_t(4, 1500) * 0.01 + 0.0006
    mean, sd = r.mean(), r.std(ddof=1)
    sr = mean / sd
    centred = r - mean
    m2 = (centred**2).mean()
    skew = (centred**3).mean() / m2**1.5
    kurt = (centred**4).mean() / m2**2
    sr0 = math.sqrt(0.0004) * (
        (1 - _GAMMA) * _N.inv_cdf(1 - 1 / 40) + _GAMMA * _N.inv_cdf(1 - 1 / (40 * math.e))
    )
    z = (sr - sr0) * math.sqrt(len(r) - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    assert deflated_sharpe_ratio(r, 40, 0.0004) == pytest.approx(_N.cdf(z), rel=1e-9)


def test_more_trials_deflate_the_same_sharpe_further() -> None:
    r = np.random.default_rng(3).normal(0.0008, 0.01, 2000)
    values = [deflated_sharpe_ratio(r, n) for n in (1, 10, 100, 1000)]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]


@pytest.mark.parametrize("seed", [0, 2, 3, 4])
def test_best_of_100_noise_strategies_does_not_pass(seed: int) -> None:
    grid = _noise_grid(seed)
    best = _best_column(grid)
    # The trap: picked after the fact, the best noise strategy looks real (annualised Sharpe
    # near 1, "significant" at 95 % when tested as if it were the only one tried).
    assert sharpe_ratio(grid[:, best]) * math.sqrt(252) > 0.75
    assert deflated_sharpe_ratio(grid[:, best], n_trials=1) > 0.95
    report = check_guards(grid[:, best], grid, n_trades=500)
    assert not report.passed
    assert report.dsr < 0.95
    assert any("deflated Sharpe" in reason for reason in report.reasons)


def test_noise_rarely_gets_past_the_guards() -> None:
    """The guards are statistical tests: noise gets through now and then (about one family in
    1,500 here), never as often as the 5 % a single test at 95 % would let through. 600
    families of noise, of 20 and 100 configurations, and at most three winners pass."""
    passed = []
    for seed in range(600):
        grid = _noise_grid(seed, bars=1000, configs=100 if seed % 2 else 20)
        best = _best_column(grid)
        # Ten blocks (252 splits) keep 600 checks fast; the deterministic cases above use 16.
        if check_guards(grid[:, best], grid, n_trades=500, n_splits=10).passed:
            passed.append(seed)
    assert len(passed) <= 3, f"noise passed the guards for seeds {passed}"


def _skilled_grid(seed: int) -> np.ndarray:
    # A family whose parameter matters: the drift rises with the parameter's index, and all
    # configurations share a market factor, as strategies on one symbol do.
    rng = np.random.default_rng(seed)
    common = rng.normal(0.0, 0.006, (2000, 1))
    drift = np.linspace(0.0005, 0.0015, 100)
    return common + rng.normal(0.0, 0.008, (2000, 100)) + drift


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_strategy_with_real_drift_passes(seed: int) -> None:
    grid = _skilled_grid(seed)
    best = _best_column(grid)
    report = check_guards(grid[:, best], grid, n_trades=120)
    assert report.passed, report.reasons
    assert report.dsr >= 0.95 and report.pbo is not None and report.pbo <= 0.3


def test_too_few_trades_fail_even_with_real_drift() -> None:
    grid = _skilled_grid(0)
    report = check_guards(grid[:, _best_column(grid)], grid, n_trades=12, n_splits=10)
    assert not report.passed
    assert report.reasons == ["12 trades < 30: too few to judge"]


def test_pbo_by_hand_on_two_blocks() -> None:
    # Two blocks: A wins the first half and loses the second, B the reverse. Whichever half
    # trains, its winner is the loser of the other: overfitting every time.
    a = [0.02, 0.01, -0.01, -0.02]
    b = [-0.02, -0.01, 0.01, 0.02]
    assert probability_of_backtest_overfitting(np.array([a, b]).T, n_splits=2) == 1.0
    # A beats B in both halves: the in-sample winner always wins out of sample.
    steady, losing = [0.03, 0.01, 0.03, 0.01], [-0.01, -0.02, -0.02, -0.01]
    assert probability_of_backtest_overfitting(np.array([steady, losing]).T, n_splits=2) == 0.0


def test_pbo_of_noise_is_near_a_coin_flip_and_of_skill_near_zero() -> None:
    noise = [probability_of_backtest_overfitting(_noise_grid(s, 1000, 30), 10) for s in range(8)]
    assert 0.25 < float(np.mean(noise)) < 0.75
    assert probability_of_backtest_overfitting(_skilled_grid(0)) < 0.1


def test_guards_read_the_thresholds_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    grid = _skilled_grid(1)
    best = grid[:, _best_column(grid)]
    monkeypatch.setenv("TRADECREW_RESEARCH__GUARDS__MIN_TRADES", "500")
    report = check_guards(best, grid, 120, settings=Settings(), n_splits=10)
    assert not report.passed and report.min_trades == 500
    strict = check_guards(best, grid, 120, settings=GuardSettings(min_dsr=1.0), n_splits=10)
    assert not strict.passed and "deflated Sharpe" in strict.reasons[0]


def test_pruned_trials_count_toward_the_deflation() -> None:
    grid = _skilled_grid(2)
    best = grid[:, _best_column(grid)]
    few = check_guards(best, grid, 120, n_splits=10)
    many = check_guards(best, grid, 120, n_trials=100_000, n_splits=10)
    assert many.n_trials == 100_000 and many.dsr < few.dsr


def test_many_trials_without_their_returns_cannot_pass() -> None:
    r = np.random.default_rng(0).normal(0.003, 0.01, 2000)
    report = check_guards(r, None, 100, n_trials=50)
    assert not report.passed and "PBO cannot be checked" in report.reasons[0]


def test_report_is_json_with_the_agreed_fields() -> None:
    grid = _skilled_grid(0)
    report = check_guards(grid[:, _best_column(grid)], grid, 120, n_splits=10)
    data = GuardReport.model_validate_json(report.model_dump_json()).model_dump()
    assert {"passed", "dsr", "pbo", "trades", "reasons"} <= set(data)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: deflated_sharpe_ratio([0.01, float("nan"), 0.02], 5), "NaN"),
        (lambda: expected_max_sharpe(0, 0.1), "n_trials"),
        (lambda: probability_of_backtest_overfitting(np.ones((64, 1))), "at least 2"),
        (lambda: probability_of_backtest_overfitting(np.ones((64, 3)), n_splits=5), "even"),
        (lambda: probability_of_backtest_overfitting(np.ones((10, 3)), n_splits=16), "bars"),
        (lambda: check_guards([0.1, 0.2], None, 1, settings=object()), "GuardSettings"),
    ],
)
def test_bad_inputs_are_refused_with_a_reason(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_flat_returns_carry_no_evidence() -> None:
    assert deflated_sharpe_ratio(np.zeros(500), 10) == 0.0


def test_a_crew_file_cannot_loosen_the_guards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.crewfile import CrewFileError

    crew = tmp_path / "crew.yaml"
    crew.write_text("hybrid_ai:\n  research:\n    guards:\n      min_dsr: 0.0\n")
    monkeypatch.setenv("TRADECREW_CREW_FILE", str(crew))
    with pytest.raises((CrewFileError, ValueError), match="research"):
        Settings()
    monkeypatch.setenv("TRADECREW_RESEARCH__GUARDS__MIN_DSR", "0.99")
    monkeypatch.delenv("TRADECREW_CREW_FILE")
    assert Settings().research.guards.min_dsr == 0.99
