"""The embedded paper venue: a simulated exchange with its own persistent book.

Market orders fill at the quote (ask for buys, bid for sells) plus slippage, with a
commission on notional; limit, stop and stop-limit orders rest until a quote or bar crosses
them. Bars cap each fill at a participation rate of their volume, so large orders fill in
parts. An entry with a stop-loss or take-profit opens them as one-cancels-other orders once
filled. Cash and P&L are kept in the account currency; quantities are instrument units.

Prices come from the desk's data source; ``refresh()`` walks the bars it gained since the
venue last looked (see ``paper_refresh``; ``paper_fills`` has the matching rules).
"""

from __future__ import annotations

import contextlib
import math
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from tradecrew.brokers.base import (
    BrokerUnavailable,
    NotSupported,
    OrderRejected,
    UnknownOrder,
)
from tradecrew.brokers.paper_book import Book
from tradecrew.brokers.paper_feed import MarketFeed
from tradecrew.brokers.paper_fills import Tapes
from tradecrew.brokers.paper_matching import (
    Tape,
    aware,
    instrument_for,
    same_or_reject,
    validate_order,
)
from tradecrew.brokers.paper_queries import (
    ALL_ORDERS,
    BY_ANY_ID,
    BY_CLIENT_ID,
    FILLS,
    FILLS_OF_ORDER,
    LAST_ORDER_SEQ,
    OPEN_OF_SYMBOL,
    OPEN_ORDERS,
    TERMINAL,
    fill_table,
)
from tradecrew.brokers.paper_refresh import Terms, catch_up, run
from tradecrew.brokers.paper_rows import start_clock
from tradecrew.brokers.paper_store import (
    AccountRow,
    move_order,
    open_store,
    to_order,
)
from tradecrew.brokers.paper_valuation import Valuation
from tradecrew.config import BrokerSettings, get_settings
from tradecrew.instruments import Instrument
from tradecrew.models import (
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
        symbols = sorted({o.symbol for o in self.orders(open_only=True)})
        if self._feed is None:
            for symbol in symbols:
                fills.extend(self.process_market(symbol, self.quote(symbol)))
            return fills
        with self._feed.batch([instrument_for(s).symbol for s in symbols]):
            for symbol in symbols:
                feed, terms = self._feed, self._terms()
                fills.extend(catch_up(feed, self._engine, self._lock, self._book, symbol, terms))
        return fills

    def _terms(self) -> Terms:
        """The venue's terms as they stand now (its public settings may be changed)."""
        return Terms(
            self._value,
            self._clock,
            self.participation_rate,
            self.slippage_bps,
            self.commission_bps,
        )

    def positions(self) -> list[Position]:
        """Open positions with marks from the quote source (or the last bar's close)."""
        with self._lock, self._engine.connect() as conn:
            return self._value.positions(conn)

    def orders(self, open_only: bool = False) -> list[Order]:
        query = OPEN_ORDERS if open_only else ALL_ORDERS
        with self._engine.connect() as conn:
            return [to_order(r) for r in conn.execute(query)]

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        with self._engine.connect() as conn:
            row = conn.execute(BY_CLIENT_ID, {"cid": client_order_id}).first()
            return None if row is None else to_order(row)

    def fills(self, since: datetime | None = None) -> list[Fill]:
        """Fills at or after ``since`` in execution order; dedupe by ``broker_fill_id``."""
        return self._fills(since, None)

    def order_fills(self, client_order_id: str) -> list[Fill]:
        """The fills of one order, in execution order (the desk's look-up after a submit)."""
        return self._fills(None, client_order_id)

    def _fills(self, since: datetime | None, client_order_id: str | None) -> list[Fill]:
        query = FILLS if client_order_id is None else FILLS_OF_ORDER
        if since is not None:
            query = query.where(fill_table.c.timestamp >= aware(since))
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
                known = book.conn.execute(BY_CLIENT_ID, {"cid": order.client_order_id}).first()
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
                        "seq": (book.conn.execute(LAST_ORDER_SEQ).scalar() or 0) + 1,
                        "market_time": market_time,
                        "parent_id": None,
                        "oco_group": None,
                        "leg": "",
                    }
                )
                if tape is not None:
                    quote_tape = Tapes.from_tape(tape, ranged=False)
                    run(book, [row], quote_tape, inst, self._terms(), market_time=market_time)
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
            found = book.orders(BY_ANY_ID, {"key": order_id})
            if not found:
                raise UnknownOrder(f"paper venue has no order {order_id!r}")
            row = found[0]
            status = OrderStatus(row.status)
            if status is OrderStatus.CANCELLED:
                return
            if status in TERMINAL:
                raise OrderRejected(f"order is {status.value}; it cannot be cancelled")
            move_order(row, OrderStatus.CANCELLED, self._clock(), "cancelled on request")

    def cancel_all(self, symbol: str | None = None) -> int:
        """Cancel every open order (of ``symbol`` when given); returns how many."""
        with self._lock, self._book() as book:
            if symbol is None:
                rows = book.orders(OPEN_ORDERS)
            else:
                rows = book.orders(OPEN_OF_SYMBOL, {"symbol": instrument_for(symbol).symbol})
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
            rows = book.orders(OPEN_OF_SYMBOL, {"symbol": inst.symbol})
            return run(book, rows, Tapes.from_tape(tape, ranged), inst, self._terms())

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
