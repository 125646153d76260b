"""MetaTrader 5 lookup tables and the comment id."""

from __future__ import annotations

import hashlib

from tradecrew.brokers.mt5_constants import Mt5OrderType, OrderState
from tradecrew.models import OrderStatus, OrderType, Side

STATE_MAP = {
    OrderState.STARTED: OrderStatus.SUBMITTED,
    OrderState.REQUEST_ADD: OrderStatus.SUBMITTED,
    OrderState.REQUEST_MODIFY: OrderStatus.ACCEPTED,
    OrderState.REQUEST_CANCEL: OrderStatus.ACCEPTED,
    OrderState.PLACED: OrderStatus.ACCEPTED,
    OrderState.PARTIAL: OrderStatus.PARTIALLY_FILLED,
    OrderState.FILLED: OrderStatus.FILLED,
    OrderState.CANCELED: OrderStatus.CANCELLED,
    OrderState.REJECTED: OrderStatus.REJECTED,
    OrderState.EXPIRED: OrderStatus.EXPIRED,
}
PENDING_TYPES = {
    (OrderType.LIMIT, Side.BUY): Mt5OrderType.BUY_LIMIT,
    (OrderType.LIMIT, Side.SELL): Mt5OrderType.SELL_LIMIT,
    (OrderType.STOP, Side.BUY): Mt5OrderType.BUY_STOP,
    (OrderType.STOP, Side.SELL): Mt5OrderType.SELL_STOP,
    (OrderType.STOP_LIMIT, Side.BUY): Mt5OrderType.BUY_STOP_LIMIT,
    (OrderType.STOP_LIMIT, Side.SELL): Mt5OrderType.SELL_STOP_LIMIT,
}
KIND_OF = {
    Mt5OrderType.BUY: OrderType.MARKET,
    Mt5OrderType.SELL: OrderType.MARKET,
    **{mt: kind for (kind, _side), mt in PENDING_TYPES.items()},
}


def short_id(client_order_id: str) -> str:
    """A 16-character id for MT5's 31-character comment, the same for the same client id."""
    return "tc" + hashlib.sha1(client_order_id.encode()).hexdigest()[:14]
