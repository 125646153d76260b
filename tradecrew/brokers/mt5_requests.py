"""MetaTrader 5 ``order_send`` requests from desk orders: units to lots on the symbol's
volume grid, the filling policy the symbol allows, and the request dict itself. Pure
functions over values the adapter has already read from the terminal.
"""

from __future__ import annotations

import math
from typing import Any

from tradecrew.brokers.base import NotSupported, OrderRejected
from tradecrew.brokers.mt5_constants import (
    Filling,
    Mt5OrderType,
    OrderTime,
    SymbolFilling,
    TradeAction,
)
from tradecrew.brokers.mt5_mapping import PENDING_TYPES
from tradecrew.models import Order, OrderType, Side, TimeInForce


def to_lots(order: Order, sym: str, info: Any) -> float:
    """The order's quantity in lots of ``sym`` (``info`` is its symbol_info); OrderRejected
    when it is off the volume step or outside the symbol's volume range."""
    lots = order.quantity / float(info.trade_contract_size)
    steps = lots / info.volume_step
    if not math.isfinite(lots) or abs(steps - round(steps)) > 1e-6:
        raise OrderRejected(
            f"{order.quantity} units is {lots:g} lots, not a multiple of "
            f"the {info.volume_step:g}-lot step of {sym}",
            code="volume",
        )
    if lots < info.volume_min - 1e-12 or lots > info.volume_max + 1e-12:
        raise OrderRejected(
            f"{lots:g} lots outside {info.volume_min:g}..{info.volume_max:g} for {sym}",
            code="volume",
        )
    return round(round(steps) * info.volume_step, 8)


def filling_for(filling_mode: int) -> Filling:
    """The filling policy for a symbol's ``filling_mode`` flags: IOC, else FOK, else RETURN."""
    flags = SymbolFilling(int(filling_mode) & 3)
    if SymbolFilling.IOC in flags:
        return Filling.IOC
    return Filling.FOK if SymbolFilling.FOK in flags else Filling.RETURN


def build_request(
    order: Order,
    sym: str,
    lots: float,
    tag: str,
    *,
    magic: int,
    deviation: int,
    filling: Filling,
    tick: Any = None,
) -> dict[str, Any]:
    """The ``order_send`` dict; ``tick`` (the symbol's latest tick) prices market orders."""
    req: dict[str, Any] = {
        "symbol": sym,
        "volume": lots,
        "magic": magic,
        "comment": tag,
        "deviation": deviation,
        "type_filling": int(filling),
        "type_time": int(
            OrderTime.DAY if order.time_in_force is TimeInForce.DAY else OrderTime.GTC
        ),
    }
    if order.order_type is OrderType.MARKET:
        req.update(
            action=int(TradeAction.DEAL),
            price=float(tick.ask if order.side is Side.BUY else tick.bid),
            type=int(Mt5OrderType.BUY if order.side is Side.BUY else Mt5OrderType.SELL),
        )
    else:
        req.update(
            action=int(TradeAction.PENDING),
            type=int(PENDING_TYPES[(order.order_type, order.side)]),
        )
        if order.order_type is OrderType.LIMIT:
            req["price"] = order.limit_price
        else:
            req["price"] = order.stop_price
            if order.order_type is OrderType.STOP_LIMIT:
                req["stoplimit"] = order.limit_price
        if req["price"] is None or (
            order.order_type is OrderType.STOP_LIMIT and req["stoplimit"] is None
        ):
            raise OrderRejected(f"a {order.order_type.value} order needs its prices")
    if order.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        if order.order_type is not OrderType.MARKET:
            raise NotSupported("MT5 pending orders take gtc or day time in force")
        fill = Filling.IOC if order.time_in_force is TimeInForce.IOC else Filling.FOK
        req["type_filling"] = int(fill)
    if order.stop_loss is not None:
        req["sl"] = order.stop_loss
    if order.take_profit is not None:
        req["tp"] = order.take_profit
    return req
