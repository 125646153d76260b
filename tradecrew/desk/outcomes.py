"""What the desk answers: the models its CLI and MCP entry points print and return."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.ledger import AgentVerdictRecord, Approval, AuditEntry
from tradecrew.models import (
    Account,
    AccountMode,
    Fill,
    Order,
    Position,
    Proposal,
    ProposalStatus,
    RiskDecision,
    TradingState,
)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProposalOutcome(_Out):
    """A proposal after the risk engine saw it (and after submission, when it was approved)."""

    proposal_id: str
    status: ProposalStatus
    mode: AccountMode
    proposal: Proposal
    decision: RiskDecision | None = None
    approved_quantity: float | None = None
    reasons: list[str] = Field(default_factory=list, description="veto or shrink reasons")
    requires_human_approval: bool = True
    order: Order | None = None
    fills: list[Fill] = Field(default_factory=list)
    message: str = ""

    @property
    def summary(self) -> str:
        """The order as a person reads it, at the risk-approved size when there is one:
        ``buy 2 XAUUSD market take profit 2450 (paper account)``."""
        from tradecrew.prices import format_price

        p = self.proposal
        parts = [f"{p.side.value} {self.approved_quantity or p.quantity:g} {p.symbol}"]
        # A limit or stop order is named by its price ("limit 1.05"), a market order by kind.
        if not (p.limit_price or p.stop_price):
            parts.append(p.order_type.value)
        for label, value in (
            ("stop", p.stop_price),
            ("limit", p.limit_price),
            ("stop loss", p.stop_loss),
            ("take profit", p.take_profit),
        ):
            if value:
                parts.append(f"{label} {format_price(value, p.symbol)}")
        return " ".join(parts) + f" ({self.mode.value} account)"


class CancelOutcome(_Out):
    cancelled: list[str] = Field(default_factory=list, description="order ids")
    failed: dict[str, str] = Field(default_factory=dict, description="order id -> why")
    in_flight: list[str] = Field(
        default_factory=list,
        description="of the failed: orders sent but not (yet) known to the broker",
    )
    mode: AccountMode


class RiskStatus(_Out):
    trading_state: TradingState
    kill_switch: bool
    reason: str = ""
    changed_by: str = ""
    mode: AccountMode
    broker: str
    account: Account | None = None
    positions: list[Position] = Field(default_factory=list)
    open_orders: int = 0
    exposure: dict[str, float] = Field(default_factory=dict, description="currency -> notional")
    gross_exposure: float = 0.0
    net_exposure: float = 0.0
    limits: dict[str, Any] = Field(default_factory=dict)
    # What turning the kill switch on did to the open orders (empty otherwise).
    closed_unsent: list[str] = Field(
        default_factory=list, description="orders closed before they were sent (order ids)"
    )
    cancelled: list[str] = Field(default_factory=list, description="orders cancelled (ids)")
    cancel_failed: dict[str, str] = Field(
        default_factory=dict, description="order id -> why it could not be cancelled"
    )
    in_flight: list[str] = Field(
        default_factory=list,
        description="of cancel_failed: orders sent before the halt, not yet at the broker; "
        "cancelled when they arrive (by their sender or reconciliation)",
    )


class Explanation(_Out):
    """Everything the desk knows about why a proposal ended where it did."""

    proposal: Proposal
    decisions: list[RiskDecision]
    verdicts: list[AgentVerdictRecord]
    approvals: list[Approval]
    orders: list[Order]
    audit: list[AuditEntry]
    summary: str
    mode: AccountMode


class ReconcileReport(_Out):
    checked_orders: int = 0
    updated_orders: list[str] = Field(default_factory=list)
    fills_recorded: int = 0
    external_orders: list[str] = Field(
        default_factory=list, description="orders found at the broker that the desk did not place"
    )
    bracket_legs: list[str] = Field(
        default_factory=list,
        description="stop-loss/take-profit legs the venue opened on a desk order's fill",
    )
    unrecorded_orders: list[str] = Field(
        default_factory=list,
        description="orders at the broker the ledger cannot hold as they are (broker id: "
        "why); not adopted, so their fills show as position differences",
    )
    never_sent: list[str] = Field(default_factory=list)
    still_in_flight: list[str] = Field(default_factory=list)
    contradicted_orders: list[str] = Field(
        default_factory=list,
        description="orders closed in the ledger but alive or filled at the broker",
    )
    lost_orders: list[str] = Field(
        default_factory=list,
        description="orders at the broker with the desk's own client id that the ledger "
        "had no record of (adopted as external; the desk moves to REDUCING)",
    )
    position_mismatches: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="symbol -> (ledger, broker)"
    )
    switched_to_reducing: bool = False
    cancelled_under_halt: list[str] = Field(
        default_factory=list,
        description="desk orders found working at the broker while halted, cancelled there",
    )
    cancel_failed: dict[str, str] = Field(
        default_factory=dict,
        description="of those, order id -> why the broker did not cancel it",
    )
    failed: str = Field(
        "", description="why reconciliation could not finish (the desk opened regardless)"
    )
    message: str = ""
