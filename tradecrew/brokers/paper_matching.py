"""Pure matching rules of the paper venue: when an order executes against a bar or a quote,
at what price, and how much of it the bar's volume allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from tradecrew.brokers.base import OrderRejected
from tradecrew.instruments import Instrument, UnknownSymbol, get_instrument
from tradecrew.models import Bar, Order, OrderStatus, OrderType, Quote, Side

_EPS = 1e-12


@dataclass(frozen=True)
class Tape:
    """One market event seen from both sides: buys trade at the ask path, sells at the bid
    path. ``volume`` None means unlimited liquidity (quotes)."""

    timestamp: datetime
    buy_open: float
    buy_high: float
    buy_low: float
    sell_open: float
    sell_high: float
    sell_low: float
    mark: float
    volume: float | None

    @classmethod
    def from_bar(cls, bar: Bar) -> Tape:
        if not all(math.isfinite(v) and v > 0 for v in (bar.open, bar.high, bar.low, bar.close)):
            raise ValueError(f"bar prices must be finite and positive: {bar}")
        if bar.high < bar.low or not bar.low <= bar.open <= bar.high:
            raise ValueError(f"bar is inconsistent (low <= open <= high required): {bar}")
        if not math.isfinite(bar.volume) or bar.volume < 0:
            raise ValueError(f"bar volume must be finite and non-negative: {bar.volume}")
        return cls(
            timestamp=bar.timestamp,
            buy_open=bar.open,
            buy_high=bar.high,
            buy_low=bar.low,
            sell_open=bar.open,
            sell_high=bar.high,
            sell_low=bar.low,
            mark=bar.close,
            volume=bar.volume if bar.volume > 0 else None,
        )

    @classmethod
    def from_quote(cls, quote: Quote) -> Tape:
        if not (math.isfinite(quote.bid) and math.isfinite(quote.ask)) or quote.bid <= 0:
            raise ValueError(f"quote prices must be finite and positive: {quote}")
        if quote.ask < quote.bid:
            raise ValueError(f"quote is crossed (ask below bid): {quote}")
        return cls(
            timestamp=quote.timestamp,
            buy_open=quote.ask,
            buy_high=quote.ask,
            buy_low=quote.ask,
            sell_open=quote.bid,
            sell_high=quote.bid,
            sell_low=quote.bid,
            mark=quote.mid,
            volume=None,
        )

    def path(self, side: Side) -> tuple[float, float, float]:
        if side is Side.BUY:
            return self.buy_open, self.buy_high, self.buy_low
        return self.sell_open, self.sell_high, self.sell_low


@dataclass(frozen=True)
class Execution:
    """Where an order trades on this tape; ``aggressive`` fills pay slippage."""

    price: float | None
    triggered: bool
    aggressive: bool


def match(
    order_type: OrderType,
    side: Side,
    limit_price: float | None,
    stop_price: float | None,
    triggered: bool,
    tape: Tape,
) -> Execution:
    """Decide whether an order executes on this tape: limits at the limit or better, stops
    trigger when crossed and fill at the stop or the gap-through open."""
    open_, high, low = tape.path(side)
    ref = open_
    if order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and not triggered:
        assert stop_price is not None
        if side is Side.BUY and high >= stop_price:
            ref = max(open_, stop_price)
        elif side is Side.SELL and low <= stop_price:
            ref = min(open_, stop_price)
        else:
            return Execution(None, False, False)
        triggered = True
    if order_type in (OrderType.MARKET, OrderType.STOP):
        return Execution(ref, triggered, True)
    assert limit_price is not None
    if side is Side.BUY:
        if ref <= limit_price:
            return Execution(ref, triggered, False)
        if low <= limit_price:
            return Execution(limit_price, triggered, False)
    else:
        if ref >= limit_price:
            return Execution(ref, triggered, False)
        if high >= limit_price:
            return Execution(limit_price, triggered, False)
    return Execution(None, triggered, False)


def slipped(price: float, side: Side, slippage_bps: float) -> float:
    """The price after paying ``slippage_bps`` against the trader."""
    return price * (1.0 + side.sign * slippage_bps / 10_000.0)


def to_steps(quantity: float, step: float) -> int:
    """Whole quantity steps in ``quantity`` (tolerant of float noise like 0.1 + 0.2)."""
    return math.floor(quantity / step + 1e-9)


def is_on_grid(quantity: float, step: float) -> bool:
    steps = quantity / step
    return abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))


def from_steps(steps: int, step: float) -> float:
    """A step count back to units, rounded to the step's decimals so sums stay exact-looking."""
    decimals = max(0, -math.floor(math.log10(step))) + 2 if step < 1 else 0
    return round(steps * step, decimals)


