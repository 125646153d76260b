"""The paper venue's matching engine: working orders walked over market events in time order.

Pure: given the working orders of one symbol, its position and a run of tapes (bars or
quotes, oldest first), it returns what the market did to them, in order: fills, bracket
legs opened, cancellations. The venue applies the events to its book; a backtest can apply
them to its own. Per-event prices come from ``paper_matching.match``; NumPy finds each
order's candidate tapes at once, so a quiet order costs one vectorised scan, not a Python
step per bar.

Rules beyond ``match``:
- A fill on a bar never leaves the bar's range (slippage is capped at the high or low).
- An entry carrying ``stop_loss``/``take_profit`` opens them, once it is filled in full, as
  a stop and a limit order for the filled quantity, linked one-cancels-other. On the bar
  that filled the entry only the stop-loss may fire (assumed to come after the entry).
- When both legs are touched in one bar, a leg the bar opened through fills at the open
  (it certainly came first); otherwise the stop-loss fills and the fill's note says the
  tie was resolved pessimistically.
- A fill that leaves the position flat cancels the symbol's remaining legs.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from tradecrew.brokers.paper_brackets import (
    ENTRY_BAR,
    PESSIMISTIC,
    bracket_legs,
    resolve_legs,
    siblings,
)
from tradecrew.brokers.paper_crossing import fill_price, next_candidate
from tradecrew.brokers.paper_matching import match
from tradecrew.brokers.paper_tapes import Tapes
from tradecrew.brokers.paper_working import (
    CancelEvent,
    FillEvent,
    LegEvent,
    Matching,
    Working,
)
from tradecrew.models import OrderStatus, TimeInForce

__all__ = [  # the engine's entry and the names its callers import from here
    "ENTRY_BAR",
    "PESSIMISTIC",
    "CancelEvent",
    "FillEvent",
    "LegEvent",
    "Matching",
    "Tapes",
    "Working",
    "match_orders",
]

_EXPIRE, _TRADE = 0, 1


def match_orders(
    orders: Sequence[Working],
    tapes: Tapes,
    *,
    position: int = 0,
    step: float = 1.0,
    participation_rate: float | None = None,
    slippage_bps: float = 0.0,
) -> Matching:
    """Walk ``tapes`` over ``orders`` (mutated as they trade) and return the events.

    ``position`` is the symbol's signed position in steps before the first tape; each
    tape's volume allows ``participation_rate`` of it to trade, shared by the orders in
    sequence order.
    """
    out = Matching(position=position)
    n = len(tapes)
    if n == 0:
        return out
    live: dict[str, Working] = {o.key: o for o in orders if o.remaining > 0}
    heap: list[tuple[int, int, int, str]] = []
    pending: dict[str, int] = {}  # each order's one scheduled tape (older heap entries are stale)
    dates = None
    used: dict[int, int] = {}
    next_seq = max((o.seq for o in orders), default=0) + 1

    def schedule(o: Working, after: int) -> None:
        i = next_candidate(o, tapes, max(after, o.start))
        if i is not None:
            pending[o.key] = i
            heapq.heappush(heap, (i, _TRADE, o.seq, o.key))

    for w in live.values():
        if w.day is not None:
            if dates is None:
                dates = tapes.timestamps.astype("datetime64[D]")
            expiry = int(np.searchsorted(dates, np.datetime64(w.day, "D"), side="right"))
            if expiry < n:
                heapq.heappush(heap, (max(expiry, w.start), _EXPIRE, w.seq, w.key))
        schedule(w, w.start)

    def cancel(o: Working, i: int, status: OrderStatus, reason: str) -> None:
        live.pop(o.key, None)
        out.events.append(CancelEvent(o.key, i, status, reason))

    def capacity(i: int) -> int | None:
        v = float(tapes.volume[i])
        if participation_rate is None or math.isnan(v):
            return None
        return math.floor(v * participation_rate / step + 1e-9) - used.get(i, 0)

    while heap:
        i, kind, _, key = heapq.heappop(heap)
        o = live.get(key)
        if o is None:
            continue
        if kind == _EXPIRE:
            cancel(o, i, OrderStatus.EXPIRED, "day order expired")
            continue
        if pending.get(key) != i:
            continue
        tape = tapes.tape(i)
        if o.leg:
            o, note = resolve_legs(o, live, tape, i)
        else:
            note = ""
        ex = match(o.order_type, o.side, o.limit_price, o.stop_price, o.triggered, tape)
        o.triggered = ex.triggered
        steps = o.remaining if ex.price is not None else 0
        cap = capacity(i)
        if cap is not None:
            steps = max(min(steps, cap), 0)
        if o.time_in_force is TimeInForce.FOK and steps < o.remaining:
            cancel(o, i, OrderStatus.CANCELLED, "fill or kill: not filled")
            continue
        if steps > 0 and ex.price is not None:
            ranged = bool(tapes.ranged[i])
            price = fill_price(ex.price, ex.aggressive, o.side, tape, ranged, slippage_bps)
            used[i] = used.get(i, 0) + steps
            o.remaining -= steps
            o.filled += steps
            out.position += o.side.sign * steps
            note = note or (o.note if i == o.start else "")
            out.events.append(FillEvent(o.key, i, steps, price, note))
            if o.remaining == 0:
                live.pop(o.key, None)
            if o.leg:
                for other in siblings(o, live):
                    reason = "one-cancels-other: " + (
                        PESSIMISTIC if note == PESSIMISTIC else f"the {o.leg} leg filled"
                    )
                    cancel(other, i, OrderStatus.CANCELLED, reason)
            if o.remaining == 0 and not o.leg:
                for leg in bracket_legs(o, i, next_seq):
                    next_seq += 1
                    live[leg.key] = leg
                    out.events.append(LegEvent(replace(leg), i))  # as opened
                    schedule(leg, leg.start)
            if out.position == 0:
                for other in [w for w in live.values() if w.leg]:
                    cancel(other, i, OrderStatus.CANCELLED, "position closed")
        if o.key not in live:
            continue
        if o.time_in_force is TimeInForce.IOC:
            cancel(o, i, OrderStatus.CANCELLED, "immediate or cancel: rest")
            continue
        schedule(o, i + 1)
    return out
