"""Bracket legs and one-cancels-other groups: the stop-loss and take-profit orders that
protect a filled entry, and which leg of a group trades when one tape touches several.

Promises: legs are opened for the entry's filled quantity, linked by the entry's key; on
the entry's own bar only the stop-loss may fire; when several legs are touched, a leg the
tape opened through wins, otherwise the stop-loss fills and the note says ``PESSIMISTIC``.
"""

from __future__ import annotations

from tradecrew.brokers.paper_matching import Tape, match
from tradecrew.brokers.paper_working import Working
from tradecrew.models import OrderType, Side

STOP_LOSS, TAKE_PROFIT = "stop_loss", "take_profit"
PESSIMISTIC = (
    "both bracket legs touched in one bar; resolved pessimistically: the stop-loss filled "
    "and the take-profit was cancelled"
)
ENTRY_BAR = "stop-loss touched in the entry's own bar; assumed to come after the entry"


def bracket_legs(entry: Working, index: int, seq: int) -> list[Working]:
    """The stop-loss and take-profit orders that protect a filled entry, linked as OCO."""
    exit_side = Side.SELL if entry.side is Side.BUY else Side.BUY
    legs = []
    if entry.stop_loss is not None:
        legs.append(
            Working(
                key=leg_key(entry.key, STOP_LOSS),
                seq=seq,
                side=exit_side,
                order_type=OrderType.STOP,
                remaining=entry.filled,
                stop_price=entry.stop_loss,
                start=index,
                oco=entry.key,
                leg=STOP_LOSS,
                parent=entry.key,
                note=ENTRY_BAR,  # said only by a fill on the entry's own bar
            )
        )
    if entry.take_profit is not None:
        legs.append(
            Working(
                key=leg_key(entry.key, TAKE_PROFIT),
                seq=seq + 1,
                side=exit_side,
                order_type=OrderType.LIMIT,
                remaining=entry.filled,
                limit_price=entry.take_profit,
                start=index + 1,
                oco=entry.key,
                leg=TAKE_PROFIT,
                parent=entry.key,
            )
        )
    return legs


def leg_key(parent: str, leg: str) -> str:
    return f"{parent}-{'sl' if leg == STOP_LOSS else 'tp'}"


def siblings(o: Working, live: dict[str, Working]) -> list[Working]:
    return [w for w in live.values() if w.oco is not None and w.oco == o.oco and w is not o]


def resolve_legs(o: Working, live: dict[str, Working], tape: Tape, i: int) -> tuple[Working, str]:
    """Which leg of an OCO group trades when several are touched by one tape."""
    touched = [o] + [
        w
        for w in siblings(o, live)
        if w.start <= i
        and match(w.order_type, w.side, w.limit_price, w.stop_price, w.triggered, tape).price
        is not None
    ]
    if len(touched) == 1:
        return o, ""
    at_open = [w for w in touched if _through_open(w, tape)]
    if len(at_open) == 1:
        return at_open[0], ""
    stops = [w for w in touched if w.leg == STOP_LOSS]
    return (stops[0] if stops else o), PESSIMISTIC


def _through_open(o: Working, tape: Tape) -> bool:
    """Whether the tape opened at or beyond the order's price (it traded first, for sure)."""
    open_ = tape.path(o.side)[0]
    price = o.stop_price if o.order_type is OrderType.STOP else o.limit_price
    assert price is not None
    if o.order_type is OrderType.STOP:
        return open_ >= price if o.side is Side.BUY else open_ <= price
    return open_ <= price if o.side is Side.BUY else open_ >= price
