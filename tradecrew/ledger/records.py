"""Pydantic records the ledger hands out besides the shared models of ``tradecrew.models``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from tradecrew.models import (
    AgentVerdict,
    ApprovalChannel,
    Fill,
    Model,
    Order,
    Proposal,
    RiskDecision,
    TradingState,
    new_id,
    utcnow,
)


class Approval(Model):
    """A single-use permission to send exactly the order whose hash is ``order_hash``."""

    id: str = Field(default_factory=lambda: new_id("apv"))
    proposal_id: str
    order_hash: str
    actor: str
    channel: ApprovalChannel
    approved_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    consumed_at: datetime | None = None
    consumed_by: str | None = None


class Grant(Model):
    """An approval handed over with the order it allows; the ledger records it in the same
    transaction that creates the order (see ``Ledger.open_order``)."""

    actor: str
    channel: ApprovalChannel
    expires_at: datetime
    #: The terms the person approved: the order hash of the risk decision they were shown.
    #: Only an order with exactly these terms may use the approval.
    order_hash: str
    #: When the person approved, on the desk's clock: before the gate's checks run.
    approved_at: datetime = Field(default_factory=utcnow)


class AgentVerdictRecord(AgentVerdict):
    """An agent's verdict as the ledger keeps it: on which proposal, under which id, when."""

    id: str = Field(default_factory=lambda: new_id("vrd"))
    proposal_id: str
    created_at: datetime = Field(default_factory=utcnow)

    @classmethod
    def of(cls, proposal_id: str, verdict: AgentVerdict) -> AgentVerdictRecord:
        """The record of ``verdict`` on ``proposal_id``, with a fresh id and time."""
        # Read field by field, not dumped: a subclass (the crew's RiskReview) keeps fields
        # out of its dumps that the record must still carry.
        given = {name: getattr(verdict, name) for name in AgentVerdict.model_fields}
        return cls(proposal_id=proposal_id, **given)


class TradingStateRecord(Model):
    """The desk's kill-switch position and who put it there."""

    state: TradingState = TradingState.ACTIVE
    reason: str = ""
    tripped_by: str | None = None
    changed_by: str = "system"
    changed_at: datetime = Field(default_factory=utcnow)


class PositionSnapshot(Model):
    """A position as it stood at ``taken_at`` on one broker account."""

    broker: str
    symbol: str
    quantity: float
    average_price: float
    market_price: float | None = None
    unrealized_pnl: float = 0.0
    realized_pnl: float = 0.0
    taken_at: datetime = Field(default_factory=utcnow)


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RunRecord(Model):
    """One crew (or desk) run: when, what kind, how it ended."""

    id: str = Field(default_factory=lambda: new_id("run"))
    kind: str
    status: RunStatus = RunStatus.RUNNING
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    summary: dict[str, Any] = Field(default_factory=dict)
    error: str = ""


class AuditEntry(Model):
    """One row of the append-only, hash-chained audit log."""

    seq: int
    timestamp: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    prev_hash: str
    hash: str
    #: The proposal the row is about, when it is about one (rows from schema 0003 on).
    subject: str | None = None


class AuditVerification(Model):
    """Outcome of verifying the audit log: ok, or every problem found (one line each; the
    first in ``reason``) and the first chain row that breaks, if one does."""

    ok: bool
    rows_checked: int
    first_bad_seq: int | None = None
    reason: str = ""
    problems: list[str] = Field(default_factory=list)
    unkeyed_rows: int = Field(
        0, description="rows hashed before the chain was keyed (by the first keyed row's link)"
    )
    anchored_seq: int | None = Field(None, description="the highest seq in the anchor file")


class ProposalRecord(Model):
    """A proposal and everything the ledger holds about it, read in one transaction."""

    proposal: Proposal
    decisions: list[RiskDecision]
    verdicts: list[AgentVerdictRecord]
    orders: list[Order]
    fills: list[Fill]

    @property
    def latest_decision(self) -> RiskDecision | None:
        """The decision recorded last (recording order, not clocks), or None."""
        return self.decisions[-1] if self.decisions else None


class RiskFacts(Model):
    """What the risk context needs from the ledger, read in one transaction."""

    trading_state: TradingStateRecord
    orders_last_minute: int
    first_equity_today: float | None
    peak_equity: float | None
    open_orders: list[Order]
