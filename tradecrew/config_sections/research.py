"""Research settings: the overfitting guards and the optimizer's defaults."""

from __future__ import annotations

from pydantic import Field

from .base import Section


class GuardSettings(Section):
    """The overfitting guards a tuned result must pass before it can be adopted."""

    min_dsr: float = Field(
        0.95, ge=0.0, le=1.0, description="deflated Sharpe ratio floor (a probability)"
    )
    # At 0.5 the in-sample winner is a coin flip out of sample. 0.3 asks for odds of 7:3
    # that it lands in the top half, a margin for the estimate's own noise: pure-noise grids
    # (100 x 2,000 bars, 200 seeds) reach 0.3 or less only 9 % of the time, so this guard
    # stops noise on its own, not only through the deflated Sharpe ratio.
    max_pbo: float = Field(
        0.3, ge=0.0, le=1.0, description="probability of backtest overfitting ceiling"
    )
    min_trades: int = Field(30, ge=0, description="fewer out-of-sample trades prove nothing")


class ResearchSettings(Section):
    """Backtests, walk-forward and tuning: the guards and the optimizer's defaults."""

    guards: GuardSettings = Field(default_factory=GuardSettings)
    optimize_timeout_seconds: float = Field(300.0, gt=0, description="a tuning run's budget")
    optimize_trials: int = Field(100, ge=1, description="trials of a tuning run")
