"""The embedded paper venue: a simulated exchange with its own persistent book.

Market orders fill at the quote (ask for buys, bid for sells) plus slippage, with a
commission on notional; limit, stop and stop-limit orders rest until a quote or bar crosses
them. Bars cap each fill at a participation rate of their volume, so large orders fill in
parts. An entry with a stop-loss or take-profit opens them as one-cancels-other orders once
filled. Cash and P&L are kept in the account currency; quantities are instrument units.

Prices come from the desk's data source; ``refresh()`` walks the bars it gained since the
venue last looked (see ``paper_fills`` for the rules).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from tradecrew.brokers.base import (
    BrokerUnavailable,
    NotSupported,
    OrderRejected,
    UnknownOrder,
)
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
from tradecrew.brokers.paper_matching import (
    Tape,
    apply_fill,
    aware,
    from_steps,
    instrument_for,
    same_or_reject,
    to_steps,
    validate_order,
)
from tradecrew.brokers.paper_rows import (
    CLOCK_OF,
    MOVE_CLOCK,
    leg_row,
    start_clock,
    working_of,
)
from tradecrew.brokers.paper_store import (
    AccountRow,
    FillRow,
    OrderRow,
    move_order,
    open_store,
    to_order,
)
from tradecrew.brokers.paper_valuation import Valuation
from tradecrew.config import BrokerSettings, get_settings
from tradecrew.data import DataError, DataNotAvailable, UnknownSymbolError
from tradecrew.instruments import Instrument
from tradecrew.models import (
    TERMINAL_ORDER_STATUSES,
    Account,
    AccountMode,
    Bar,
    Fill,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Quote,
    Side,
    Timeframe,
    utcnow,
)

QuoteFn = Callable[[str], Quote]
log = logging.getLogger(__name__)
_EPS = 1e-12


class _DataSource:
    """Marker default: price from a data provider (``source``, else the desk's setting)."""


DATA_SOURCE: Any = _DataSource()


class PaperBroker:
    """A simulated venue persisted at ``path`` (default ``<home>/paper.db``, ``":memory:"`` for
    backtests). By default it prices from the data ``source`` (the desk's ``data_source``
    setting unless given) and ``refresh()`` walks that source's new bars; ``quote_fn`` gives
    another quote source (refreshed against its quotes only), ``None`` makes it purely
    bar-driven: market orders wait for the next bar's open and marks come from the last
    bar."""

    name = "paper"

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        quote_fn: QuoteFn | None = DATA_SOURCE,
        source: str | None = None,
        timeframe: Timeframe | str | None = None,
        settings: BrokerSettings | None = None,
        participation_rate: float | None = 0.1,
        leverage: float = 1.0,
        fill_market_on_submit: bool = True,
        currency: str = "USD",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        cfg = settings or get_settings().broker
        if participation_rate is not None and not 0 < participation_rate <= 1:
            raise ValueError("participation_rate must be in (0, 1] or None")
        if not math.isfinite(leverage) or leverage <= 0:
            raise ValueError("leverage must be a finite number above zero")
        if path is None:
            path = get_settings().ensure_home() / "paper.db"
        self.path = path
        self.slippage_bps = cfg.slippage_bps
        self.commission_bps = cfg.commission_bps
        self.participation_rate = participation_rate
        self.leverage = leverage
        self._feed: MarketFeed | None = None
        self._clocks: set[str] = set()  # symbols whose market clock runs (never stops)
        if quote_fn is DATA_SOURCE:
            self._feed = MarketFeed(source or get_settings().data_source, timeframe)
            quote_fn = self._feed.quote
        elif source is not None:
            raise ValueError("give either a data source or a quote function, not both")
        self.fill_market_on_submit = fill_market_on_submit and quote_fn is not None
        self._quote_fn = quote_fn
        self._clock = clock
        self._value = Valuation(quote_fn, leverage, clock)
        self._lock = threading.RLock()
        self._engine = open_store(path)
        account = {
            "id": 1,
            "account_id": f"paper-{uuid.uuid4().hex[:8]}",
            "currency": currency,
            "starting_cash": cfg.starting_cash,
            "cash": cfg.starting_cash,
            "created_at": clock(),
        }
        with contextlib.suppress(IntegrityError), self._engine.begin() as conn:
            # Another process opening the same book at once may create it first.
            if conn.execute(select(AccountRow.__table__)).first() is None:
                conn.execute(insert(AccountRow.__table__), [account])

    @property
    def mode(self) -> AccountMode:
        return AccountMode.PAPER

    def close(self) -> None:
        """Release the database file (tests and restarts)."""
        self._engine.dispose()

    # ------------------------------------------------------------------ reads

    def quote(self, symbol: str) -> Quote:
        """The current quote from the configured price source."""
        inst = instrument_for(symbol)
        if self._quote_fn is None:
            raise NotSupported("this paper venue is bar-driven and has no quote source")
        try:
            return self._quote_fn(inst.symbol)
        except Exception as exc:
            raise BrokerUnavailable(f"no quote for {inst.symbol}: {exc}") from exc

    def account(self) -> Account:
        """Cash, equity (cash plus marked positions) and buying power in the account currency;
        ``realized_pnl_today`` is net of today's commissions."""
        # Under the venue's lock: cash and positions must come from the same moment.
        with self._lock, self._engine.connect() as conn:
            return self._value.account(conn)

    def account_and_positions(self) -> tuple[Account, list[Position]]:
        """``account()`` and ``positions()`` as of one moment, valued once."""
        with self._lock, self._engine.connect() as conn:
            return self._value.account_and_positions(conn)

    def refresh(self) -> list[Fill]:
        """Catch up with the market and return the new fills: for each symbol with working
        orders, walk the data source's bars since the venue last looked, in time order.

        The venue's clock for a symbol starts at the first quote it sees and moves only when
        the source has newer data, so a source whose clock stands still (the sample world
        ends on 2018-12-31) leaves prices, orders and P&L as they are. Fills and the clock's
        move are one transaction: a crash repeats nothing, and two processes refreshing at
        once walk each bar once. With a ``quote_fn`` instead of a data source, resting
        orders are matched against a fresh quote."""
        fills: list[Fill] = []
        for symbol in sorted({o.symbol for o in self.orders(open_only=True)}):
            if self._feed is None:
                fills.extend(self.process_market(symbol, self.quote(symbol)))
            else:
                fills.extend(self._catch_up(symbol))
        return fills

    def _catch_up(self, symbol: str) -> list[Fill]:
        assert self._feed is not None
        inst = instrument_for(symbol)
        try:
            quote = self._feed.quote(inst.symbol)
        except (UnknownSymbolError, DataNotAvailable) as exc:
            # The source has no prices for it: its orders wait (every other symbol moves).
            log.warning("paper venue: %s does not move: %s", inst.symbol, exc)
            return []
        except Exception as exc:
            raise BrokerUnavailable(f"no quote for {inst.symbol}: {exc}") from exc
        with self._engine.connect() as conn:
            since = conn.execute(CLOCK_OF, {"symbol": inst.symbol}).scalar()
        if since is None:
            with self._engine.begin() as conn:
                start_clock(conn, inst.symbol, quote.timestamp)
            return []
        if quote.timestamp <= since:
            return []  # nothing newer at the source: prices stand where they were
        try:
            tapes = self._feed.bars_after(inst.symbol, since)
        except DataError as exc:
            raise BrokerUnavailable(f"no bars for {inst.symbol}: {exc}") from exc
        if not len(tapes):
            return []
        with self._lock, self._book() as book:
            moved = book.conn.execute(
                MOVE_CLOCK, {"key_": inst.symbol, "old": since, "new": tapes.time(len(tapes) - 1)}
            )
            if moved.rowcount != 1:
                return []  # another process walked these bars first
            mark = float(tapes.mark[-1])
            pos = book.position(inst.symbol)
            if pos is not None:
                pos.last_price = mark
            rows = book.orders(_OPEN_OF_SYMBOL, {"symbol": inst.symbol})
            return self._run(book, rows, tapes, inst, after_market_time=True)

    def positions(self) -> list[Position]:
        """Open positions with marks from the quote source (or the last bar's close)."""
        with self._lock, self._engine.connect() as conn:
            return self._value.positions(conn)

    def orders(self, open_only: bool = False) -> list[Order]:
        query = _OPEN_ORDERS if open_only else _ALL_ORDERS
        with self._engine.connect() as conn:
            return [to_order(r) for r in conn.execute(query)]

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        with self._engine.connect() as conn:
            row = conn.execute(_BY_CLIENT_ID, {"cid": client_order_id}).first()
            return None if row is None else to_order(row)

    def fills(self, since: datetime | None = None) -> list[Fill]:
        """Fills at or after ``since`` in execution order; dedupe by ``broker_fill_id``."""
        return self._fills(since, None)

    def order_fills(self, client_order_id: str) -> list[Fill]:
        """The fills of one order, in execution order (the desk's look-up after a submit)."""
        return self._fills(None, client_order_id)

    def _fills(self, since: datetime | None, client_order_id: str | None) -> list[Fill]:
        query = _FILLS if client_order_id is None else _FILLS_OF_ORDER
        if since is not None:
            query = query.where(_fill_table.c.timestamp >= aware(since))
        params = {} if client_order_id is None else {"cid": client_order_id}
        with self._engine.connect() as conn:
            return [
                Fill(
                    order_id=r.order_id,
                    client_order_id=r.client_order_id,
                    symbol=r.symbol,
                    side=Side(r.side),
                    quantity=r.quantity,
                    price=r.price,
                    commission=r.commission,
                    timestamp=r.timestamp,
                    broker_fill_id=r.broker_fill_id,
                    id=f"fil_{r.broker_fill_id}",
                )
                for r in conn.execute(query, params)
            ]

    # ------------------------------------------------------------------ orders

    def submit(self, order: Order) -> Order:
        """Accept an order, filling it at once when the quote allows; the same client order id
        again returns the order already held, never a second one."""
        inst = validate_order(order)
        try:
            with self._lock, self._book() as book:
                known = book.conn.execute(_BY_CLIENT_ID, {"cid": order.client_order_id}).first()
                if known is not None:
                    return same_or_reject(to_order(known), order)
                tape, market_time = self._submission_tape(order, inst)
                self._value.check_buying_power(book, order, inst, tape)
                now = self._clock()
                if self._feed and market_time and inst.symbol not in self._clocks:
                    start_clock(book.conn, inst.symbol, market_time)
                    self._clocks.add(inst.symbol)  # at worst a refresh starts it later
                row = book.add_order(
                    {
                        "broker_order_id": f"pap_{uuid.uuid4().hex[:20]}",
                        "client_order_id": order.client_order_id,
                        "order_id": order.id,
                        "proposal_id": order.proposal_id,
                        "symbol": inst.symbol,
                        "side": order.side.value,
                        "quantity": order.quantity,
                        "order_type": order.order_type.value,
                        "limit_price": order.limit_price,
                        "stop_price": order.stop_price,
                        "stop_loss": order.stop_loss,
                        "take_profit": order.take_profit,
                        "time_in_force": order.time_in_force.value,
                        "status": OrderStatus.ACCEPTED.value,
                        "status_reason": "",
                        "filled_quantity": 0.0,
                        "average_fill_price": None,
                        "triggered": False,
                        "created_at": now,
                        "updated_at": now,
                        "seq": (book.conn.execute(_LAST_ORDER_SEQ).scalar() or 0) + 1,
                        "market_time": market_time,
                        "parent_id": None,
                        "oco_group": None,
                        "leg": "",
                    }
                )
                if tape is not None:
                    quote_tape = Tapes.from_tape(tape, ranged=False)
                    self._run(book, [row], quote_tape, inst, market_time=market_time)
                return to_order(row)
        except IntegrityError:
            existing = self.get_order_by_client_id(order.client_order_id)
            if existing is None:
                raise
            return same_or_reject(existing, order)  # another process won the race for this id

    def cancel(self, order_id: str) -> None:
        """Cancel by desk id, client order id or broker order id; a no-op when already
        cancelled, OrderRejected when it already completed otherwise."""
        with self._lock, self._book() as book:
            found = book.orders(_BY_ANY_ID, {"key": order_id})
            if not found:
                raise UnknownOrder(f"paper venue has no order {order_id!r}")
            row = found[0]
            status = OrderStatus(row.status)
            if status is OrderStatus.CANCELLED:
                return
            if status in _TERMINAL:
                raise OrderRejected(f"order is {status.value}; it cannot be cancelled")
            move_order(row, OrderStatus.CANCELLED, self._clock(), "cancelled on request")

    def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel every open order (of ``symbol`` when given); returns how many."""
        with self._lock, self._book() as book:
            if symbol is None:
                rows = book.orders(_OPEN_ORDERS)
            else:
                rows = book.orders(_OPEN_OF_SYMBOL, {"symbol": instrument_for(symbol).symbol})
            for row in rows:
                move_order(row, OrderStatus.CANCELLED, self._clock(), "cancelled on request")
            return len(rows)

    # ------------------------------------------------------------------ market events

    def process_market(self, symbol: str, event: Bar | Quote | Any) -> list[Fill]:
        """Match resting orders of ``symbol`` against a new bar or quote; returns new fills.

        Bars fill at their open or the order's price when the high/low crosses it, capped at
        the participation rate of the bar's volume; quotes (no volume) fill fully.
        """
        inst = instrument_for(symbol)
        if isinstance(event, Quote):
            tape, ranged = Tape.from_quote(event), False
        else:
            bar = event if isinstance(event, Bar) else Bar.model_validate(event)
            tape, ranged = Tape.from_bar(bar), True
        with self._lock, self._book() as book:
            pos = book.position(inst.symbol)
            if pos is not None:
                pos.last_price = tape.mark
            else:
                book.open_position(inst.symbol, tape.mark)
            rows = book.orders(_OPEN_OF_SYMBOL, {"symbol": inst.symbol})
            return self._run(book, rows, Tapes.from_tape(tape, ranged), inst)

    def on_bar(self, symbol: str, bar: Bar | Any) -> list[Fill]:
        """Backtest hook: the same as ``process_market`` with a bar."""
        return self.process_market(symbol, bar)

    # ------------------------------------------------------------------ internals

    def _submission_tape(
        self, order: Order, inst: Instrument
    ) -> tuple[Tape | None, datetime | None]:
        """The quote an order meets on arrival, and the market's time it shows."""
        if not self.fill_market_on_submit:
            return None, None
        try:
            quote = self.quote(inst.symbol)
            tape = Tape.from_quote(quote)
        except (BrokerUnavailable, ValueError) as exc:
            if order.order_type is OrderType.MARKET:
                # nothing placed: a market order without a usable price cannot be accepted
                raise BrokerUnavailable(f"no usable quote for {inst.symbol}: {exc}") from None
            return None, None
        # Fills at submission happen now.
        return replace(tape, timestamp=self._clock()), quote.timestamp

    @contextmanager
    def _book(self) -> Iterator[Book]:
        """One transaction on the book; its changes are written when the block ends."""
        with self._engine.begin() as conn:
            book = Book(conn)
            yield book
            book.flush()

    def _run(
        self,
        book: Book,
        rows: list[Rec],
        tapes: Tapes,
        inst: Instrument,
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
            participation_rate=self.participation_rate,
            slippage_bps=self.slippage_bps,
        )
        fills: list[Fill] = []
        for ev in result.events:
            ts = tapes.time(ev.index)
            if isinstance(ev, FillEvent):
                row = by_key[ev.key]
                fills.append(self._fill(book, row, inst, ev.steps, ev.price, ts, ev.note))
            elif isinstance(ev, CancelEvent):
                move_order(by_key[ev.key], ev.status, ts, ev.reason)
            elif isinstance(ev, LegEvent):
                opened_at = market_time or ts
                by_key[ev.order.key] = self._add_leg(book, by_key, ev.order, inst, opened_at)
        for w in working:
            by_key[w.key].triggered = w.triggered
        return fills

    def _add_leg(
        self, book: Book, by_key: dict[str, Rec], leg: Working, inst: Instrument, ts: datetime
    ) -> Rec:
        """A bracket leg as an order of the venue's own, named after its entry."""
        assert leg.parent is not None
        seq = (book.conn.execute(_LAST_ORDER_SEQ).scalar() or 0) + 1
        qty = from_steps(leg.remaining, inst.quantity_step)
        return book.add_order(leg_row(by_key[leg.parent], leg, qty, self._clock(), ts, seq))

    def _fill(
        self,
        book: Book,
        row: Rec,
        inst: Instrument,
        steps: int,
        price: float,
        ts: datetime,
        note: str = "",
    ) -> Fill:
        side = Side(row.side)
        filled_before = row.filled_quantity
        total_steps = to_steps(filled_before, inst.quantity_step) + steps
        full = total_steps >= to_steps(row.quantity, inst.quantity_step)
        qty = from_steps(steps, inst.quantity_step)
        rate = self._value.rate(book, inst.quote_currency)
        notional = qty * price * rate
        commission = notional * self.commission_bps / 10_000.0
        acct = book.account()
        acct.cash -= side.sign * notional + commission
        realized = self._update_position(book, inst, side.sign * qty, price) * rate

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

    def _update_position(self, book: Book, inst: Instrument, delta: float, price: float) -> float:
        """Apply a signed fill to the position; returns realized P&L in the quote currency."""
        pos = book.position(inst.symbol) or book.open_position(inst.symbol, price)
        pos.quantity, pos.average_price, realized = apply_fill(
            pos.quantity or 0.0, pos.average_price or 0.0, delta, price, inst.quantity_step
        )
        pos.realized_pnl = (pos.realized_pnl or 0.0) + realized
        if pos.last_price is None:
            pos.last_price = price
        return realized


_TERMINAL = TERMINAL_ORDER_STATUSES

# Statements of every submission, built once (plain table statements: they never flush).
_order_table, _fill_table = OrderRow.__table__, FillRow.__table__
_BY_CLIENT_ID = select(_order_table).where(_order_table.c.client_order_id == bindparam("cid"))
_BY_ANY_ID = select(_order_table).where(
    (_order_table.c.broker_order_id == bindparam("key"))
    | (_order_table.c.client_order_id == bindparam("key"))
    | (_order_table.c.order_id == bindparam("key"))
)
_ALL_ORDERS = select(_order_table).order_by(_order_table.c.seq)
_OPEN_ORDERS = _ALL_ORDERS.where(
    _order_table.c.status.in_([s.value for s in OrderStatus if s not in _TERMINAL])
)
_OPEN_OF_SYMBOL = _OPEN_ORDERS.where(_order_table.c.symbol == bindparam("symbol"))
_LAST_ORDER_SEQ = select(func.max(_order_table.c.seq))
_FILLS = (
    select(
        _fill_table,
        _order_table.c.order_id,
        _order_table.c.client_order_id,
    )
    .join(_order_table, _order_table.c.broker_order_id == _fill_table.c.broker_order_id)
    .order_by(_fill_table.c.seq)
)
_FILLS_OF_ORDER = _FILLS.where(_order_table.c.client_order_id == bindparam("cid"))
