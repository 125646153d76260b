"""What the matching engine works on and reports: ``Working`` orders (quantities in whole
steps) and the events of a walk (fills, cancellations, bracket legs opened), in order.

Promises: plain data only, no matching logic; ``Matching.events`` keeps the order in which
things happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tradecrew.models import OrderStatus, OrderType, Side, TimeInForce


@dataclass
class Working:
    """An order as the engine sees it; quantities in whole steps of the instrument."""

    key: str
    seq: int
    side: Side
    order_type: OrderType
    remaining: int
    limit_price: float | None = None
    stop_price: float | None = None
    triggered: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    day: date | None = None  # a DAY order lives through this date
    start: int = 0  # the first tape it may trade on
    filled: int = 0
    stop_loss: float | None = None
    take_profit: float | None = None
    oco: str | None = None  # legs of one group: one filling cancels the others
    leg: str = ""  # STOP_LOSS or TAKE_PROFIT for a bracket leg
    parent: str | None = None
    note: str = ""


@dataclass(frozen=True)
class FillEvent:
    key: str
    index: int
    steps: int
    price: float
    note: str = ""


@dataclass(frozen=True)
class CancelEvent:
    key: str
    index: int
    status: OrderStatus
    reason: str


@dataclass(frozen=True)
class LegEvent:
    """A bracket leg opened when its entry completed at tape ``index`` (as it was then)."""

    order: Working
    index: int


Event = FillEvent | CancelEvent | LegEvent


@dataclass
class Matching:
    """What happened, in order, and the position (in steps) after it; the orders passed
    in carry their new state (remaining, filled, triggered)."""

    events: list[Event] = field(default_factory=list)
    position: int = 0

    @property
    def fills(self) -> list[FillEvent]:
        return [e for e in self.events if isinstance(e, FillEvent)]
