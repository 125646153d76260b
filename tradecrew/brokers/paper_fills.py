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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradecrew.brokers.paper_matching import Tape, match, slipped
from tradecrew.models import Bar, OrderStatus, OrderType, Quote, Side, TimeInForce

STOP_LOSS, TAKE_PROFIT = "stop_loss", "take_profit"
PESSIMISTIC = (
    "both bracket legs touched in one bar; resolved pessimistically: the stop-loss filled "
    "and the take-profit was cancelled"
)
ENTRY_BAR = "stop-loss touched in the entry's own bar; assumed to come after the entry"

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Tapes:
    """Market events of one symbol, oldest first, as arrays. Bars trade at one price path
    for both sides; a quote's buys trade at the ask and sells at the bid. ``volume`` NaN is
    unlimited liquidity; ``ranged`` marks bars, whose high and low bound every fill."""

    timestamps: npt.NDArray[np.datetime64]  # UTC, nanoseconds, without a zone
    buy_open: Floats
    buy_high: Floats
    buy_low: Floats
    sell_open: Floats
    sell_high: Floats
    sell_low: Floats
    mark: Floats
    volume: Floats
    ranged: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.timestamps)

    def time(self, i: int) -> datetime:
        """Tape ``i``'s time as an aware UTC datetime."""
        return pd.Timestamp(self.timestamps[i], tz=UTC).to_pydatetime()

    def after(self, when: datetime) -> int:
        """The index of the first tape later than ``when``."""
        return int(np.searchsorted(self.timestamps, _utc_ns(when), side="right"))

    @classmethod
    def from_arrays(
        cls,
        timestamps: Sequence[datetime] | pd.DatetimeIndex,
        open_: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike | None = None,
    ) -> Tapes:
        """Bars as columns; refuses prices that are not finite and positive or a bar whose
        open or close lies outside its low..high."""
        o, h, lo, c = (np.asarray(a, dtype=np.float64) for a in (open_, high, low, close))
        n = len(timestamps)
        if not all(len(a) == n for a in (o, h, lo, c)):
            raise ValueError("bar columns must have the same length")
        v = np.zeros(n) if volume is None else np.asarray(volume, dtype=np.float64)
        prices = np.stack([o, h, lo, c]) if n else np.zeros((4, 0))
        if not np.all(np.isfinite(prices) & (prices > 0)):
            raise ValueError("bar prices must be finite and positive")
        if np.any((lo > o) | (o > h) | (lo > c) | (c > h)):
            raise ValueError("bar is inconsistent (low <= open, close <= high required)")
        if not np.all(np.isfinite(v) & (v >= 0)):
            raise ValueError("bar volume must be finite and non-negative")
        vol = np.where(v > 0, v, np.nan)
        index = pd.DatetimeIndex(timestamps)
        index = index.tz_localize(UTC) if index.tz is None else index.tz_convert(UTC)
        times = index.tz_localize(None).to_numpy(dtype="datetime64[ns]")
        return cls(times, o, h, lo, o, h, lo, c, vol, np.ones(n, dtype=bool))

    @classmethod
    def from_bars(cls, bars: Sequence[Bar]) -> Tapes:
        return cls.from_arrays(
            [b.timestamp for b in bars],
            [b.open for b in bars],
            [b.high for b in bars],
            [b.low for b in bars],
            [b.close for b in bars],
            [b.volume for b in bars],
        )

    @classmethod
    def from_tape(cls, tape: Tape, ranged: bool) -> Tapes:
        """One event (a checked bar or quote) as a run of length one."""

        def one(x: float) -> Floats:
            return np.array([x], dtype=np.float64)

        return cls(
            np.array([_utc_ns(tape.timestamp)]),
            one(tape.buy_open),
            one(tape.buy_high),
            one(tape.buy_low),
            one(tape.sell_open),
            one(tape.sell_high),
            one(tape.sell_low),
            one(tape.mark),
            one(math.nan if tape.volume is None else tape.volume),
            np.array([ranged]),
        )

    @classmethod
    def from_quote(cls, quote: Quote) -> Tapes:
        return cls.from_tape(Tape.from_quote(quote), ranged=False)

    def tape(self, i: int) -> Tape:
        v = float(self.volume[i])
        return Tape(
            timestamp=self.time(i),
            buy_open=float(self.buy_open[i]),
            buy_high=float(self.buy_high[i]),
            buy_low=float(self.buy_low[i]),
            sell_open=float(self.sell_open[i]),
            sell_high=float(self.sell_high[i]),
            sell_low=float(self.sell_low[i]),
            mark=float(self.mark[i]),
            volume=None if math.isnan(v) else v,
        )


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


_EXPIRE, _TRADE = 0, 1


def _utc_ns(when: datetime) -> np.datetime64:
    if when.tzinfo is None:
        raise ValueError("market times must be timezone-aware (UTC)")
    return np.datetime64(when.astimezone(UTC).replace(tzinfo=None), "ns")


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
        i = _next_candidate(o, tapes, max(after, o.start))
        if i is not None:
            pending[o.key] = i
            heapq.heappush(heap, (i, _TRADE, o.seq, o.key))

    for o in live.values():
        if o.day is not None:
            if dates is None:
                dates = tapes.timestamps.astype("datetime64[D]")
            expiry = int(np.searchsorted(dates, np.datetime64(o.day, "D"), side="right"))
            if expiry < n:
                heapq.heappush(heap, (max(expiry, o.start), _EXPIRE, o.seq, o.key))
        schedule(o, o.start)

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
            o, note = _resolve_legs(o, live, tape, i)
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
            price = _fill_price(ex.price, ex.aggressive, o.side, tape, ranged, slippage_bps)
            used[i] = used.get(i, 0) + steps
            o.remaining -= steps
            o.filled += steps
            out.position += o.side.sign * steps
            note = note or (o.note if i == o.start else "")
            out.events.append(FillEvent(o.key, i, steps, price, note))
            if o.remaining == 0:
                live.pop(o.key, None)
            if o.leg:
                for other in _siblings(o, live):
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


def _siblings(o: Working, live: dict[str, Working]) -> list[Working]:
    return [w for w in live.values() if w.oco is not None and w.oco == o.oco and w is not o]


def _resolve_legs(o: Working, live: dict[str, Working], tape: Tape, i: int) -> tuple[Working, str]:
    """Which leg of an OCO group trades when several are touched by one tape."""
    touched = [o] + [
        w
        for w in _siblings(o, live)
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


def _fill_price(
    price: float, aggressive: bool, side: Side, tape: Tape, ranged: bool, slippage_bps: float
) -> float:
    if not aggressive:
        return price
    paid = slipped(price, side, slippage_bps)
    if ranged:  # a bar's range bounds what anyone could trade at
        _, high, low = tape.path(side)
        paid = min(max(paid, low), high)
    return paid


def _next_candidate(o: Working, tapes: Tapes, start: int) -> int | None:
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
