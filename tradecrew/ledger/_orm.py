"""The ledger's tables (private: callers see pydantic models, never these rows).

Enums are stored as their string values in plain VARCHAR columns and datetimes as naive UTC,
so the same schema works on SQLite and PostgreSQL without native enum or timezone types.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

GENESIS_HASH = "0" * 64

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC in the database; naive input is refused as ambiguous."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the ledger needs timezone-aware times")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            return value.astimezone(UTC)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)

    if TYPE_CHECKING:
        # Every row class here maps one plain Table (never a join or subquery), which the
        # statements built on `Row.__table__` rely on.
        __table__: ClassVar[Table]


def _id() -> Mapped[str]:
    return mapped_column(String(40), primary_key=True)


class ProposalRow(Base):
    __tablename__ = "proposals"

    id: Mapped[str] = _id()
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Float)
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[float | None] = mapped_column(Float)
    stop_price: Mapped[float | None] = mapped_column(Float)
    stop_loss: Mapped[float | None] = mapped_column(Float)
    take_profit: Mapped[float | None] = mapped_column(Float)
    time_in_force: Mapped[str] = mapped_column(String(8))
    rationale: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(16))
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(24), index=True)
    status_reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RiskDecisionRow(Base):
    __tablename__ = "risk_decisions"

    id: Mapped[str] = _id()
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), index=True)
    approved: Mapped[bool] = mapped_column(Boolean)
    requested_quantity: Mapped[float] = mapped_column(Float)
    approved_quantity: Mapped[float] = mapped_column(Float)
    checks: Mapped[list[Any]] = mapped_column(JSON)
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    order_hash: Mapped[str] = mapped_column(String(128))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    trading_state: Mapped[str] = mapped_column(String(16))
    # Insertion order: the latest decision is the last one recorded, whatever its clock said.
    seq: Mapped[int] = mapped_column(Integer, index=True)


class ApprovalRow(Base):
    __tablename__ = "approvals"

    id: Mapped[str] = _id()
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), index=True)
    order_hash: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(8))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consumed_by: Mapped[str | None] = mapped_column(String(128))


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_broker_created_at", "broker", "created_at"),)

    id: Mapped[str] = _id()
    client_order_id: Mapped[str] = mapped_column(String(64), unique=True)
    proposal_id: Mapped[str | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Float)
    order_type: Mapped[str] = mapped_column(String(16))
    limit_price: Mapped[float | None] = mapped_column(Float)
    stop_price: Mapped[float | None] = mapped_column(Float)
    stop_loss: Mapped[float | None] = mapped_column(Float)
    take_profit: Mapped[float | None] = mapped_column(Float)
    time_in_force: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24), index=True)
    filled_quantity: Mapped[float] = mapped_column(Float)
    average_fill_price: Mapped[float | None] = mapped_column(Float)
    broker: Mapped[str] = mapped_column(String(32))
    broker_order_id: Mapped[str | None] = mapped_column(String(128), index=True)
    external: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_reason: Mapped[str] = mapped_column(Text)


class FillRow(Base):
    __tablename__ = "fills"
    __table_args__ = (UniqueConstraint("order_id", "broker_fill_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    client_order_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(32))
    side: Mapped[str] = mapped_column(String(8))
    quantity: Mapped[float] = mapped_column(Float)
    price: Mapped[float] = mapped_column(Float)
    commission: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    broker_fill_id: Mapped[str | None] = mapped_column(String(128))
    fill_key: Mapped[str] = mapped_column(String(64), unique=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PositionSnapshotRow(Base):
    __tablename__ = "position_snapshots"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    broker: Mapped[str] = mapped_column(String(32))
    symbol: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[float] = mapped_column(Float)
    average_price: Mapped[float] = mapped_column(Float)
    market_price: Mapped[float | None] = mapped_column(Float)
    unrealized_pnl: Mapped[float] = mapped_column(Float)
    realized_pnl: Mapped[float] = mapped_column(Float)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AccountSnapshotRow(Base):
    __tablename__ = "account_snapshots"
    __table_args__ = (Index("ix_account_snapshots_broker_equity", "broker", "equity"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    broker: Mapped[str] = mapped_column(String(32), index=True)
    mode: Mapped[str] = mapped_column(String(8))
    currency: Mapped[str] = mapped_column(String(8))
    cash: Mapped[float] = mapped_column(Float)
    equity: Mapped[float] = mapped_column(Float)
    buying_power: Mapped[float] = mapped_column(Float)
    realized_pnl_today: Mapped[float] = mapped_column(Float)
    start_of_day_equity: Mapped[float | None] = mapped_column(Float)
    peak_equity: Mapped[float | None] = mapped_column(Float)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: HMAC of the row's content under the audit key (``_snapshots``); NULL before 0003.
    mac: Mapped[str | None] = mapped_column(String(64))


class TradingStateRow(Base):
    __tablename__ = "trading_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    tripped_by: Mapped[str | None] = mapped_column(String(128))
    changed_by: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentVerdictRow(Base):
    __tablename__ = "agent_verdicts"

    id: Mapped[str] = _id()
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposals.id"), index=True)
    agent: Mapped[str] = mapped_column(String(128))
    verdict: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = _id()
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text)


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id"),
        Index("ix_audit_log_subject", "subject", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    #: The proposal the row is about (proposal, decision, verdict, approval, order rows);
    #: covered by the row's hash when set. NULL on rows from before schema 0003.
    subject: Mapped[str | None] = mapped_column(String(40))


class AuditHeadRow(Base):
    """The chain head: last seq and hash. Locking it serializes appends on any database."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ConfigVersionRow(Base):
    """One version of the desk's analysis configuration (fusion weights, components on/off
    and their thresholds). Append-only: the newest version is the active one; a rollback is
    a new version restoring an older one's content."""

    __tablename__ = "config_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The version that was active when this one was made (what a rollback goes back to).
    based_on: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ABExperimentRow(Base):
    """A champion/challenger comparison evaluated in shadow over the same signals."""

    __tablename__ = "ab_experiments"

    id: Mapped[str] = _id()
    champion: Mapped[int] = mapped_column(Integer)
    challenger: Mapped[str] = mapped_column(String(16))
    symbols: Mapped[list[Any]] = mapped_column(JSON)
    timeframe: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by: Mapped[str] = mapped_column(String(128))
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_by: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)


class ABObservationRow(Base):
    """One bar of an experiment: both arms' hypothetical positions from the same votes and
    the returns they earned over the next bar. Observations, not changes: MACed under the
    audit key rather than chained (``_snapshots`` does the same for account snapshots)."""

    __tablename__ = "ab_observations"
    __table_args__ = (UniqueConstraint("experiment_id", "symbol", "bar_time"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    experiment_id: Mapped[str] = mapped_column(ForeignKey("ab_experiments.id"), index=True)
    symbol: Mapped[str] = mapped_column(String(32))
    bar_time: Mapped[datetime] = mapped_column(UTCDateTime)
    champion_position: Mapped[float] = mapped_column(Float)
    challenger_position: Mapped[float] = mapped_column(Float)
    champion_return: Mapped[float] = mapped_column(Float)
    challenger_return: Mapped[float] = mapped_column(Float)
    #: Per component of the champion: its fused contribution times the bar's market return.
    attribution: Mapped[dict[str, Any]] = mapped_column(JSON)
    mac: Mapped[str] = mapped_column(String(64))
