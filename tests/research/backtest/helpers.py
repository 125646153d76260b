"""What every backtest result's JSON holds, for the tests of the engine and of the CLI."""

from __future__ import annotations

#: The result's fields that the CLI's ``--json`` promised first.
RESULT_FIELDS = {
    "trades",
    "total_return",
    "annual_return",
    "sharpe",
    "sortino",
    "max_drawdown",
    "win_rate",
    "profit_factor",
    "exposure",
    "trade_list",
}
#: The fields of each closed trade in ``trade_list``.
TRADE_FIELDS = {"entry_time", "exit_time", "side", "quantity", "entry_price", "exit_price", "pnl"}
