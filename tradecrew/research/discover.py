"""The research loop: hypotheses in, scored and filtered rules out, all kept on a leaderboard.

Hypotheses are rules in the safe expression language, from a seeded generator or the crew's
LLM. Each one is compiled to a strategy and run walk-forward by the backtester; only the test
windows (out of sample) are scored. The guards then judge each against every hypothesis of
the run (the deflated Sharpe ratio counts all of them as trials; the probability of backtest
overfitting is estimated on the matrix of their out-of-sample returns), and every hypothesis
goes on the leaderboard with its evidence, passed or not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.config_sections import GuardSettings
from tradecrew.research.backtest import Costs
from tradecrew.research.expr_eval import ExprStrategy
from tradecrew.research.guards import (
    GuardReport,
    check_guards,
    deflated_sharpe_ratio,
    sharpe_ratio,
)
from tradecrew.research.hypotheses import Proposals
from tradecrew.research.leaderboard import LeaderboardEntry

__all__ = ["DiscoveryResult", "discover", "windows_for"]

MIN_BARS = 400
MAX_N = 200


class DiscoveryResult(BaseModel):
    """A discovery run: every hypothesis with its evidence, best first."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    timeframe: str
    source: str
    synthetic: bool
    origin: str
    seed: int | None
    n_requested: int
    n_scored: int
    passed: int
    walk_forward: str
    data_start: str
    data_end: str
    rejected: list[str] = Field(default_factory=list, description="hypotheses refused, and why")
    entries: list[LeaderboardEntry]


