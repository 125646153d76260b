"""The result of a backtest and the metrics computed from its equity curve and trades.

Annualisation counts the bars the data really has per year (span in calendar days over
365.25), so daily stocks (~252 bars a year), daily gold (~260) and hourly forex each use
their own figure. Ratios that have no value (no losing trade for the profit factor, a
flat curve for Sharpe) are ``None`` rather than an infinity.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, computed_field

from tradecrew.research.backtest.costs import Costs
from tradecrew.research.backtest.kernel import Fills

#: The seed's targets, reported as met or not with every result.
TARGET_SHARPE = 1.5
TARGET_MAX_DRAWDOWN = 0.05
_DAYS_PER_YEAR = 365.25
SYNTHETIC_NOTE = "SYNTHETIC DATA: these bars are generated, not market data"


class TradeRecord(BaseModel):
    """One round trip: opened at ``entry_time``'s open, closed at ``exit_time``."""

    model_config = ConfigDict(extra="forbid")

    entry_time: datetime
    exit_time: datetime
    side: Literal["long", "short"]
    quantity: float = Field(description="units bought (long) or sold (short) to open")
    entry_price: float = Field(description="average fill price, costs of spread and slippage in")
    exit_price: float
    pnl: float = Field(description="in the quote currency, net of commission on both sides")
    return_pct: float = Field(description="pnl over the entry notional")
    entry_index: int
    exit_index: int


_TRADES = TypeAdapter(list[TradeRecord])


class Targets(BaseModel):
    """The seed's targets and whether this run met them."""

    sharpe_min: float = TARGET_SHARPE
    max_drawdown_max: float = TARGET_MAX_DRAWDOWN
    sharpe_met: bool
    max_drawdown_met: bool
    met: bool


