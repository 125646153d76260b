"""Overfitting guards every tuned result must pass before it can be adopted.

Pure functions of return series (NumPy and the standard library; no settings singleton,
no I/O):

- the deflated Sharpe ratio (Bailey & López de Prado, 2014): the probability that the best
  Sharpe ratio is above what the best of ``n_trials`` skill-less trials would show, given the
  length, skewness and kurtosis of its returns;
- the probability of backtest overfitting by combinatorially symmetric cross-validation
  (Bailey, Borwein, López de Prado & Zhu, 2015): how often the configuration that is best in
  sample ranks in the bottom half out of sample;
- a minimum trade count, because a handful of trades is an anecdote, not a distribution.

Sharpe ratios here are per bar (not annualised): the guards compare like with like, and the
formulas are stated per observation.
"""

from __future__ import annotations

import math
from itertools import combinations
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from tradecrew.config_sections import GuardSettings

__all__ = [
    "GuardReport",
    "check_guards",
    "deflated_sharpe_from_stats",
    "deflated_sharpe_ratio",
    "expected_max_sharpe",
    "probabilistic_sharpe_ratio",
    "probability_of_backtest_overfitting",
    "sharpe_ratio",
]

EULER_GAMMA = 0.5772156649015329
# The standard library's normal distribution: SciPy's stats module costs seconds to import.
_NORMAL = NormalDist()
# Combinations of CSCV evaluated per matrix product: bounds memory at N configurations.
_CSCV_CHUNK = 2048


class GuardReport(BaseModel):
    """The verdict of the guards on one tuned result; ``reasons`` says what failed."""

    passed: bool
    dsr: float = Field(description="deflated Sharpe ratio, a probability in [0, 1]")
    pbo: float | None = Field(
        description="probability of backtest overfitting; None with fewer than 2 configurations"
    )
    trades: int
    n_trials: int
    sharpe: float = Field(description="per-bar Sharpe ratio of the best result")
    min_dsr: float
    max_pbo: float
    min_trades: int
    reasons: list[str] = Field(default_factory=list)


def _as_returns(returns: np.ndarray | pd.Series | list[float]) -> np.ndarray:
    arr = np.asarray(returns, dtype="float64").ravel()
    if not np.isfinite(arr).all():
        raise ValueError("returns hold NaN or infinite values; clean them before the guards")
    return arr


def sharpe_ratio(returns: np.ndarray | pd.Series) -> float:
    """Per-bar Sharpe ratio (mean over sample standard deviation); 0 for a flat series."""
    arr = _as_returns(returns)
    if arr.size < 2:
        return 0.0
    sd = float(arr.std(ddof=1))
    return float(arr.mean()) / sd if sd > 0 else 0.0


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """E[max SR] of ``n_trials`` skill-less trials whose Sharpe ratios vary by
    ``sharpe_variance`` (the paper's SR0, from the false strategy theorem)."""
    if n_trials < 1:
        raise ValueError(f"n_trials must be >= 1, got {n_trials}")
    if not sharpe_variance >= 0 or not math.isfinite(sharpe_variance):
        raise ValueError(f"sharpe_variance must be finite and >= 0, got {sharpe_variance}")
    if n_trials == 1:
        return 0.0
    z1 = _NORMAL.inv_cdf(1.0 - 1.0 / n_trials)
    z2 = _NORMAL.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