def windows_for(n_bars: int) -> tuple[int, int]:
    """(train, test) bars: about two years and six months of daily bars, less on short data,
    so that at least four test windows fit."""
    train = min(504, max(200, n_bars // 4))
    test = min(126, max(20, (n_bars - train) // 4))
    return train, test


def _oos(bars: pd.DataFrame, strategy: ExprStrategy, costs: Costs, train: int, test: int) -> Any:
    """The walk-forward of one rule: its test windows joined are its out-of-sample record."""
    from tradecrew.research.walkforward import walk_forward

    return walk_forward(bars, strategy, {}, train=train, test=test, anchored=False, costs=costs)


def _guards_section(settings: Any) -> GuardSettings:
    if isinstance(settings, GuardSettings):
        return settings
    research = getattr(settings, "research", None)
    return research.guards if research is not None else GuardSettings()


def _judge(matrix: np.ndarray, trades: list[int], settings: Any) -> list[GuardReport]:
    """The guards' verdict on every hypothesis, each counted against all of the run's.

    ``check_guards`` judges the run's selection (the best OOS Sharpe) in full, PBO included.
    PBO belongs to the selection among the columns, not to one column, so the others reuse it
    and get their own deflated Sharpe ratio (same trial count and Sharpe variance) and trade
    count, with the same thresholds; estimating PBO once keeps a 20-rule run at one CSCV.
    """
    n = matrix.shape[1]
    sharpes = [sharpe_ratio(matrix[:, j]) for j in range(n)]
    best = int(np.argmax(sharpes))
    run = check_guards(
        matrix[:, best], matrix if n > 1 else None, trades[best], settings=settings, n_trials=n
    )
    cfg = _guards_section(settings)
    variance = float(np.var(sharpes, ddof=1)) if n > 1 else None
    out = []
    for j in range(n):
        if j == best:
            out.append(run)
            continue
        dsr = deflated_sharpe_ratio(matrix[:, j], n, variance)
        reasons = []
        if not dsr >= cfg.min_dsr:
            reasons.append(
                f"deflated Sharpe ratio {dsr:.3f} < {cfg.min_dsr} for {n} trials: within "
                "what selection among skill-less trials produces"
            )
        if run.pbo is None:
            reasons.append("PBO could not be estimated for this run")
        elif not run.pbo <= cfg.max_pbo:
            reasons.append(
                f"probability of backtest overfitting {run.pbo:.3f} > {cfg.max_pbo} for the run"
            )
        if trades[j] < cfg.min_trades:
            reasons.append(f"{trades[j]} trades < {cfg.min_trades}: too few to judge")
        out.append(
            run.model_copy(
                update={
                    "passed": not reasons,
                    "dsr": dsr,
                    "trades": trades[j],
                    "sharpe": sharpes[j],
                    "reasons": reasons,
                }
            )
        )
    return out


def discover(
    bars: pd.DataFrame,
    proposals: Proposals,
    *,
    symbol: str,
    timeframe: str,
    source: str,
    seed: int | None,
    settings: Any = None,
    costs: Costs | None = None,
    n_requested: int | None = None,
) -> DiscoveryResult:
    """Score every proposed rule out of sample and judge it with the guards (pure: the
    caller saves the entries)."""
    if len(bars) < MIN_BARS:
        raise ValueError(
            f"discovery needs at least {MIN_BARS} bars for walk-forward, got {len(bars)}"
        )
    if not proposals.expressions:
        raise ValueError("no valid hypothesis to score: " + "; ".join(proposals.rejected[:3]))
    cost = costs if costs is not None else Costs.from_instrument(symbol)
    train, test = windows_for(len(bars))
    scored = [
        (expression, _oos(bars, ExprStrategy(expression), cost, train, test))
        for expression in proposals.expressions
    ]
    matrix = np.column_stack([r.returns.to_numpy(dtype=np.float64) for _, r in scored])
    matrix = np.nan_to_num(matrix, nan=0.0)
    now = datetime.now(UTC)
    wf = f"rolling {train}/{test} bars"
    entries = []
    reports = _judge(matrix, [r.oos.trades for _, r in scored], settings)
    for (expression, run), report in zip(scored, reports, strict=True):
        oos = run.oos
        entries.append(
            LeaderboardEntry(
                expression=expression,
                origin=proposals.origin,
                symbol=symbol,
                timeframe=timeframe,
                source=source,
                synthetic=bool(bars.attrs.get("synthetic", False)),
                data_start=str(bars.index[0]),
                data_end=str(bars.index[-1]),
                bars=len(bars),
                oos_bars=oos.bars,
                oos_sharpe=oos.sharpe,
                oos_total_return=oos.total_return,
                oos_max_drawdown=oos.max_drawdown,
                trades=oos.trades,
                dsr=report.dsr,
                pbo=report.pbo,
                passed=report.passed,
                reasons=report.reasons,
                n_trials=report.n_trials,
                seed=seed,
                walk_forward=wf,
                created_at=now,
            )
        )
    entries.sort(key=_rank)
    return DiscoveryResult(
        symbol=symbol,
        timeframe=timeframe,
        source=source,
        synthetic=bool(bars.attrs.get("synthetic", False)),
        origin=proposals.origin,
        seed=seed,
        n_requested=n_requested or len(proposals.expressions),
        n_scored=len(entries),
        passed=sum(e.passed for e in entries),
        walk_forward=wf,
        data_start=str(bars.index[0]),
        data_end=str(bars.index[-1]),
        rejected=proposals.rejected,
        entries=entries,
    )


def _rank(e: LeaderboardEntry) -> tuple[bool, float]:
    return (not e.passed, -(e.oos_sharpe if e.oos_sharpe is not None else -math.inf))


def leaderboard_rows(entries: Sequence[LeaderboardEntry]) -> list[list[str]]:
    """Table cells for the CLI: expression, OOS Sharpe, DSR, PBO, trades, verdict."""

    def f(v: float | None, d: int = 2) -> str:
        return "-" if v is None else f"{v:.{d}f}"

    return [
        [
            e.expression,
            e.symbol,
            f(e.oos_sharpe),
            f(e.oos_total_return * 100, 1) + "%",
            f(e.dsr, 3),
            f(e.pbo, 3),
            str(e.trades),
            "pass" if e.passed else "fail",
        ]
        for e in entries
    ]
