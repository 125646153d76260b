"""``backtest`` and ``sweep``: the two entry points every front end (CLI, tuning, discovery)
calls."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from tradecrew.research.backtest.costs import Costs
from tradecrew.research.backtest.kernel import Fills, clean_target, simulate
from tradecrew.research.backtest.result import BacktestResult, build_result
from tradecrew.research.backtest.strategies import (
    SmaCross,
    Strategy,
    StrategyError,
    cross_state,
    get_strategy,
    sma,
)

Params = Mapping[str, float | int | str]


def prepare_bars(bars: pd.DataFrame) -> pd.DataFrame:
    """Bars with lower-case columns, a sorted unique DatetimeIndex and finite positive
    prices; a StrategyError (a ValueError) for anything a backtest cannot use."""
    if not isinstance(bars, pd.DataFrame):
        raise StrategyError("bars must be a pandas DataFrame")
    frame = bars.rename(columns=str.lower) if any(str(c) != str(c).lower() for c in bars) else bars
    missing = [c for c in ("open", "close") if c not in frame.columns]
    if missing:
        raise StrategyError(f"bars miss column(s): {', '.join(missing)}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise StrategyError("bars need a DatetimeIndex")
    if len(frame) < 2:
        raise StrategyError(f"a backtest needs at least 2 bars, got {len(frame)}")
    if not (frame.index.is_monotonic_increasing and frame.index.is_unique):
        raise StrategyError("bar timestamps must be unique and in increasing order")
    prices = frame[["open", "close"]].to_numpy(dtype=np.float64)
    if not (np.isfinite(prices).all() and (prices > 0).all()):
        raise StrategyError("open and close prices must be finite and above zero")
    if frame.index.tz is None:
        frame = frame.tz_localize("UTC")
    return frame


def backtest(
    bars: pd.DataFrame,
    strategy: str | Strategy = "sma_cross",
    params: Params | None = None,
    *,
    costs: Costs | None = None,
    symbol: str | None = None,
    engine: Literal["kernel", "replay"] = "kernel",
    initial_equity: float = 100_000.0,
    **replay_options: Any,
) -> BacktestResult:
    """Run ``strategy`` over ``bars``: fills at the next bar's open, ``costs`` (by default the
    instrument's) on every fill. ``engine="replay"`` runs the desk's risk engine and the paper
    venue's matching bar by bar instead of the vectorised kernel."""
    frame, strat, sym, cost = _setup(bars, strategy, symbol, costs)
    chosen = dict(params or {})
    if not (np.isfinite(initial_equity) and initial_equity > 0):
        raise StrategyError(f"initial equity must be above zero, got {initial_equity}")
    if engine == "replay":
        from tradecrew.research.backtest.replay import replay

        fills, notes = replay(frame, strat, chosen, cost, initial_equity, sym, **replay_options)
    elif engine == "kernel":
        if replay_options:
            raise StrategyError(
                f"{', '.join(sorted(replay_options))} only apply to engine='replay'"
            )
        target = clean_target(strat.target(frame, chosen), len(frame))
        fills = simulate(_arr(frame, "open"), _arr(frame, "close"), target, cost, initial_equity)
        notes = list(getattr(strat, "notes", []))
    else:
        raise StrategyError(f"unknown engine {engine!r}; use kernel or replay")
    return _result(frame, fills, strat, chosen, sym, cost, initial_equity, engine, notes)


def _setup(
    bars: pd.DataFrame, strategy: str | Strategy, symbol: str | None, costs: Costs | None
) -> tuple[pd.DataFrame, Strategy, str | None, Costs]:
    """The checked bars, the strategy, the symbol and the costs (the instrument's unless
    given) that both entry points start from."""
    frame = prepare_bars(bars)
    strat = get_strategy(strategy)
    sym = symbol or bars.attrs.get("symbol")
    return frame, strat, sym, costs if costs is not None else Costs.from_instrument(sym)


def _result(
    frame: pd.DataFrame,
    fills: Fills,
    strat: Strategy,
    chosen: dict[str, Any],
    sym: str | None,
    cost: Costs,
    initial_equity: float,
    engine: Literal["kernel", "replay"] = "kernel",
    notes: list[str] | None = None,
) -> BacktestResult:
    defaults = getattr(strat, "defaults", None)
    resolved = {**defaults, **chosen} if isinstance(defaults, dict) else dict(chosen)
    return build_result(
        frame,
        fills,
        strategy=strat.name,
        params=resolved,
        symbol=sym,
        costs=cost,
        initial_equity=initial_equity,
        engine=engine,
        notes=notes,
    )


def _arr(frame: pd.DataFrame, col: str) -> np.ndarray:
    return frame[col].to_numpy(dtype=np.float64)


def sweep(
    bars: pd.DataFrame,
    strategy: str | Strategy,
    grid: Sequence[Params],
    *,
    costs: Costs | None = None,
    symbol: str | None = None,
    initial_equity: float = 100_000.0,
) -> list[BacktestResult]:
    """One kernel run per parameter set of ``grid``, in order; moving averages of
    ``sma_cross`` are computed once per window and shared."""
    frame, strat, sym, cost = _setup(bars, strategy, symbol, costs)
    open_, close = _arr(frame, "open"), _arr(frame, "close")
    cache: dict[int, np.ndarray] = {}

    def mean(window: int) -> np.ndarray:
        if window not in cache:
            cache[window] = sma(close, window)
        return cache[window]

    out = []
    for params in grid:
        chosen = dict(params)
        if isinstance(strat, SmaCross):
            fast, slow = strat.windows(chosen)
            target = cross_state(mean(fast), mean(slow))
        else:
            target = clean_target(strat.target(frame, chosen), len(frame))
        fills = simulate(open_, close, target, cost, initial_equity)
        out.append(_result(frame, fills, strat, chosen, sym, cost, initial_equity))
    return out
