"""Valuation of the paper book: marks, currency conversion, equity and buying power.

Kept apart from matching so that the price-source fallbacks live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, select

from tradecrew.brokers.base import NotSupported, OrderRejected
from tradecrew.brokers.paper_book import Book
from tradecrew.brokers.paper_matching import Tape, instrument_for
from tradecrew.brokers.paper_store import AccountRow, FillRow, PositionRow
from tradecrew.instruments import CATALOGUE, Instrument
from tradecrew.models import Account, AccountMode, Order, Position, Quote, Side

_EPS = 1e-12


# Read on every risk check (account and positions), so built once.
_ACCOUNT = select(AccountRow.__table__).where(AccountRow.__table__.c.id == 1)
_POSITIONS = select(PositionRow.__table__).order_by(PositionRow.__table__.c.symbol)
_TODAY = select(
    func.coalesce(func.sum(FillRow.__table__.c.realized_pnl), 0.0),
    func.coalesce(func.sum(FillRow.__table__.c.commission), 0.0),
).where(FillRow.__table__.c.timestamp >= bindparam("day_start"))


@dataclass(frozen=True)
class Valuation:
    """Marks positions with the quote source when there is one, else the last seen price."""

    quote_fn: Callable[[str], Quote] | None
    leverage: float
    clock: Callable[[], datetime]

    def account(self, s: Connection) -> Account:
        return self.account_and_positions(s)[0]

    def account_and_positions(self, s: Connection) -> tuple[Account, list[Position]]:
        """The account (cash plus marked positions) and those positions, from one read."""
        acct = s.execute(_ACCOUNT).one()
        book = {row.symbol: row for row in s.execute(_POSITIONS)}
        value = gross = 0.0
        positions = []
        for row in book.values():
            if abs(row.quantity or 0.0) < _EPS:
                continue
            mark = self._mark(row)
            rate = self._rate(book.get, instrument_for(row.symbol).quote_currency, acct.currency)
            positions.append(
                Position(
                    symbol=row.symbol,
                    quantity=row.quantity,
                    average_price=row.average_price,
                    market_price=mark,
                    realized_pnl=row.realized_pnl,
                    unrealized_pnl=(mark - row.average_price) * row.quantity * rate,
                )
            )
            v = row.quantity * (mark or row.average_price) * rate
            value, gross = value + v, gross + abs(v)
        equity = acct.cash + value
        day_start = self.clock().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        realized, commission = s.execute(_TODAY, {"day_start": day_start}).one()
        account = Account(
            account_id=acct.account_id,
            broker="paper",
            mode=AccountMode.PAPER,
            currency=acct.currency,
            cash=acct.cash,
            equity=equity,
            buying_power=max(equity * self.leverage - gross, 0.0),
            realized_pnl_today=realized - commission,
            timestamp=self.clock(),
        )
        return account, positions

    def positions(self, s: Connection) -> list[Position]:
        return self.account_and_positions(s)[1]

    def _mark(self, row: Any) -> float:
        if self.quote_fn is not None:
            try:
                return self.quote_fn(row.symbol).mid
            except Exception:  # a missing quote must not hide the position; use the last price
                pass
        return row.last_price or row.average_price

    def rate(self, book: Book, currency: str) -> float:
        """Account-currency value of one unit of ``currency`` (1.0 for the account currency),
        seeing the changes the book's transaction has made so far."""
        return self._rate(book.position, currency, book.account().currency)

    def _rate(self, position: Callable[[str], Any], currency: str, home: str) -> float:
        if currency == home:
            return 1.0
        for pair, invert in ((f"{currency}{home}", False), (f"{home}{currency}", True)):
            if pair not in CATALOGUE:
                continue
            price = self._price_of(position(pair), pair)
            if price:
                return 1.0 / price if invert else price
        raise NotSupported(f"no {currency}{home} or {home}{currency} price to value {currency}")

    def _price_of(self, row: Any, symbol: str) -> float | None:
        if row is not None and row.last_price:
            return row.last_price
        if self.quote_fn is not None:
            try:
                return self.quote_fn(symbol).mid
            except Exception:
                return None
        return None

    def check_buying_power(
        self, book: Book, order: Order, inst: Instrument, tape: Tape | None
    ) -> None:
        pos = book.position(inst.symbol)
        q0 = pos.quantity if pos is not None else 0.0
        added = abs(q0 + order.side.sign * order.quantity) - abs(q0)
        if added <= 0:
            return  # reducing or flipping to a smaller position needs no new buying power
        price = (
            order.limit_price
            or order.stop_price
            or (tape.buy_open if tape is not None and order.side is Side.BUY else None)
            or (tape.sell_open if tape is not None else None)
            or (pos.last_price if pos is not None else None)
        )
        if price is None:
            return
        needed = added * price * self.rate(book, inst.quote_currency)
        available = self.account(book.conn).buying_power
        if needed > available + 1e-9:
            raise OrderRejected(
                f"insufficient buying power: needs {needed:,.2f}, has {available:,.2f}",
                code="buying_power",
            )
