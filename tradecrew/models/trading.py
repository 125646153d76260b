"""Trading: sides and order types, orders, fills, positions and the account."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .base import Model, new_id, utcnow
from .lifecycle import OrderStatus


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    MARKET = "market"
    LIMIT = "limit"
    STOP = "stop"
    STOP_LIMIT = "stop_limit"


class TimeInForce(StrEnum):
    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
    FOK = "fok"


class Direction(StrEnum):
    LONG = "long"
    SHORT = "short"
    FLAT = "flat"


class AccountMode(StrEnum):
    PAPER = "paper"
    LIVE = "live"


class Order(Model):
    id: str = Field(default_factory=lambda: new_id("ord"))
    client_order_id: str
    proposal_id: str | None = None
    symbol: str
    side: Side
    quantity: float
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    status: OrderStatus = OrderStatus.NEW
    filled_quantity: float = 0.0
    average_fill_price: float | None = None
    broker: str = "paper"
    broker_order_id: str | None = None
    external: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    status_reason: str = ""

    @property
    def remaining_quantity(self) -> float:
        return max(self.quantity - self.filled_quantity, 0.0)


class Fill(Model):
    id: str = Field(default_factory=lambda: new_id("fil"))
    order_id: str
    client_order_id: str
    symbol: str
    side: Side
    quantity: float = Field(gt=0.0)
    price: float = Field(gt=0.0)
    commission: float = 0.0
    timestamp: datetime = Field(default_factory=utcnow)
    broker_fill_id: str | None = None


class Position(Model):
    symbol: str
    quantity: float = Field(description="signed units: positive long, negative short")
    average_price: float
    market_price: float | None = None
    unrealized_pnl: float = 0.0
    realized_pnl: float = 0.0

    @property
    def side(self) -> Direction:
        if self.quantity > 0:
            return Direction.LONG
        if self.quantity < 0:
            return Direction.SHORT
        return Direction.FLAT


class Account(Model):
    account_id: str
    broker: str
    mode: AccountMode = AccountMode.PAPER
    currency: str = "USD"
    cash: float
    equity: float
    buying_power: float
    realized_pnl_today: float = 0.0
    start_of_day_equity: float | None = None
    peak_equity: float | None = None
    timestamp: datetime = Field(default_factory=utcnow)
