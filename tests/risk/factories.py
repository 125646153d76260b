"""Builders for risk-engine inputs: a calm desk by default, one knob turned per test."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tradecrew.config import RiskSettings
from tradecrew.instruments import find_instrument
from tradecrew.models import Account, Position, Proposal, Quote, Side
from tradecrew.risk import RiskContext

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

#: Limits so wide that only the limit a test sets can bind.
WIDE = {
    "max_order_notional": 1e12,
    "max_position_notional": 1e12,
    "max_gross_exposure": 1e12,
    "max_net_exposure": 1e12,
    "max_currency_exposure": 1e12,
    "max_orders_per_minute": 1000,
}


def limits(**overrides: Any) -> RiskSettings:
    """Wide limits with ``overrides`` applied."""
    return RiskSettings(**{**WIDE, **overrides})


def account(equity: float = 100_000.0, **overrides: Any) -> Account:
    fields: dict[str, Any] = {
        "account_id": "acc_test",
        "broker": "paper",
        "cash": equity,
        "equity": equity,
        "buying_power": equity,
        "start_of_day_equity": equity,
        "peak_equity": equity,
        "timestamp": NOW,
    }
    fields.update(overrides)
    return Account(**fields)


def quote(symbol: str, price: float, spread: float = 0.0, **overrides: Any) -> Quote:
    fields: dict[str, Any] = {
        "symbol": symbol,
        "bid": price - spread / 2,
        "ask": price + spread / 2,
        "last": price,
        "timestamp": NOW,
    }
    fields.update(overrides)
    return Quote(**fields)


def position(symbol: str, quantity: float, price: float = 1.0) -> Position:
    return Position(symbol=symbol, quantity=quantity, average_price=price, market_price=price)


def context(symbol: str = "EURUSD", price: float = 1.10, **overrides: Any) -> RiskContext:
    """A context for ``symbol`` quoted at ``price`` (no spread), wide limits, calm account;
    held positions are uncorrelated with the symbol unless ``correlations`` says otherwise."""
    fields: dict[str, Any] = {
        "now": NOW,
        "limits": limits(),
        "account": account(),
        "instrument": find_instrument(symbol),
        "quote": quote(symbol, price),
        "last_price": price,
    }
    fields.update(overrides)
    held = [
        p.symbol if isinstance(p, Position) else p["symbol"] for p in fields.get("positions", [])
    ]
    fields.setdefault("correlations", dict.fromkeys(held, 0.0))
    return RiskContext(**fields)


def proposal(
    symbol: str = "EURUSD", side: Side | str = Side.BUY, quantity: float = 10_000, **kw: Any
) -> Proposal:
    return Proposal(
        id=kw.pop("id", "prp_test"),
        created_at=NOW,
        symbol=symbol,
        side=Side(side),
        quantity=quantity,
        **kw,
    )
