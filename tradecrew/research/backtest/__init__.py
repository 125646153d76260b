"""Backtests: one cost and fill model, a vectorised kernel and an event-driven replay of the
desk's own code, the built-in strategies and the user-strategy interface.

    from tradecrew.research.backtest import backtest
    result = backtest(bars, "sma_cross", {"fast": 10, "slow": 30})
"""

from tradecrew.research.backtest.api import backtest, prepare_bars, sweep
from tradecrew.research.backtest.costs import Costs
from tradecrew.research.backtest.result import BacktestResult, Targets, TradeRecord
from tradecrew.research.backtest.strategies import (
    NAMES,
    Strategy,
    StrategyError,
    get_strategy,
    load_strategy,
)

__all__ = [
    "NAMES",
    "BacktestResult",
    "Costs",
    "Strategy",
    "StrategyError",
    "Targets",
    "TradeRecord",
    "backtest",
    "get_strategy",
    "load_strategy",
    "prepare_bars",
    "sweep",
]
