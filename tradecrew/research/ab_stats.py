"""Statistics of a champion/challenger experiment: annualised Sharpe with a circular block
bootstrap confidence interval, maximum drawdown, and their paired comparison.

The bootstrap resamples whole blocks of bars (length ~ n^(1/3)) with the same indices for
both arms, so the interval of the Sharpe difference keeps the pairing (the same bars) and
some of the returns' serial dependence. Seeded: the same observations give the same CI.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, Field

CI_METHOD = "circular block bootstrap, 95 %"
_SEED = 20261207


class ArmStats(BaseModel):
    observations: int
    total_return: float = Field(description="compounded, fraction")
    sharpe: float | None = Field(description="annualised; None below 2 bars or zero variance")
    sharpe_ci: tuple[float, float] | None = Field(description="95 % interval of the Sharpe")
    max_drawdown: float = Field(description="largest fall from a peak of equity, fraction >= 0")


class Comparison(BaseModel):
    sharpe_difference: float | None = Field(description="live minus baseline")
    sharpe_difference_ci: tuple[float, float] | None


def periods_per_year(timeframe_minutes: int) -> float:
    """Bars per year: 252 trading days of the bar's length (weekly and monthly by count)."""
    if timeframe_minutes >= 43_200:
        return 12.0
    if timeframe_minutes >= 10_080:
        return 52.0
    return 252.0 * max(1.0, 1440.0 / timeframe_minutes)


def sharpe(returns: np.ndarray, per_year: float) -> float | None:
    if returns.size < 2:
        return None
    sd = float(returns.std(ddof=1))
    if not math.isfinite(sd) or sd <= 1e-15:
        return None
    return float(returns.mean() / sd * math.sqrt(per_year))


def max_drawdown(returns: np.ndarray) -> float:
    if returns.size == 0:
        return 0.0
    equity = np.cumprod(1.0 + returns)
    peak = np.maximum.accumulate(np.concatenate(([1.0], equity)))[1:]
    return float(max(0.0, (1.0 - equity / peak).max()))


def _block_indices(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    block = max(1, round(n ** (1 / 3)))
    blocks = math.ceil(n / block)
    starts = rng.integers(0, n, size=(resamples, blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]) % n
    return idx.reshape(resamples, -1)[:, :n]


def _sharpes(samples: np.ndarray, per_year: float) -> np.ndarray:
    sd = samples.std(axis=1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = samples.mean(axis=1) / sd * math.sqrt(per_year)
    return np.where(sd > 1e-15, out, np.nan)


def _interval(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size < 10:
        return None
    lo, hi = np.percentile(finite, [2.5, 97.5])
    return float(lo), float(hi)


def compare(
    live: np.ndarray, baseline: np.ndarray, per_year: float, resamples: int = 1000
) -> tuple[ArmStats, ArmStats, Comparison]:
    """Both arms' statistics over the same bars, and the paired Sharpe difference."""
    if live.shape != baseline.shape:
        raise ValueError("both arms need the same bars")
    n = live.size
    rng = np.random.default_rng(_SEED)
    idx = _block_indices(n, resamples, rng) if n >= 2 else None
    live_b = _sharpes(live[idx], per_year) if idx is not None else np.array([])
    base_b = _sharpes(baseline[idx], per_year) if idx is not None else np.array([])

    def arm(r: np.ndarray, boot: np.ndarray) -> ArmStats:
        return ArmStats(
            observations=n,
            total_return=float(np.prod(1.0 + r) - 1.0) if n else 0.0,
            sharpe=sharpe(r, per_year),
            sharpe_ci=_interval(boot) if boot.size else None,
            max_drawdown=max_drawdown(r),
        )

    a, b = arm(live, live_b), arm(baseline, base_b)
    diff = None if a.sharpe is None or b.sharpe is None else a.sharpe - b.sharpe
    diff_ci = _interval(live_b - base_b) if idx is not None else None
    return a, b, Comparison(sharpe_difference=diff, sharpe_difference_ci=diff_ci)