def instrument_for(symbol: str) -> Instrument:
    try:
        return get_instrument(symbol)
    except UnknownSymbol as exc:
        raise OrderRejected(str(exc), code="symbol") from None


def validate_order(order: Order) -> Instrument:
    """Venue-side checks: known symbol, quantity on the instrument's grid, prices that fit."""
    inst = instrument_for(order.symbol)
    q = order.quantity
    if not math.isfinite(q) or q <= 0:
        raise OrderRejected(f"quantity must be a finite number above zero, got {q}", "quantity")
    if q < inst.min_quantity - 1e-12:
        raise OrderRejected(
            f"quantity {q} below the minimum {inst.min_quantity} for {inst.symbol}", "quantity"
        )
    if not is_on_grid(q, inst.quantity_step):
        raise OrderRejected(
            f"quantity {q} is not a multiple of the step {inst.quantity_step} for {inst.symbol}",
            "quantity",
        )
    needs_limit = order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
    for name, value, needed in (
        ("limit_price", order.limit_price, needs_limit),
        ("stop_price", order.stop_price, needs_stop),
    ):
        if needed and value is None:
            raise OrderRejected(f"a {order.order_type.value} order needs a {name}", "price")
        if not needed and value is not None:
            raise OrderRejected(f"a {order.order_type.value} order takes no {name}", "price")
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise OrderRejected(f"{name} must be finite and above zero, got {value}", "price")
    if order.status is not OrderStatus.NEW and order.status is not OrderStatus.SUBMITTED:
        raise OrderRejected(f"only new orders can be submitted, this one is {order.status.value}")
    return inst


def same_or_reject(existing: Order, order: Order) -> Order:
    same = (
        existing.symbol == instrument_for(order.symbol).symbol
        and existing.side is order.side
        and math.isclose(existing.quantity, order.quantity)
        and existing.order_type is order.order_type
        and existing.limit_price == order.limit_price
        and existing.stop_price == order.stop_price
    )
    if not same:
        raise OrderRejected(
            f"client order id {order.client_order_id} already used for a different order",
            code="duplicate_client_order_id",
        )
    return existing


def aware(ts: datetime) -> datetime:
    if ts.tzinfo is None:
        raise ValueError("since must be timezone-aware (UTC)")
    return ts.astimezone(UTC)


def apply_fill(
    quantity: float, average: float, delta: float, price: float, step: float
) -> tuple[float, float, float]:
    """A position after a signed fill: (new quantity, new average price, realized P&L in the
    quote currency). Adding averages the price; reducing realizes against the average."""
    new_q = from_steps(round((quantity + delta) / step), step)
    if abs(quantity) < _EPS or (quantity > 0) == (delta > 0):
        return new_q, (abs(quantity) * average + abs(delta) * price) / abs(new_q), 0.0
    closing = min(abs(delta), abs(quantity))
    realized = closing * (price - average) * math.copysign(1.0, quantity)
    if abs(new_q) < _EPS:
        return 0.0, 0.0, realized
    if (new_q > 0) != (quantity > 0):
        return new_q, price, realized  # flipped: the remainder opened at this price
    return new_q, average, realized
