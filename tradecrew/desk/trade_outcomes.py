"""Closed trades, read from fills: entry, exit, P&L, holding time, and who called it right.

Pure: a round trip is rebuilt from one account's fills per symbol (a position opened from
flat and brought back to flat; a fill that flips the position closes one trade and opens the
next). Its id is the first entry fill's, so the same fills always give the same trades.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tradecrew.models import Fill, Order, Side

_EPS = 1e-9


class ClosedTrade(BaseModel):
    """One round trip on one symbol."""

    trade_id: str
    symbol: str
    side: Literal["long", "short"]
    quantity: float = Field(description="units opened")
    entry_price: float
    exit_price: float
    opened_at: datetime
    closed_at: datetime
    pnl: float = Field(description="quote currency, net of commissions")
    holding_seconds: float
    proposal_id: str | None = Field(None, description="the proposal whose order opened it")
    exit_reason: str = "closing order"
    venue: str = Field("paper", description="paper, backtest, or a broker and its mode")

    @property
    def move(self) -> float:
        """The realised direction of the market over the trade: +1 up, -1 down, 0 flat."""
        diff = self.exit_price - self.entry_price
        return (
            0.0 if abs(diff) <= _EPS * max(1.0, self.entry_price) else (1.0 if diff > 0 else -1.0)
        )


class _Open:
    def __init__(self, fill: Fill, order: Order | None, sign: float) -> None:
        self.first = fill
        self.order = order
        self.sign = sign
        self.qty = self.value = self.exit_qty = self.exit_value = self.fees = 0.0
        self.last_exit: Fill | None = None
        self.exit_order: Order | None = None


def _exit_reason(order: Order | None) -> str:
    if order is None:
        return "closing order"
    leg = order.client_order_id.rpartition("-")[2]
    return {"sl": "stop loss", "tp": "take profit"}.get(leg, "closing order")


def closed_trades(
    fills: Iterable[Fill], orders: Mapping[str, Order], venue: str = "paper"
) -> list[ClosedTrade]:
    """Every round trip the fills complete, in the order they closed."""
    by_symbol: dict[str, list[Fill]] = defaultdict(list)
    for fill in fills:
        by_symbol[fill.symbol].append(fill)
    out: list[ClosedTrade] = []
    for symbol, rows in by_symbol.items():
        rows.sort(key=lambda f: f.timestamp)  # stable: arrival order breaks ties
        trade: _Open | None = None
        for fill in rows:
            sign = 1.0 if fill.side is Side.BUY else -1.0
            left, fee_each = fill.quantity, fill.commission / fill.quantity
            order = orders.get(fill.order_id)
            while left > _EPS:
                if trade is None:
                    trade = _Open(fill, order, sign)
                if sign == trade.sign:
                    trade.qty += left
                    trade.value += left * fill.price
                    trade.fees += left * fee_each
                    left = 0.0
                    continue
                take = min(left, trade.qty - trade.exit_qty)
                trade.exit_qty += take
                trade.exit_value += take * fill.price
                trade.fees += take * fee_each
                trade.last_exit, trade.exit_order = fill, order
                left -= take
                if trade.qty - trade.exit_qty <= _EPS * max(1.0, trade.qty):
                    out.append(_closed(symbol, trade, venue))
                    trade = None
    return sorted(out, key=lambda t: (t.closed_at, t.trade_id))


def _closed(symbol: str, t: _Open, venue: str) -> ClosedTrade:
    assert t.last_exit is not None
    entry, exit_ = t.value / t.qty, t.exit_value / t.exit_qty
    return ClosedTrade(
        trade_id=f"trade_{t.first.id}",
        symbol=symbol,
        side="long" if t.sign > 0 else "short",
        quantity=t.qty,
        entry_price=entry,
        exit_price=exit_,
        opened_at=t.first.timestamp,
        closed_at=t.last_exit.timestamp,
        pnl=t.sign * (t.exit_value - t.value) - t.fees,
        holding_seconds=(t.last_exit.timestamp - t.first.timestamp).total_seconds(),
        proposal_id=t.order.proposal_id if t.order is not None else None,
        exit_reason=_exit_reason(t.exit_order),
        venue=venue,
    )


def component_verdicts(components: Mapping[str, float], move: float) -> dict[str, str]:
    """Each fusion component's call against the realised move: ``right`` when its
    contribution pointed the way the market went, ``wrong`` when against, else ``abstained``."""
    out: dict[str, str] = {}
    for name, value in components.items():
        if not isinstance(value, int | float) or abs(value) <= _EPS or move == 0:
            out[name] = "abstained"
        else:
            out[name] = "right" if (value > 0) == (move > 0) else "wrong"
    return out


def _duration(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.1f} hours"
    return f"{seconds / 60:.0f} minutes"


def outcome_text(
    trade: ClosedTrade,
    regime_in: str | None,
    regime_out: str | None,
    verdicts: Mapping[str, str],
) -> str:
    """The outcome as the crew and a person read it; the first line says it all."""
    result = "win" if trade.pnl > 0 else "loss" if trade.pnl < 0 else "flat"
    lines = [
        f"Closed {trade.side} {trade.quantity:g} {trade.symbol}: {result}, P&L "
        f"{trade.pnl:+.2f} over {_duration(trade.holding_seconds)} ({trade.exit_reason}); "
        f"regime {regime_in or 'unknown'} -> {regime_out or 'unknown'}",
        f"Entry {trade.entry_price:g} at {trade.opened_at:%Y-%m-%d %H:%M}, exit "
        f"{trade.exit_price:g} at {trade.closed_at:%Y-%m-%d %H:%M} UTC ({trade.venue})",
    ]
    if verdicts:
        by = defaultdict(list)
        for name, verdict in sorted(verdicts.items()):
            by[verdict].append(name)
        lines.append(
            "Components: "
            + "; ".join(
                f"{v}: {', '.join(by[v])}" for v in ("right", "wrong", "abstained") if by[v]
            )
        )
    else:
        lines.append("Components: not recorded with the proposal")
    return "\n".join(lines)