class BacktestResult(BaseModel):
    """Metrics, the trade list and (outside the JSON) per-bar ``returns`` and ``equity``."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    strategy: str
    params: dict[str, Any] = Field(default_factory=dict)
    symbol: str | None = None
    engine: Literal["kernel", "replay"] = "kernel"
    synthetic: bool = Field(False, description="true when the bars are generated, not market data")
    start: datetime
    end: datetime
    bars: int
    costs: Costs
    initial_equity: float
    final_equity: float
    trades: int = Field(description="number of round trips")
    total_return: float = Field(description="fraction: 0.25 is +25 %")
    annual_return: float
    sharpe: float | None
    sortino: float | None
    max_drawdown: float = Field(description="largest peak-to-trough fall, a positive fraction")
    calmar: float | None
    win_rate: float | None
    profit_factor: float | None
    exposure: float = Field(description="fraction of bars with a position at the close")
    turnover: float = Field(description="traded notional over average equity, per year")
    targets: Targets
    notes: list[str] = Field(default_factory=list)
    returns: pd.Series = Field(exclude=True, repr=False)
    equity: pd.Series = Field(exclude=True, repr=False)
    _fills: Fills | None = PrivateAttr(None)
    _trade_list: list[TradeRecord] | None = PrivateAttr(None)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def trade_list(self) -> list[TradeRecord]:
        """Every round trip, oldest first; built on first use, since a sweep of many runs
        rarely reads it and a long run can hold thousands."""
        if self._trade_list is None:
            fills = self._fills
            self._trade_list = (
                [] if fills is None else _trades(pd.DatetimeIndex(self.equity.index), fills)
            )
        return self._trade_list

    def json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _ratio(num: float, den: float) -> float | None:
    if not (math.isfinite(num) and math.isfinite(den)) or den <= 0:
        return None
    return float(num / den)


def _years(index: pd.DatetimeIndex) -> float:
    if len(index) < 2:
        return 0.0
    return float((index[-1] - index[0]).total_seconds()) / 86_400.0 / _DAYS_PER_YEAR


def bars_per_year(index: pd.DatetimeIndex) -> float:
    """The bars the data really has per year (252 when it spans no time)."""
    years = _years(index)
    return (len(index) - 1) / years if years > 0 else 252.0


def _trades(index: pd.DatetimeIndex, fills: Fills) -> list[TradeRecord]:
    """The trade list, validated in one call (a run of 100,000 bars can hold thousands)."""
    entry_times = index[fills.entry_index].to_pydatetime()
    exit_times = index[fills.exit_index].to_pydatetime()
    notional = fills.quantity * fills.entry_price
    with np.errstate(invalid="ignore", divide="ignore"):
        ret = np.where(notional > 0, fills.pnl / notional, 0.0)
    keys = (
        "entry_time",
        "exit_time",
        "side",
        "quantity",
        "entry_price",
        "exit_price",
        "pnl",
        "return_pct",
        "entry_index",
        "exit_index",
    )
    columns = zip(
        entry_times,
        exit_times,
        np.where(fills.side > 0, "long", "short").tolist(),
        fills.quantity.tolist(),
        fills.entry_price.tolist(),
        fills.exit_price.tolist(),
        fills.pnl.tolist(),
        ret.tolist(),
        fills.entry_index.tolist(),
        fills.exit_index.tolist(),
        strict=True,
    )
    return _TRADES.validate_python([dict(zip(keys, row, strict=True)) for row in columns])


def build_result(
    bars: pd.DataFrame,
    fills: Fills,
    *,
    strategy: str,
    params: dict[str, Any],
    symbol: str | None,
    costs: Costs,
    initial_equity: float,
    engine: Literal["kernel", "replay"] = "kernel",
    notes: list[str] | None = None,
) -> BacktestResult:
    """Metrics of one run, from its per-bar equity and its trades."""
    index = pd.DatetimeIndex(bars.index)
    synthetic = bool(bars.attrs.get("synthetic", False))
    equity = fills.equity
    prev = np.concatenate(([initial_equity], equity[:-1]))
    rets = equity / prev - 1.0
    years = _years(index)
    per_year = bars_per_year(index)
    total = float(equity[-1] / initial_equity - 1.0)
    annual = float((1.0 + total) ** (1.0 / years) - 1.0) if years > 0 and total > -1 else total
    std = float(np.std(rets, ddof=1)) if len(rets) > 1 else 0.0
    mean = float(np.mean(rets))
    sharpe = _ratio(mean * math.sqrt(per_year), std) if std > 1e-15 else None
    downside = float(np.sqrt(np.mean(np.minimum(rets, 0.0) ** 2)))
    sortino = _ratio(mean * math.sqrt(per_year), downside) if downside > 1e-15 else None
    peak = np.maximum.accumulate(np.concatenate(([initial_equity], equity)))
    mdd = float(np.max(1.0 - np.concatenate(([initial_equity], equity)) / peak))
    pnl = fills.pnl
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    mean_equity = float(np.mean(equity))
    turnover = fills.traded_notional / mean_equity / years if years > 0 and mean_equity > 0 else 0.0
    targets = Targets(
        sharpe_met=sharpe is not None and sharpe > TARGET_SHARPE,
        max_drawdown_met=mdd < TARGET_MAX_DRAWDOWN,
        met=sharpe is not None and sharpe > TARGET_SHARPE and mdd < TARGET_MAX_DRAWDOWN,
    )
    result = BacktestResult(
        strategy=strategy,
        params=params,
        symbol=symbol,
        engine=engine,
        synthetic=synthetic,
        start=index[0].to_pydatetime(),
        end=index[-1].to_pydatetime(),
        bars=len(index),
        costs=costs,
        initial_equity=initial_equity,
        final_equity=float(equity[-1]),
        trades=len(pnl),
        total_return=total,
        annual_return=annual,
        sharpe=sharpe,
        sortino=sortino,
        max_drawdown=mdd,
        calmar=_ratio(annual, mdd) if mdd > 0 else None,
        win_rate=float(len(wins) / len(pnl)) if len(pnl) else None,
        profit_factor=_ratio(float(wins.sum()), float(-losses.sum())) if len(losses) else None,
        exposure=float(np.mean(fills.units != 0.0)),
        turnover=float(turnover),
        targets=targets,
        notes=([SYNTHETIC_NOTE] if synthetic else []) + list(notes or []),
        returns=pd.Series(rets, index=index, name="returns"),
        equity=pd.Series(equity, index=index, name="equity"),
    )
    result._fills = fills
    return result
