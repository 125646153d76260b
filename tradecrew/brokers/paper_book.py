"""One transaction on the paper venue's book: rows read once, changed in memory, written back
together at the end with plain SQL statements.

The matching engine changes a handful of rows per order (the order, the account, a position,
a new fill); tracking those few by hand costs a fraction of a general unit of work, and a
submission is on the desk's round trip.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, RowMapping, Table, bindparam, func, insert, select, update

from tradecrew.brokers.paper_store import AccountRow, FillRow, OrderRow, PositionRow

_accounts: Table = AccountRow.__table__
_orders: Table = OrderRow.__table__
_fills: Table = FillRow.__table__
_positions: Table = PositionRow.__table__

_ACCOUNT = select(_accounts).where(_accounts.c.id == 1)
_POSITION = select(_positions).where(_positions.c.symbol == bindparam("key_"))
_LAST_FILL_SEQ = select(func.max(_fills.c.seq))
_UPDATES = {
    "paper_account": update(_accounts).where(_accounts.c.id == bindparam("key_")),
    "paper_orders": update(_orders).where(_orders.c.broker_order_id == bindparam("key_")),
    "paper_positions": update(_positions).where(_positions.c.symbol == bindparam("key_")),
}
_KEYS = {"paper_account": "id", "paper_orders": "broker_order_id", "paper_positions": "symbol"}


class Rec:
    """A row as attributes; assignments are remembered so only they are written back."""

    __slots__ = ("_changed", "_table", "_values")

    def __init__(self, table: str, values: Mapping[str, Any] | RowMapping) -> None:
        object.__setattr__(self, "_table", table)
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_changed", {})

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in self._values:
            raise AttributeError(f"{self._table} has no column {name!r}")
        self._values[name] = value
        self._changed[name] = value


class Book:
    """The rows one paper transaction reads and changes; ``flush`` writes the changes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._account: Rec | None = None
        self._positions: dict[str, Rec | None] = {}
        self._new_positions: list[Rec] = []
        self._tracked: list[Rec] = []
        self._fills: list[dict[str, Any]] = []
        self._last_fill_seq: int | None = None

    def account(self) -> Rec:
        if self._account is None:
            self._account = self._track(
                Rec("paper_account", self.conn.execute(_ACCOUNT).one()._mapping)
            )
        return self._account

    def position(self, symbol: str) -> Rec | None:
        if symbol not in self._positions:
            row = self.conn.execute(_POSITION, {"key_": symbol}).first()
            self._positions[symbol] = (
                None if row is None else self._track(Rec("paper_positions", row._mapping))
            )
        return self._positions[symbol]

    def open_position(self, symbol: str, last_price: float | None) -> Rec:
        """A new, flat position in ``symbol`` (inserted at ``flush``)."""
        rec = Rec(
            "paper_positions",
            {
                "symbol": symbol,
                "quantity": 0.0,
                "average_price": 0.0,
                "realized_pnl": 0.0,
                "last_price": last_price,
            },
        )
        self._positions[symbol] = rec
        self._new_positions.append(rec)
        return rec

    def orders(self, query: Any, params: Mapping[str, Any] | None = None) -> list[Rec]:
        """The orders ``query`` selects, tracked for write-back."""
        return [
            self._track(Rec("paper_orders", row._mapping))
            for row in self.conn.execute(query, dict(params or {}))
        ]

    def add_order(self, values: dict[str, Any]) -> Rec:
        """Insert a new order now (a duplicate client order id fails here, not at flush)."""
        self.conn.execute(insert(_orders), [values])
        return self._track(Rec("paper_orders", values))

    def add_fill(self, values: dict[str, Any]) -> None:
        """Queue a fill, numbered after the book's last (this transaction's included)."""
        if self._last_fill_seq is None:
            self._last_fill_seq = self.conn.execute(_LAST_FILL_SEQ).scalar() or 0
        self._last_fill_seq += 1
        self._fills.append({**values, "seq": self._last_fill_seq})

    def flush(self) -> None:
        for rec in self._new_positions:
            self.conn.execute(insert(_positions), [dict(rec._values)])
            rec._changed.clear()
        for rec in self._tracked:
            if rec._changed:
                key = rec._values[_KEYS[rec._table]]
                self.conn.execute(_UPDATES[rec._table], {"key_": key, **rec._changed})
                rec._changed.clear()
        if self._fills:
            self.conn.execute(insert(_fills), self._fills)
            self._fills = []
        self._new_positions = []

    def _track(self, rec: Rec) -> Rec:
        self._tracked.append(rec)
        return rec
