"""Per-order-type crossing rules: the first tape on which a working order may trade (a
vectorised NumPy scan) and the price an aggressive fill pays.

Promises: market and triggered stop orders (and IOC/FOK orders) are candidates at once; a
resting stop waits for its trigger, a limit for the price to reach it; a fill on a bar
never leaves the bar's range, whatever the slippage.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from tradecrew.brokers.paper_matching import Tape, slipped
from tradecrew.brokers.paper_tapes import Tapes
from tradecrew.brokers.paper_working import Working
from tradecrew.models import OrderType, Side, TimeInForce


def fill_price(
    price: float, aggressive: bool, side: Side, tape: Tape, ranged: bool, slippage_bps: float
) -> float:
    if not aggressive:
        return price
    paid = slipped(price, side, slippage_bps)
    if ranged:  # a bar's range bounds what anyone could trade at
        _, high, low = tape.path(side)
        paid = min(max(paid, low), high)
    return paid


def next_candidate(o: Working, tapes: Tapes, start: int) -> int | None:
    """The first tape at or after ``start`` on which ``o`` may trade (NumPy scan)."""
    n = len(tapes)
    if start >= n:
        return None
    if o.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
        return start  # they live for one event, traded or not
    buy = o.side is Side.BUY
    if o.order_type is OrderType.MARKET or (o.order_type is OrderType.STOP and o.triggered):
        return start
    if o.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and not o.triggered:
        stop = o.stop_price
        assert stop is not None
        if buy:
            return _first_hit(lambda a, b: tapes.buy_high[a:b] >= stop, start, n)
        return _first_hit(lambda a, b: tapes.sell_low[a:b] <= stop, start, n)
    limit = o.limit_price
    assert limit is not None
    if buy:
        return _first_hit(lambda a, b: tapes.buy_low[a:b] <= limit, start, n)
    return _first_hit(lambda a, b: tapes.sell_high[a:b] >= limit, start, n)


_FIRST_WINDOW = 256


def _first_hit(hit: Callable[[int, int], npt.NDArray[np.bool_]], start: int, n: int) -> int | None:
    """The first index in ``start..n`` where ``hit`` holds, scanning growing windows so an
    order that trades again soon (a partial fill) costs a short scan, not the whole run."""
    size = _FIRST_WINDOW
    while start < n:
        end = min(n, start + size)
        window = hit(start, end)
        k = int(np.argmax(window))
        if window[k]:
            return start + k
        start, size = end, size * 4
    return None
