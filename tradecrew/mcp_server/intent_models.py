"""Typed intents a trader's command parses into, and their one-line summaries.

An intent is never an order: the desk turns a trade intent into a proposal that the risk
gate and a human approve, and answers the other kinds directly.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

from tradecrew.instruments import find_instrument
from tradecrew.models import OrderType, Side, TimeInForce

Unit = Literal["shares", "lots", "ounces", "units", "coins", "notional"]
QueryTopic = Literal["exposure", "positions", "orders", "account", "risk", "quote", "analysis"]
Problem = Literal[
    "empty",
    "too_long",
    "missing",
    "ambiguous",
    "unknown_symbol",
    "invalid",
    "unsupported",
    "negated",
]
Partial = dict[str, str | float | bool | None]


class _Intent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TradeIntent(_Intent):
    """Open or add to a position: exactly what the trader asked for, quantity in units."""

    kind: Literal["trade"] = "trade"
    symbol: str
    side: Side
    quantity: float = Field(gt=0, description="units: shares, ounces, base currency, coins")
    quantity_text: str = Field(description="the quantity as the trader wrote it")
    unit: Unit
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = Field(None, gt=0)
    stop_price: float | None = Field(None, gt=0)
    stop_loss: float | None = Field(None, gt=0)
    take_profit: float | None = Field(None, gt=0)
    time_in_force: TimeInForce | None = None
    notional: float | None = Field(None, gt=0, description="the amount when sized by value")
    notional_currency: str | None = None
    reference_price: float | None = Field(None, gt=0, description="price used for notional")

    @model_validator(mode="after")
    def _prices_fit_order_type(self) -> TradeIntent:
        needs_limit = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit != (self.limit_price is not None):
            raise ValueError(f"a {self.order_type.value} order must set limit_price exactly then")
        if needs_stop != (self.stop_price is not None):
            raise ValueError(f"a {self.order_type.value} order must set stop_price exactly then")
        if (self.unit == "notional") != (self.notional is not None):
            raise ValueError("notional is set exactly when the unit is notional")
        return self


class CloseIntent(_Intent):
    """Reduce or close a position (symbol None means every position)."""

    kind: Literal["close"] = "close"
    symbol: str | None = None
    fraction: float | None = Field(None, gt=0, le=1)
    quantity: float | None = Field(None, gt=0)
    quantity_text: str | None = None
    unit: Unit | None = None

    @model_validator(mode="after")
    def _one_amount(self) -> CloseIntent:
        if (self.fraction is None) == (self.quantity is None):
            raise ValueError("give exactly one of fraction and quantity")
        if self.quantity is not None and self.symbol is None:
            raise ValueError("a quantity needs a symbol")
        return self


class CancelIntent(_Intent):
    """Cancel working orders: one by id, or all of them (optionally for a symbol and side)."""

    kind: Literal["cancel"] = "cancel"
    symbol: str | None = None
    order_id: str | None = None
    scope: Literal["all", "one"] = "all"
    side: Side | None = None

    @model_validator(mode="after")
    def _scope_fits(self) -> CancelIntent:
        if self.order_id is not None and self.scope != "one":
            raise ValueError("an order id cancels one order")
        if self.scope == "one" and self.order_id is None and self.symbol is None:
            raise ValueError("cancelling one order needs an order id or a symbol")
        return self


class QueryIntent(_Intent):
    """A read-only question about the book, the account, risk, prices or analysis."""

    kind: Literal["query"] = "query"
    topic: QueryTopic
    currency: str | None = None
    symbol: str | None = None


class KillSwitchIntent(_Intent):
    """Halt (enabled=True) or resume (enabled=False) all trading."""

    kind: Literal["kill_switch"] = "kill_switch"
    enabled: bool


class ParseFailure(_Intent):
    """The command was not understood well enough to act on; says what is missing."""

    kind: Literal["unparsed"] = "unparsed"
    message: str
    problem: Problem
    missing: list[str] = Field(default_factory=list)
    partial: Partial = Field(default_factory=dict)
    suggestions: list[str] = Field(default_factory=list)
    quoted: str | None = Field(
        None, description="the user's own word the message refers to, verbatim (their text)"
    )


Intent = Annotated[
    TradeIntent | CloseIntent | CancelIntent | QueryIntent | KillSwitchIntent | ParseFailure,
    Field(discriminator="kind"),
]
INTENT_ADAPTER: TypeAdapter[Intent] = TypeAdapter(Intent)


def format_quantity(value: float) -> str:
    """Thousands separators, no trailing zeros: 50000.0 -> '50,000', 0.5 -> '0.5'."""
    text = f"{value:,.8f}".rstrip("0").rstrip(".")
    return text or "0"


def format_price(symbol: str | None, value: float) -> str:
    """Prices to the instrument's customary decimals (pips for forex), more if given."""
    inst = find_instrument(symbol) if symbol else None
    decimals = 2
    if inst is not None:
        tick = f"{inst.tick_size:.10f}".rstrip("0")
        decimals = max(len(tick.split(".")[1]) if "." in tick else 0, 0)
        if inst.asset_class.value == "forex":
            decimals = max(decimals - 1, 0)
    exact = f"{value:.10f}".rstrip("0").rstrip(".")
    given = len(exact.split(".")[1]) if "." in exact else 0
    return f"{value:,.{max(decimals, given)}f}"


