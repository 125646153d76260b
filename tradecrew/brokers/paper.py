"""The embedded paper venue: a simulated exchange with its own persistent book.

Market orders fill at the quote (ask for buys, bid for sells) plus slippage, with a
commission on notional; limit, stop and stop-limit orders rest until a quote or bar crosses
them. Bars cap each fill at a participation rate of their volume, so large orders fill in
parts. Cash and P&L are kept in the account currency; quantities are instrument units.
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

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from tradecrew.brokers.base import (
    BrokerUnavailable,
    NotSupported,
    OrderRejected,
    UnknownOrder,
)
from tradecrew.brokers.paper_book import Book, Rec
from tradecrew.brokers.paper_matching import (
    Tape,
    apply_fill,
    aware,
    from_steps,
    instrument_for,
    match,
    same_or_reject,
    slipped,
    to_steps,
    validate_order,
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
    TimeInForce,
    utcnow,
)

QuoteFn = Callable[[str], Quote]
_EPS = 1e-12


def sample_quote(symbol: str) -> Quote:
    """The default price source: the offline sample data provider."""
    from tradecrew.data import get_provider

    return get_provider("sample").quote(symbol)


class PaperBroker:
    """A simulated venue persisted at ``path`` (default ``<home>/paper.db``, ``":memory:"`` for
    backtests). ``quote_fn=None`` makes it purely bar-driven: market orders wait for the next
    bar's open and marks come from the last bar."""

    name = "paper"

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        quote_fn: QuoteFn | None = sample_quote,
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
        """Match every resting order against a fresh quote; call it on a timer in live paper."""
        fills: list[Fill] = []
        for symbol in sorted({o.symbol for o in self.orders(open_only=True)}):
            fills.extend(self.process_market(symbol, self.quote(symbol)))
        return fills

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
                tape = self._submission_tape(order, inst)
                self._value.check_buying_power(book, order, inst, tape)
                now = self._clock()
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
                    }
                )
                if tape is not None:
                    self._run(book, [row], tape, inst)
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
            tape = Tape.from_quote(event)
        elif isinstance(event, Bar):
            tape = Tape.from_bar(event)
        else:
            tape = Tape.from_bar(Bar.model_validate(event))
        with self._lock, self._book() as book:
            pos = book.position(inst.symbol)
            if pos is not None:
                pos.last_price = tape.mark
            else:
                book.open_position(inst.symbol, tape.mark)
            rows = book.orders(_OPEN_OF_SYMBOL, {"symbol": inst.symbol})
            return self._run(book, rows, tape, inst)

    def on_bar(self, symbol: str, bar: Bar | Any) -> list[Fill]:
        """Backtest hook: the same as ``process_market`` with a bar."""
        return self.process_market(symbol, bar)

    # ------------------------------------------------------------------ internals

    def _submission_tape(self, order: Order, inst: Instrument) -> Tape | None:
        if not self.fill_market_on_submit:
            return None
        try:
            tape = Tape.from_quote(self.quote(inst.symbol))
        except (BrokerUnavailable, ValueError) as exc:
            if order.order_type is OrderType.MARKET:
                # nothing placed: a market order without a usable price cannot be accepted
                raise BrokerUnavailable(f"no usable quote for {inst.symbol}: {exc}") from None
            return None
        return replace(tape, timestamp=self._clock())  # fills at submission happen now

    @contextmanager
    def _book(self) -> Iterator[Book]:
        """One transaction on the book; its changes are written when the block ends."""
        with self._engine.begin() as conn:
            book = Book(conn)
            yield book
            book.flush()

    def _run(self, book: Book, rows: list[Rec], tape: Tape, inst: Instrument) -> list[Fill]:
        fills: list[Fill] = []
        step = inst.quantity_step
        capacity = None
        if tape.volume is not None and self.participation_rate is not None:
            capacity = to_steps(tape.volume * self.participation_rate, step)
        for row in rows:
            tif = TimeInForce(row.time_in_force)
            if tif is TimeInForce.DAY and tape.timestamp.date() > row.created_at.date():
                move_order(row, OrderStatus.EXPIRED, tape.timestamp, "day order expired")
                continue
            side = Side(row.side)
            ex = match(
                OrderType(row.order_type),
                side,
                row.limit_price,
                row.stop_price,
                row.triggered,
                tape,
            )
            row.triggered = ex.triggered
            remaining = to_steps(row.quantity, step) - to_steps(row.filled_quantity, step)
            steps = 0 if ex.price is None else remaining
            if capacity is not None:
                steps = min(steps, capacity)
            if tif is TimeInForce.FOK and steps < remaining:
                move_order(row, OrderStatus.CANCELLED, tape.timestamp, "fill or kill: not filled")
                continue
            if steps > 0 and ex.price is not None:
                price = slipped(ex.price, side, self.slippage_bps) if ex.aggressive else ex.price
                fills.append(self._fill(book, row, inst, steps, price, tape.timestamp))
                if capacity is not None:
                    capacity -= steps
            if tif is TimeInForce.IOC and OrderStatus(row.status) not in _TERMINAL:
                move_order(row, OrderStatus.CANCELLED, tape.timestamp, "immediate or cancel: rest")
        return fills

    def _fill(
        self, book: Book, row: Rec, inst: Instrument, steps: int, price: float, ts: datetime
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
        move_order(row, OrderStatus.FILLED if full else OrderStatus.PARTIALLY_FILLED, ts, "")
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
