"""Walk-forward evaluation: train on one window of bars, test on the next, move on.

Only out-of-sample (test window) results count as performance. A window's tuning, when
there is one, sees its training bars and nothing later; its test is a backtest over the
training bars (as warm-up) and the test bars, of which only the test bars' returns and
entries are reported. Concatenated, the test windows form one out-of-sample record.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.research import ab_stats
from tradecrew.research.backtest.result import bars_per_year
from tradecrew.research.spaces import ParamRange, ParamValue, Space

__all__ = [
    "DRAWDOWN_PENALTY",
    "DRAWDOWN_TARGET",
    "OOSMetrics",
    "WalkForwardResult",
    "WindowResult",
    "default_windows",
    "iter_windows",
    "oos_metrics",
    "score",
    "walk_forward",
    "window_bounds",
]

# The objective: out-of-sample Sharpe minus DRAWDOWN_PENALTY per unit of drawdown beyond the
# seed's 5 % target: a 55 % drawdown costs one point of Sharpe, so between two records of
# equal Sharpe the shallower wins, without the penalty drowning the Sharpe on daily data.
DRAWDOWN_TARGET = 0.05
DRAWDOWN_PENALTY = 2.0

Tuning = Sequence[Mapping[str, ParamValue]] | Space  # a grid, or ranges for optuna


class OOSMetrics(BaseModel):
    """Performance of concatenated out-of-sample returns."""

    bars: int
    trades: int = Field(description="entries made inside test windows")
    total_return: float
    annual_return: float
    sharpe: float | None
    max_drawdown: float
    score: float = Field(description="sharpe minus the drawdown penalty: the tuning objective")


class WindowResult(BaseModel):
    index: int
    train_start: datetime
    train_end: datetime
    test_start: datetime
    test_end: datetime
    train_bars: int
    test_bars: int
    params: dict[str, ParamValue]
    train_score: float | None = Field(
        None, description="in-sample score of the chosen parameters (not performance)"
    )
    test_sharpe: float | None
    test_return: float
    test_max_drawdown: float
    test_trades: int


class WalkForwardResult(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    symbol: str | None
    strategy: str
    anchored: bool
    train: int
    test: int
    tuned: bool = Field(description="parameters chosen per window on its training bars")
    configurations: int = Field(description="parameter sets tried per window")
    oos: OOSMetrics
    windows: list[WindowResult]
    returns: pd.Series = Field(exclude=True, repr=False)


def score(sharpe: float | None, max_drawdown: float) -> float:
    """The tuning objective: Sharpe (0 for a flat record) minus the drawdown penalty."""
    base = 0.0 if sharpe is None or not math.isfinite(sharpe) else float(sharpe)
    return base - DRAWDOWN_PENALTY * max(0.0, max_drawdown - DRAWDOWN_TARGET)


def oos_metrics(returns: pd.Series, trades: int, per_year: float | None = None) -> OOSMetrics:
    """Metrics of per-bar simple returns (annualised with the bars' own spacing)."""
    r = returns.to_numpy(dtype=np.float64)
    ppy = per_year if per_year is not None else bars_per_year(pd.DatetimeIndex(returns.index))
    total = float(np.cumprod(1.0 + r)[-1] - 1.0) if len(r) else 0.0
    years = len(r) / ppy if ppy > 0 else 0.0
    annual = float((1.0 + total) ** (1.0 / years) - 1.0) if years > 0 and total > -1 else total
    sharpe, mdd = ab_stats.sharpe(r, ppy), ab_stats.max_drawdown(r)
    return OOSMetrics(
        bars=len(r),
        trades=int(trades),
        total_return=total,
        annual_return=annual,
        sharpe=sharpe,
        max_drawdown=mdd,
        score=score(sharpe, mdd),
    )


def default_windows(n_bars: int, train: int | None, test: int | None) -> tuple[int, int]:
    """750 training and 250 test bars, or a third and an eighth of shorter data."""
    tr = train if train is not None else min(750, max(2, n_bars // 3))
    te = test if test is not None else min(250, max(1, n_bars // 8))
    return tr, te


def window_bounds(n_bars: int, train: int, test: int, anchored: bool) -> list[tuple[int, int, int]]:
    """(train_start, test_start, test_end) per window; the last test window may be shorter."""
    if train < 2 or test < 1:
        raise ValueError(f"--train must be >= 2 and --test >= 1 bars, got {train} and {test}")
    if n_bars <= train:
        raise ValueError(
            f"walk-forward needs more than --train {train} bars; the data has {n_bars}"
        )
    out = []
    for start in range(train, n_bars, test):
        out.append((0 if anchored else start - train, start, min(start + test, n_bars)))
    return out


def _evaluate(
    bars: pd.DataFrame, strategy: Any, params: Mapping[str, ParamValue], split: int, **kw: Any
) -> tuple[pd.Series, int, dict[str, ParamValue]]:
    """Returns of the bars from ``split`` on, the entries made there and the parameters with
    the strategy's defaults filled in; the earlier bars are warm-up only."""
    from tradecrew.research.backtest import backtest

    result = backtest(bars, strategy, params, **kw)
    entries = sum(1 for t in result.trade_list if t.entry_index >= split)
    return result.returns.iloc[split:], entries, dict(result.params)


def _choose(
    train_bars: pd.DataFrame,
    strategy: Any,
    tuning: Tuning,
    trials: int,
    seed: int | None,
    **kw: Any,
) -> tuple[dict[str, ParamValue], float]:
    """The best parameters on the training bars alone, and their in-sample score."""
    from tradecrew.research.backtest import backtest, sweep

    if isinstance(tuning, Mapping):
        import optuna

        from tradecrew.research.backtest import StrategyError
        from tradecrew.research.spaces import suggest

        def objective(trial: optuna.Trial) -> float:
            params = suggest(trial, tuning)
            try:
                res = backtest(train_bars, strategy, params, **kw)
            except StrategyError:
                raise optuna.TrialPruned() from None
            return score(res.sharpe, res.max_drawdown)

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(
            direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed)
        )
        study.optimize(objective, n_trials=trials)
        done = [t for t in study.trials if t.value is not None]
        if not done:
            raise ValueError("no parameter set of the space is valid for this strategy")
        return dict(study.best_params), float(study.best_value)
    results = sweep(train_bars, strategy, list(tuning), **kw)
    scores = [score(r.sharpe, r.max_drawdown) for r in results]
    best = int(np.argmax(scores))
    return dict(tuning[best]), scores[best]


def _run_window(
    bars: pd.DataFrame,
    bounds: tuple[int, int, int],
    index: int,
    strategy: Any,
    fixed: Mapping[str, ParamValue],
    tuning: Tuning | None,
    trials: int,
    seed: int | None,
    kw: dict[str, Any],
) -> tuple[WindowResult, pd.Series]:
    lo, split, hi = bounds
    train_score = None
    params = dict(fixed)
    if tuning is not None:
        params, train_score = _choose(bars.iloc[lo:split], strategy, tuning, trials, seed, **kw)
    rets, entries, resolved = _evaluate(bars.iloc[lo:hi], strategy, params, split - lo, **kw)
    m = oos_metrics(rets, entries, bars_per_year(pd.DatetimeIndex(bars.index)))
    idx = bars.index
    return (
        WindowResult(
            index=index,
            train_start=idx[lo],
            train_end=idx[split - 1],
            test_start=idx[split],
            test_end=idx[hi - 1],
            train_bars=split - lo,
            test_bars=hi - split,
            params=resolved,
            train_score=train_score,
            test_sharpe=m.sharpe,
            test_return=m.total_return,
            test_max_drawdown=m.max_drawdown,
            test_trades=entries,
        ),
        rets,
    )


def iter_windows(
    bars: pd.DataFrame,
    strategy: Any = "sma_cross",
    params: Mapping[str, ParamValue] | None = None,
    *,
    train: int,
    test: int,
    anchored: bool = False,
    tuning: Tuning | None = None,
    window_trials: int = 30,
    seed: int | None = None,
    jobs: int = 1,
    **backtest_kw: Any,
) -> Iterator[tuple[WindowResult, pd.Series]]:
    """Each window's result and its test returns, in order (lazily when ``jobs`` is 1, so a
    caller may stop early: the optimizer prunes on the running score)."""
    from tradecrew.research.backtest import prepare_bars

    attrs = dict(getattr(bars, "attrs", {}) or {})
    frame = prepare_bars(bars)
    frame.attrs.update(attrs)
    bounds = window_bounds(len(frame), train, test, anchored)
    fixed = dict(params or {})
    if attrs.get("symbol") and not backtest_kw.get("symbol"):
        backtest_kw = {**backtest_kw, "symbol": attrs["symbol"]}  # the instrument's costs
    args = [
        (frame, b, i, strategy, fixed, tuning, window_trials, seed, backtest_kw)
        for i, b in enumerate(bounds)
    ]
    if jobs <= 1 or len(args) == 1:
        for a in args:
            yield _run_window(*a)
        return
    from tradecrew.research.scale import portable

    with ProcessPoolExecutor(max_workers=min(jobs, len(args))) as pool:
        yield from pool.map(portable, [_run_window] * len(args), *zip(*args, strict=True))


def walk_forward(
    bars: pd.DataFrame,
    strategy: Any = "sma_cross",
    params: Mapping[str, ParamValue] | Tuning | None = None,
    *,
    train: int,
    test: int,
    anchored: bool = False,
    window_trials: int = 30,
    seed: int | None = None,
    jobs: int = 1,
    on_window: Callable[[WindowResult], None] | None = None,
    **backtest_kw: Any,
) -> WalkForwardResult:
    """Rolling (or ``anchored``) walk-forward of ``strategy``.

    ``params`` is a fixed parameter set, or what to tune on each training window: a list of
    parameter sets (a grid, run with the backtest's ``sweep``) or a mapping of names to
    ``ParamRange`` (optuna, ``window_trials`` trials). Performance is the test windows only.
    """
    fixed, tuning = _split_params(params)
    windows: list[WindowResult] = []
    pieces: list[pd.Series] = []
    for win, rets in iter_windows(
        bars,
        strategy,
        fixed,
        train=train,
        test=test,
        anchored=anchored,
        tuning=tuning,
        window_trials=window_trials,
        seed=seed,
        jobs=jobs,
        **backtest_kw,
    ):
        windows.append(win)
        pieces.append(rets)
        if on_window is not None:
            on_window(win)
    returns = pd.concat(pieces) if pieces else pd.Series(dtype=np.float64)
    from tradecrew.research.backtest import get_strategy

    attrs = getattr(bars, "attrs", {}) or {}
    return WalkForwardResult(
        symbol=backtest_kw.get("symbol") or attrs.get("symbol"),
        strategy=get_strategy(strategy).name,
        anchored=anchored,
        train=train,
        test=test,
        tuned=tuning is not None,
        configurations=_configurations(tuning, window_trials),
        oos=oos_metrics(returns, sum(w.test_trades for w in windows), bars_per_year(bars.index)),
        windows=windows,
        returns=returns,
    )


def _split_params(
    params: Mapping[str, ParamValue] | Tuning | None,
) -> tuple[dict[str, ParamValue], Tuning | None]:
    if params is None:
        return {}, None
    if isinstance(params, Mapping):
        if params and all(isinstance(v, ParamRange) for v in params.values()):
            return {}, dict(params)  # type: ignore[arg-type]
        return dict(params), None  # type: ignore[arg-type]
    grid = [dict(p) for p in params]
    if not grid:
        raise ValueError("the grid to tune over is empty")
    return {}, grid


def _configurations(tuning: Tuning | None, trials: int) -> int:
    if tuning is None:
        return 1
    return trials if isinstance(tuning, Mapping) else len(tuning)