def probabilistic_sharpe_ratio(
    sharpe: float, n_obs: int, skew: float, kurtosis: float, benchmark: float = 0.0
) -> float:
    """P(true SR > benchmark) given an estimated per-bar ``sharpe`` over ``n_obs`` bars;
    ``kurtosis`` is Pearson's (3 for a normal distribution), not the excess."""
    if n_obs < 2:
        return 0.0
    var = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2
    # Sample moments satisfy kurtosis >= 1 + skew**2, which keeps var >= 0; the floor only
    # stops a degenerate series from dividing by zero.
    z = (sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(max(var, 1e-12))
    return float(_NORMAL.cdf(z))


def deflated_sharpe_from_stats(
    sharpe: float,
    n_obs: int,
    skew: float,
    kurtosis: float,
    n_trials: int,
    sharpe_variance: float,
) -> float:
    """The deflated Sharpe ratio from summary statistics (all per bar): the paper's formula."""
    return probabilistic_sharpe_ratio(
        sharpe, n_obs, skew, kurtosis, expected_max_sharpe(n_trials, sharpe_variance)
    )


def deflated_sharpe_ratio(
    returns: np.ndarray | pd.Series,
    n_trials: int,
    sharpe_variance: float | None = None,
) -> float:
    """Probability that the Sharpe ratio of ``returns`` (the best of ``n_trials``) reflects
    skill rather than selection.

    ``sharpe_variance`` is the variance of the per-bar Sharpe ratios across the trials; when
    unknown, the null's own estimation variance 1/(T-1) is used (every trial skill-less).
    """
    arr = _as_returns(returns)
    t = arr.size
    if t < 3 or float(arr.std(ddof=1)) == 0.0:
        return 0.0  # no variation, no evidence
    sr = sharpe_ratio(arr)
    centred = arr - arr.mean()
    m2 = float(np.mean(centred**2))
    # Sample skewness and Pearson kurtosis (the biased moment estimators, as in the paper).
    skew = float(np.mean(centred**3)) / m2**1.5
    kurt = float(np.mean(centred**4)) / m2**2
    var = 1.0 / (t - 1) if sharpe_variance is None else float(sharpe_variance)
    return deflated_sharpe_from_stats(sr, t, skew, kurt, n_trials, var)


def _as_matrix(returns_matrix: np.ndarray | pd.DataFrame) -> np.ndarray:
    m = np.asarray(returns_matrix, dtype="float64")
    if m.ndim == 1:
        m = m[:, None]
    if m.ndim != 2:
        raise ValueError("the trial returns must be a 2-D matrix (bars x configurations)")
    if not np.isfinite(m).all():
        raise ValueError("the trial returns hold NaN or infinite values")
    return m


def _block_sharpes(sums: np.ndarray, sqs: np.ndarray, n: float) -> np.ndarray:
    mean = sums / n
    var = (sqs - n * mean**2) / (n - 1)
    sd = np.sqrt(np.clip(var, 0.0, None))
    # A configuration that never moves has no Sharpe ratio; 0 ranks it as no skill.
    return np.divide(mean, sd, out=np.zeros_like(mean), where=sd > 1e-15)


def probability_of_backtest_overfitting(
    returns_matrix: np.ndarray | pd.DataFrame, n_splits: int = 16
) -> float:
    """PBO by CSCV: the share of the C(S, S/2) train/test splits of the bars in which the
    configuration with the best in-sample Sharpe ranks at or below the out-of-sample median.

    ``returns_matrix`` is bars x configurations (per-bar returns of each configuration over
    the same bars). The oldest ``T mod n_splits`` bars are dropped so blocks are equal.
    """
    m = _as_matrix(returns_matrix)
    t, n_cfg = m.shape
    if n_cfg < 2:
        raise ValueError("PBO needs at least 2 configurations to choose between")
    if n_splits < 2 or n_splits % 2:
        raise ValueError(f"n_splits must be an even number >= 2, got {n_splits}")
    if t < 2 * n_splits:
        raise ValueError(f"PBO with {n_splits} splits needs at least {2 * n_splits} bars, got {t}")
    size = t // n_splits
    blocks = m[t - size * n_splits :].reshape(n_splits, size, n_cfg)
    # Per-block sums let every split's Sharpe ratios come from one matrix product.
    sums, sqs = blocks.sum(axis=1), (blocks**2).sum(axis=1)
    half = n_splits // 2
    combos = np.asarray(list(combinations(range(n_splits), half)))
    n_obs = float(size * half)
    total_sums, total_sqs = sums.sum(axis=0), sqs.sum(axis=0)
    below = 0
    for start in range(0, len(combos), _CSCV_CHUNK):
        chunk = combos[start : start + _CSCV_CHUNK]
        train = np.zeros((len(chunk), n_splits))
        train[np.arange(len(chunk))[:, None], chunk] = 1.0
        in_sums, in_sqs = train @ sums, train @ sqs
        # The test half is the rest: its sums are the totals minus the training half's.
        sr_in = _block_sharpes(in_sums, in_sqs, n_obs)
        sr_out = _block_sharpes(total_sums - in_sums, total_sqs - in_sqs, n_obs)
        winner = sr_out[np.arange(len(chunk)), sr_in.argmax(axis=1)][:, None]
        # The winner's out-of-sample rank (1..N), ties sharing their average rank.
        rank = (sr_out < winner).sum(axis=1) + ((sr_out == winner).sum(axis=1) + 1) / 2
        # logit(rank / (N + 1)) <= 0: the in-sample winner is at or below the OOS median.
        below += int(np.count_nonzero(rank / (n_cfg + 1) <= 0.5))
    return below / len(combos)


def _settings_section(settings: Any) -> GuardSettings:
    if settings is None:
        return GuardSettings()
    if isinstance(settings, GuardSettings):
        return settings
    research = getattr(settings, "research", None)  # the whole Settings object
    if research is not None and isinstance(getattr(research, "guards", None), GuardSettings):
        return research.guards
    raise TypeError("settings must be a GuardSettings section or the desk's Settings")


def check_guards(
    best_returns: np.ndarray | pd.Series,
    all_trial_returns_matrix: np.ndarray | pd.DataFrame | None,
    n_trades: int,
    *,
    settings: Any = None,
    n_trials: int | None = None,
    n_splits: int = 16,
) -> GuardReport:
    """Run the three guards on the selected result; ``passed`` only when all three pass.

    ``all_trial_returns_matrix`` holds every evaluated configuration's returns over the same
    bars (bars x configurations); ``n_trials`` counts every configuration tried, pruned or
    failed ones included (default: the matrix's columns). ``settings`` is the guards section
    or the desk's Settings (its ``research.guards``); None uses the defaults.
    """
    cfg = _settings_section(settings)
    best = _as_returns(best_returns)
    matrix = None if all_trial_returns_matrix is None else _as_matrix(all_trial_returns_matrix)
    columns = 1 if matrix is None else matrix.shape[1]
    trials = max(int(n_trials) if n_trials is not None else columns, columns, 1)
    variance: float | None = None
    if matrix is not None and columns >= 2:
        srs = [sharpe_ratio(matrix[:, j]) for j in range(columns)]
        variance = float(np.var(srs, ddof=1))
    dsr = deflated_sharpe_ratio(best, trials, variance)
    pbo: float | None = None
    reasons: list[str] = []
    if matrix is not None and columns >= 2:
        splits = n_splits
        while splits > 2 and matrix.shape[0] < 2 * splits:
            splits -= 2  # short histories get fewer, larger blocks
        if matrix.shape[0] >= 2 * splits:
            pbo = probability_of_backtest_overfitting(matrix, splits)
        else:
            reasons.append(f"too few bars ({matrix.shape[0]}) to estimate PBO")
    if trials >= 2 and (matrix is None or columns < 2):
        reasons.append(
            f"{trials} trials but fewer than 2 of their return series given: PBO cannot be checked"
        )
    if not dsr >= cfg.min_dsr:
        reasons.append(
            f"deflated Sharpe ratio {dsr:.3f} < {cfg.min_dsr} for {trials} trials: the best "
            "result is within what selection among skill-less trials produces"
        )
    if pbo is not None and not pbo <= cfg.max_pbo:
        reasons.append(
            f"probability of backtest overfitting {pbo:.3f} > {cfg.max_pbo}: the in-sample "
            "winner too often ranks in the bottom half out of sample"
        )
    if n_trades < cfg.min_trades:
        reasons.append(f"{n_trades} trades < {cfg.min_trades}: too few to judge")
    return GuardReport(
        passed=not reasons,
        dsr=dsr,
        pbo=pbo,
        trades=int(n_trades),
        n_trials=trials,
        sharpe=sharpe_ratio(best),
        min_dsr=cfg.min_dsr,
        max_pbo=cfg.max_pbo,
        min_trades=cfg.min_trades,
        reasons=reasons,
    )
