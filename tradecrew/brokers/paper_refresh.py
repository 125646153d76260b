"""Walking the market over the paper venue's book: catching a symbol up with the bars its
data source gained, and applying what the matching engine says happened (fills, bracket
legs opened, cancellations) to the book, in order.

Promises: a catch-up moves the symbol's market clock and applies its fills in one
transaction (a crash repeats nothing; two processes never walk a bar twice); a fill
updates cash (net of commission), the position and the order as one change.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from tradecrew.brokers.base import BrokerUnavailable
from tradecrew.brokers.paper_book import Book, Rec
from tradecrew.brokers.paper_feed import MarketFeed
from tradecrew.brokers.paper_fills import (
    CancelEvent,
    FillEvent,
    LegEvent,
    Tapes,
    Working,
    match_orders,
)
from tradecrew.brokers.paper_matching import apply_fill, from_steps, instrument_for, to_steps
from tradecrew.brokers.paper_queries import LAST_ORDER_SEQ, OPEN_OF_SYMBOL
from tradecrew.brokers.paper_rows import CLOCK_OF, MOVE_CLOCK, leg_row, start_clock, working_of
from tradecrew.brokers.paper_store import move_order
from tradecrew.brokers.paper_valuation import Valuation
from tradecrew.data import DataError, DataNotAvailable, UnknownSymbolError
from tradecrew.instruments import Instrument
from tradecrew.models import Fill, OrderStatus, Side

log = logging.getLogger("tradecrew.brokers.paper")  # the venue's logger, as before the split


@dataclass(frozen=True)
class Terms:
    """The venue's terms for one walk, read from it when the walk starts."""

    value: Valuation
    clock: Callable[[], datetime]
    participation_rate: float | None
    slippage_bps: float
    commission_bps: float


def catch_up(
    feed: MarketFeed,
    engine: Engine,
    lock: AbstractContextManager[object],
    open_book: Callable[[], AbstractContextManager[Book]],
    symbol: str,
    terms: Terms,
) -> list[Fill]:
    """Walk ``symbol``'s working orders over the bars ``feed`` gained since the venue's
    clock for it; starts the clock at the first quote seen."""
    inst = instrument_for(symbol)
    try:
        quote = feed.quote(inst.symbol)
    except (UnknownSymbolError, DataNotAvailable) as exc:
        # The source has no prices for it: its orders wait (every other symbol moves).
        log.warning("paper venue: %s does not move: %s", inst.symbol, exc)
        return []
    except Exception as exc:
        raise BrokerUnavailable(f"no quote for {inst.symbol}: {exc}") from exc
    with engine.connect() as conn:
        since = conn.execute(CLOCK_OF, {"symbol": inst.symbol}).scalar()
    if since is None:
        with engine.begin() as conn:
            start_clock(conn, inst.symbol, quote.timestamp)
        return []
    if quote.timestamp <= since:
        return []  # nothing newer at the source: prices stand where they were
    try:
        tapes = feed.bars_after(inst.symbol, since)
    except DataError as exc:
        raise BrokerUnavailable(f"no bars for {inst.symbol}: {exc}") from exc
    if not len(tapes):
        return []
    with lock, open_book() as book:
        moved = book.conn.execute(
            MOVE_CLOCK, {"key_": inst.symbol, "old": since, "new": tapes.time(len(tapes) - 1)}
        )
        if moved.rowcount != 1:
            return []  # another process walked these bars first
        mark = float(tapes.mark[-1])
        pos = book.position(inst.symbol)
        if pos is not None:
            pos.last_price = mark
        rows = book.orders(OPEN_OF_SYMBOL, {"symbol": inst.symbol})
        return run(book, rows, tapes, inst, terms, after_market_time=True)


