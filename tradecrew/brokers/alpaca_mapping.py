"""Translation between the desk's models and Alpaca's: symbols, order requests, order
objects and statuses. Pure functions, so the adapter only handles transport and safety.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from tradecrew.brokers.base import BrokerError, NotSupported
from tradecrew.instruments import find_instrument, normalize_symbol
from tradecrew.models import (
    AssetClass,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

_EQUITY_TICKER = re.compile(r"^[A-Z][A-Z.]{0,5}$")

# Alpaca's order statuses mapped onto the desk's lifecycle. Working states become ACCEPTED
# (PARTIALLY_FILLED when something already traded); pending_new is sent but not yet acked.
STATUS_MAP: dict[str, OrderStatus] = {
    "pending_new": OrderStatus.SUBMITTED,
    "new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "accepted_for_bidding": OrderStatus.ACCEPTED,
    "pending_review": OrderStatus.ACCEPTED,
    "held": OrderStatus.ACCEPTED,
    "stopped": OrderStatus.ACCEPTED,
    "suspended": OrderStatus.ACCEPTED,
    "pending_cancel": OrderStatus.ACCEPTED,
    "pending_replace": OrderStatus.ACCEPTED,
    "done_for_day": OrderStatus.ACCEPTED,
    "calculated": OrderStatus.ACCEPTED,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "replaced": OrderStatus.CANCELLED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


T = TypeVar("T")


def alpaca_model(got: T | dict[str, Any]) -> T:
    """alpaca-py returns a plain dict instead of its model only for a client built with
    ``raw_data=True``, which the broker adapter never builds."""
    if isinstance(got, dict):
        raise BrokerError("Alpaca client returned raw data where this adapter needs its models")
    return got


def looks_like_uuid(value: str) -> bool:
    """Alpaca's own order ids are UUIDs; the desk's client order ids are not."""
    parts = value.split("-")
    return len(value) == 36 and [len(p) for p in parts] == [8, 4, 4, 4, 12]


def to_alpaca_symbol(symbol: str) -> str:
    """Desk symbol to Alpaca's: crypto as ``BTC/USD``, US equities as is; others refused."""
    inst = find_instrument(symbol)
    if inst is None:
        ticker = symbol.strip().upper()
        if _EQUITY_TICKER.match(ticker):
            return ticker  # Alpaca lists thousands of equities beyond the desk's catalogue
        raise NotSupported(f"{symbol!r} is not a symbol Alpaca trades")
    if inst.asset_class is AssetClass.CRYPTO:
        return f"{inst.base_currency}/{inst.quote_currency}"
    if inst.asset_class is AssetClass.EQUITY:
        return inst.symbol
    raise NotSupported(
        f"{inst.symbol} is {inst.asset_class.value}; Alpaca trades US equities and crypto only "
        "(use the paper or mt5 broker for forex, metals and indices)"
    )


def from_alpaca_symbol(symbol: str) -> str:
    return normalize_symbol(symbol)


def is_crypto(alpaca_symbol: str) -> bool:
    return "/" in alpaca_symbol


def map_status(status: str, filled_qty: float) -> OrderStatus:
    """Alpaca's status string as the desk's OrderStatus (unknown ones stay ACCEPTED)."""
    ours = STATUS_MAP.get(status, OrderStatus.ACCEPTED)
    if ours is OrderStatus.ACCEPTED and filled_qty > 0:
        return OrderStatus.PARTIALLY_FILLED
    return ours


def order_request(order: Order) -> Any:
    """The alpaca-py request object for a desk order (bracket/OTO when it carries SL/TP)."""
    from alpaca.trading.enums import OrderClass
    from alpaca.trading.enums import OrderSide as ASide
    from alpaca.trading.enums import TimeInForce as ATif
    from alpaca.trading.requests import (
        LimitOrderRequest,
        MarketOrderRequest,
        StopLimitOrderRequest,
        StopLossRequest,
        StopOrderRequest,
        TakeProfitRequest,
    )

    symbol = to_alpaca_symbol(order.symbol)
    legs: dict[str, Any] = {}
    if order.stop_loss is not None or order.take_profit is not None:
        if is_crypto(symbol):
            raise NotSupported("Alpaca crypto orders cannot carry stop-loss or take-profit legs")
        both = order.stop_loss is not None and order.take_profit is not None
        legs["order_class"] = OrderClass.BRACKET if both else OrderClass.OTO
        if order.take_profit is not None:
            legs["take_profit"] = TakeProfitRequest(limit_price=order.take_profit)
        if order.stop_loss is not None:
            legs["stop_loss"] = StopLossRequest(stop_price=order.stop_loss)
    if is_crypto(symbol) and order.time_in_force not in (TimeInForce.GTC, TimeInForce.IOC):
        raise NotSupported("Alpaca crypto orders accept time in force gtc or ioc only")
    common = {
        "symbol": symbol,
        "qty": order.quantity,
        "side": ASide(order.side.value),
        "time_in_force": ATif(order.time_in_force.value),
        "client_order_id": order.client_order_id,
        **legs,
    }
    if order.order_type is OrderType.MARKET:
        return MarketOrderRequest(**common)
    if order.order_type is OrderType.LIMIT:
        return LimitOrderRequest(limit_price=_need(order.limit_price, "limit_price"), **common)
    if order.order_type is OrderType.STOP:
        return StopOrderRequest(stop_price=_need(order.stop_price, "stop_price"), **common)
    return StopLimitOrderRequest(
        stop_price=_need(order.stop_price, "stop_price"),
        limit_price=_need(order.limit_price, "limit_price"),
        **common,
    )


def from_alpaca_order(obj: Any, desk_id: str | None = None) -> Order:
    """An alpaca-py Order as the desk's Order; ``desk_id`` keeps the caller's own id."""
    status = _value(obj.status)
    filled = _num(obj.filled_qty) or 0.0
    kind = _value(obj.order_type or obj.type) or "market"
    stop_loss = take_profit = None
    for leg in obj.legs or []:
        leg_kind = _value(leg.order_type or leg.type)
        if leg_kind == "limit":
            take_profit = _num(leg.limit_price)
        elif leg_kind in ("stop", "stop_limit"):
            stop_loss = _num(leg.stop_price)
    tif = _value(obj.time_in_force)
    return Order(
        id=desk_id or str(obj.id),
        client_order_id=obj.client_order_id,
        symbol=from_alpaca_symbol(obj.symbol or ""),
        side=Side(_value(obj.side)),
        quantity=_num(obj.qty) or 0.0,
        # trailing stops (placed outside the desk) are reported as plain stops
        order_type=OrderType(kind) if kind in OrderType._value2member_map_ else OrderType.STOP,
        limit_price=_num(obj.limit_price),
        stop_price=_num(obj.stop_price),
        stop_loss=stop_loss,
        take_profit=take_profit,
        time_in_force=TimeInForce(tif)
        if tif in TimeInForce._value2member_map_
        else (TimeInForce.DAY),
        status=map_status(status, filled),
        filled_quantity=filled,
        average_fill_price=_num(obj.filled_avg_price),
        broker="alpaca",
        broker_order_id=str(obj.id),
        created_at=obj.created_at,
        updated_at=obj.updated_at,
        status_reason=f"alpaca: {status}",
    )


def _need(value: float | None, name: str) -> float:
    if value is None:
        raise NotSupported(f"this order type needs {name}")
    return value


def _num(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _value(enum_or_str: Any) -> str:
    return getattr(enum_or_str, "value", enum_or_str)
