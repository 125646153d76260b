"""The paper venue's own persistent book: account, orders, fills, positions (SQLite, WAL).

It is deliberately separate from the desk's ledger, so the desk reconciles against the
paper venue exactly as it would against a real broker.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from tradecrew.homedir import private_file
from tradecrew.models import (
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    check_order_transition,
)
from tradecrew.sqlite_wal import use_wal


class UTCDateTime(TypeDecorator[datetime]):
    """SQLite forgets time zones; store naive UTC and hand back aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the paper store; use UTC-aware times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every row class here maps one plain Table (never a join or subquery), which the
        # statements built on `Row.__table__` rely on.
        __table__: ClassVar[Table]


class AccountRow(Base):
    __tablename__ = "paper_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(8))
    starting_cash: Mapped[float] = mapped_column(Float)
    cash: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrderRow(Base):
    __tablename__ = "paper_orders"

    broker_order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_order_id: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    order_id: Mapped[str] = mapped_column(String(64))
    proposal_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    symbol: Mapped[str] = mapped_column(String(32), index=True)
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Float)
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    take_profit: Mapped[float | None] = mapped_column(Float, nullable=True)
    time_in_force: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), index=True)
    status_reason: Mapped[str] = mapped_column(String(200), default="")
    filled_quantity: Mapped[float] = mapped_column(Float, default=0.0)
    average_fill_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    triggered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    # The market's time when the order arrived: bars up to it were history to this order.
    market_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Bracket legs: the entry they protect, their one-cancels-other group, which leg.
    parent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    oco_group: Mapped[str | None] = mapped_column(String(40), nullable=True)
    leg: Mapped[str] = mapped_column(String(16), default="")


class FillRow(Base):
    __tablename__ = "paper_fills"

    broker_fill_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    broker_order_id: Mapped[str] = mapped_column(ForeignKey("paper_orders.broker_order_id"))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    commission: Mapped[float] = mapped_column(Float)
    realized_pnl: Mapped[float] = mapped_column(Float, default=0.0)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)


class PositionRow(Base):
    __tablename__ = "paper_positions"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    quantity: Mapped[float] = mapped_column(Float, default=0.0)
    average_price: Mapped[float] = mapped_column(Float, default=0.0)
    realized_pnl: Mapped[float] = mapped_column(Float, default=0.0)
    last_price: Mapped[float | None] = mapped_column(Float, nullable=True)


class MarketClockRow(Base):
    """How far the venue has walked a symbol's market data: the last bar (or quote) time
    matched, so a refresh walks only what came after it."""

    __tablename__ = "paper_market_clock"

    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    matched_through: Mapped[datetime] = mapped_column(UTCDateTime)


_BUSY_SECONDS = 30.0
# Columns added after the first release: books created before get them on open.
_ADDED_ORDER_COLUMNS = {
    "market_time": "DATETIME",
    "parent_id": "VARCHAR(40)",
    "oco_group": "VARCHAR(40)",
    "leg": "VARCHAR(16) NOT NULL DEFAULT ''",
}


def open_store(path: Path | str) -> Engine:
    """Open (creating if needed) the paper book at ``path``; ``":memory:"`` for a throwaway one."""
    if str(path) == ":memory:":
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        private_file(file)  # the book is the user's alone, whatever the umask
        engine = create_engine(
            f"sqlite:///{file}", connect_args={"check_same_thread": False, "timeout": _BUSY_SECONDS}
        )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: object, _record: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        # WAL lets the desk read while the venue writes; NORMAL is durable enough with WAL.
        use_wal(cur, _BUSY_SECONDS)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    Base.metadata.create_all(engine)
    _add_missing_columns(engine)
    return engine


def _add_missing_columns(engine: Engine) -> None:
    with engine.connect() as conn:
        have = {row[1] for row in conn.exec_driver_sql("PRAGMA table_info(paper_orders)")}
    for name, ddl in _ADDED_ORDER_COLUMNS.items():
        if name in have:
            continue
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"ALTER TABLE paper_orders ADD COLUMN {name} {ddl}")
        except OperationalError as exc:
            if "duplicate column" not in str(exc):
                raise  # another process opening the same old book added it first


def move_order(row: Any, new: OrderStatus, when: datetime, reason: str) -> None:
    """Change an order record's status through the order lifecycle."""
    current = OrderStatus(row.status)
    if current is not new:
        check_order_transition(current, new)
    row.status = new.value
    row.updated_at = when
    if reason:
        row.status_reason = reason


def to_order(row: Any) -> Order:
    """The order a stored row (or an order record) describes."""
    return Order(
        id=row.order_id,
        client_order_id=row.client_order_id,
        proposal_id=row.proposal_id,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        order_type=OrderType(row.order_type),
        limit_price=row.limit_price,
        stop_price=row.stop_price,
        stop_loss=row.stop_loss,
        take_profit=row.take_profit,
        time_in_force=TimeInForce(row.time_in_force),
        status=OrderStatus(row.status),
        filled_quantity=row.filled_quantity,
        average_fill_price=row.average_fill_price,
        broker="paper",
        broker_order_id=row.broker_order_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        status_reason=row.status_reason,
    )
