"""Stored orders to and from the matching engine: the engine's view of an order row, the
row of a bracket leg the engine opened, and the statements of the venue's market clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tradecrew.brokers.paper_fills import Tapes, Working
from tradecrew.brokers.paper_matching import to_steps
from tradecrew.brokers.paper_store import MarketClockRow
from tradecrew.models import OrderStatus, OrderType, Side, TimeInForce

CLOCK_TABLE = MarketClockRow.__table__
CLOCK_OF = select(CLOCK_TABLE.c.matched_through).where(CLOCK_TABLE.c.symbol == bindparam("symbol"))
MOVE_CLOCK = (
    update(CLOCK_TABLE)
    .where(CLOCK_TABLE.c.symbol == bindparam("key_"))
    .where(CLOCK_TABLE.c.matched_through == bindparam("old"))
    .values(matched_through=bindparam("new"))
)
_START_CLOCK = (
    sqlite_insert(CLOCK_TABLE)
    .values(symbol=bindparam("key_"), matched_through=bindparam("at"))
    .on_conflict_do_nothing(index_elements=["symbol"])
)


def start_clock(conn: Any, symbol: str, at: datetime) -> None:
    """Start the venue's market clock for ``symbol`` at ``at`` unless it already runs."""
    conn.execute(_START_CLOCK, {"key_": symbol, "at": at})


def working_of(row: Any, tapes: Tapes, step: float, after_market_time: bool) -> Working:
    """The engine's view of a stored order."""
    tif = TimeInForce(row.time_in_force)
    arrived = row.market_time or row.created_at
    start = 0
    if after_market_time and row.market_time is not None:
        start = tapes.after(row.market_time)
    return Working(
        key=row.broker_order_id,
        seq=row.seq,
        side=Side(row.side),
        order_type=OrderType(row.order_type),
        remaining=to_steps(row.quantity, step) - to_steps(row.filled_quantity, step),
        limit_price=row.limit_price,
        stop_price=row.stop_price,
        triggered=bool(row.triggered),
        time_in_force=tif,
        day=arrived.date() if tif is TimeInForce.DAY else None,
        start=start,
        filled=to_steps(row.filled_quantity, step),
        stop_loss=None if row.leg else row.stop_loss,
        take_profit=None if row.leg else row.take_profit,
        oco=row.oco_group,
        leg=row.leg or "",
        parent=row.parent_id,
    )


def leg_row(
    parent: Any, leg: Working, quantity: float, now: datetime, market_time: datetime, seq: int
) -> dict[str, Any]:
    """The stored order of a bracket leg, named after its entry (``<entry's id>-sl``/``-tp``)."""
    suffix = leg.key.rsplit("-", 1)[1]
    return {
        "broker_order_id": leg.key,
        "client_order_id": f"{parent.client_order_id}-{suffix}",
        "order_id": f"{parent.order_id}-{suffix}",
        "proposal_id": None,
        "symbol": parent.symbol,
        "side": leg.side.value,
        "quantity": quantity,
        "order_type": leg.order_type.value,
        "limit_price": leg.limit_price,
        "stop_price": leg.stop_price,
        "stop_loss": None,
        "take_profit": None,
        "time_in_force": TimeInForce.GTC.value,
        "status": OrderStatus.ACCEPTED.value,
        "status_reason": f"{leg.leg.replace('_', '-')} of {parent.client_order_id}",
        "filled_quantity": 0.0,
        "average_fill_price": None,
        "triggered": False,
        "created_at": now,
        "updated_at": now,
        "seq": seq,
        "market_time": market_time,
        "parent_id": parent.broker_order_id,
        "oco_group": leg.oco,
        "leg": leg.leg,
    }