def _describe_trade(t: TradeIntent) -> str:
    text = f"{t.side.value} {format_quantity(t.quantity)} {t.symbol}"
    if t.unit == "lots":
        text += f" ({t.quantity_text})"
    elif t.unit == "notional" and t.reference_price is not None:
        text += f" ({t.quantity_text} at {format_price(t.symbol, t.reference_price)})"
    if t.order_type is OrderType.MARKET:
        text += " at market"
    if t.stop_price is not None:
        text += f" stop {format_price(t.symbol, t.stop_price)}"
    if t.limit_price is not None:
        text += f" limit {format_price(t.symbol, t.limit_price)}"
    extras = []
    if t.stop_loss is not None:
        extras.append(f"stop loss {format_price(t.symbol, t.stop_loss)}")
    if t.take_profit is not None:
        extras.append(f"take profit {format_price(t.symbol, t.take_profit)}")
    if t.time_in_force is not None:
        extras.append(t.time_in_force.value.upper())
    return ", ".join([text, *extras])


def _describe_close(c: CloseIntent) -> str:
    target = c.symbol or "all positions"
    if c.quantity is not None:
        return f"close {format_quantity(c.quantity)} of {target}"
    if c.fraction == 1:
        return f"close {target}" if c.symbol else "close all positions"
    names = {
        0.5: "half",
        0.25: "a quarter",
        0.75: "three quarters",
        1 / 3: "a third",
        2 / 3: "two thirds",
    }
    amount = names.get(c.fraction or 0, f"{(c.fraction or 0) * 100:.4g}%")
    return f"close {amount} of {target}"


def _describe_cancel(c: CancelIntent) -> str:
    if c.order_id:
        return f"cancel order {c.order_id}"
    side = f" {c.side.value}" if c.side else ""
    sym = f" {c.symbol}" if c.symbol else ""
    if c.scope == "one":
        return f"cancel the{sym}{side} order"
    return f"cancel all{sym}{side} orders"


def describe(intent: Intent) -> str:
    """One line a human can check before approving: what the desk understood."""
    if isinstance(intent, TradeIntent):
        return _describe_trade(intent)
    if isinstance(intent, CloseIntent):
        return _describe_close(intent)
    if isinstance(intent, CancelIntent):
        return _describe_cancel(intent)
    if isinstance(intent, QueryIntent):
        about = intent.currency or intent.symbol
        return f"show {intent.topic}" + (f" for {about}" if about else "")
    if isinstance(intent, KillSwitchIntent):
        return (
            "kill switch ON: halt all trading"
            if intent.enabled
            else "kill switch OFF: resume trading"
        )
    return f"not understood: {intent.message}"
