"""Positions from fills: signed quantity, average price, realized P&L (pure functions).

Adding to a position moves the average price; reducing realizes P&L against it and leaves
it unchanged; crossing zero closes the old position and opens the new one at the fill price.
Commissions are deducted from realized P&L when paid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tradecrew.models import Fill, Position

_EPS = 1e-9


@dataclass
class _Book:
    quantity: float = 0.0
    average_price: float = 0.0
    realized_pnl: float = 0.0

    def apply(self, signed_qty: float, price: float, commission: float) -> None:
        self.realized_pnl -= commission
        q = self.quantity
        if q == 0.0 or (q > 0) == (signed_qty > 0):
            new_q = q + signed_qty
            self.average_price = (abs(q) * self.average_price + abs(signed_qty) * price) / abs(
                new_q
            )
            self.quantity = new_q
            return
        closing = min(abs(signed_qty), abs(q))
        direction = 1.0 if q > 0 else -1.0
        self.realized_pnl += closing * (price - self.average_price) * direction
        new_q = q + signed_qty
        if abs(new_q) <= _EPS * max(1.0, abs(q), abs(signed_qty)):
            self.quantity, self.average_price = 0.0, 0.0
        elif (new_q > 0) == (q > 0):
            self.quantity = new_q  # reduced: the average price of what is left is unchanged
        else:
            self.quantity, self.average_price = new_q, price  # flipped: opened at this fill


def positions_from_fills(
    fills: Iterable[Fill],
    marks: dict[str, float] | None = None,
    include_flat: bool = False,
) -> list[Position]:
    """One Position per symbol from fills in the order given (callers pass time order).

    ``marks`` (symbol -> price) fills in market price and unrealized P&L where known.
    """
    books: dict[str, _Book] = {}
    for fill in fills:
        books.setdefault(fill.symbol, _Book()).apply(
            fill.side.sign * fill.quantity, fill.price, fill.commission
        )
    marks = marks or {}
    out: list[Position] = []
    for symbol in sorted(books):
        book = books[symbol]
        if book.quantity == 0.0 and not include_flat:
            continue
        mark = marks.get(symbol)
        unrealized = 0.0 if mark is None else book.quantity * (mark - book.average_price)
        out.append(
            Position(
                symbol=symbol,
                quantity=book.quantity,
                average_price=book.average_price,
                market_price=mark,
                unrealized_pnl=unrealized,
                realized_pnl=book.realized_pnl,
            )
        )
    return out