def run(
    book: Book,
    rows: list[Rec],
    tapes: Tapes,
    inst: Instrument,
    terms: Terms,
    *,
    after_market_time: bool = False,
    market_time: datetime | None = None,
) -> list[Fill]:
    """Match ``rows`` over ``tapes`` and apply what happened to the book, in order.
    ``after_market_time``: an order only trades on tapes later than its arrival;
    ``market_time``: the market's time of a tape stamped with the venue's clock (a
    submission), which legs opened on it start from."""
    step = inst.quantity_step
    pos = book.position(inst.symbol)
    held = round((pos.quantity or 0.0) / step) if pos is not None else 0
    by_key = {row.broker_order_id: row for row in rows}
    working = [working_of(row, tapes, step, after_market_time) for row in rows]
    result = match_orders(
        working,
        tapes,
        position=held,
        step=step,
        participation_rate=terms.participation_rate,
        slippage_bps=terms.slippage_bps,
    )
    fills: list[Fill] = []
    for ev in result.events:
        ts = tapes.time(ev.index)
        if isinstance(ev, FillEvent):
            row = by_key[ev.key]
            fills.append(_fill(book, row, inst, ev.steps, ev.price, ts, terms, ev.note))
        elif isinstance(ev, CancelEvent):
            move_order(by_key[ev.key], ev.status, ts, ev.reason)
        elif isinstance(ev, LegEvent):
            opened_at = market_time or ts
            by_key[ev.order.key] = _add_leg(book, by_key, ev.order, inst, opened_at, terms.clock)
    for w in working:
        by_key[w.key].triggered = w.triggered
    return fills


def _add_leg(
    book: Book,
    by_key: dict[str, Rec],
    leg: Working,
    inst: Instrument,
    ts: datetime,
    clock: Callable[[], datetime],
) -> Rec:
    """A bracket leg as an order of the venue's own, named after its entry."""
    assert leg.parent is not None
    seq = (book.conn.execute(LAST_ORDER_SEQ).scalar() or 0) + 1
    qty = from_steps(leg.remaining, inst.quantity_step)
    return book.add_order(leg_row(by_key[leg.parent], leg, qty, clock(), ts, seq))


def _fill(
    book: Book,
    row: Rec,
    inst: Instrument,
    steps: int,
    price: float,
    ts: datetime,
    terms: Terms,
    note: str = "",
) -> Fill:
    side = Side(row.side)
    filled_before = row.filled_quantity
    total_steps = to_steps(filled_before, inst.quantity_step) + steps
    full = total_steps >= to_steps(row.quantity, inst.quantity_step)
    qty = from_steps(steps, inst.quantity_step)
    rate = terms.value.rate(book, inst.quote_currency)
    notional = qty * price * rate
    commission = notional * terms.commission_bps / 10_000.0
    acct = book.account()
    acct.cash -= side.sign * notional + commission
    realized = _update_position(book, inst, side.sign * qty, price) * rate

    row.filled_quantity = row.quantity if full else from_steps(total_steps, inst.quantity_step)
    prior = (row.average_fill_price or 0.0) * filled_before
    row.average_fill_price = (prior + qty * price) / (filled_before + qty)
    move_order(row, OrderStatus.FILLED if full else OrderStatus.PARTIALLY_FILLED, ts, note)
    fid = f"pfl_{uuid.uuid4().hex[:20]}"
    book.add_fill(
        {
            "broker_fill_id": fid,
            "broker_order_id": row.broker_order_id,
            "symbol": inst.symbol,
            "side": side.value,
            "quantity": qty,
            "price": price,
            "commission": commission,
            "realized_pnl": realized,
            "timestamp": ts,
        }
    )
    return Fill(
        id=f"fil_{fid}",
        order_id=row.order_id,
        client_order_id=row.client_order_id,
        symbol=inst.symbol,
        side=side,
        quantity=qty,
        price=price,
        commission=commission,
        timestamp=ts,
        broker_fill_id=fid,
    )


def _update_position(book: Book, inst: Instrument, delta: float, price: float) -> float:
    """Apply a signed fill to the position; returns realized P&L in the quote currency."""
    pos = book.position(inst.symbol) or book.open_position(inst.symbol, price)
    pos.quantity, pos.average_price, realized = apply_fill(
        pos.quantity or 0.0, pos.average_price or 0.0, delta, price, inst.quantity_step
    )
    pos.realized_pnl = (pos.realized_pnl or 0.0) + realized
    if pos.last_price is None:
        pos.last_price = price
    return realized
