"""What the desk answers: the models its CLI and MCP entry points print and return."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.ledger import AgentVerdict, Approval, AuditEntry
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
        p = self.proposal
        parts = [
            f"{p.side.value} {self.approved_quantity or p.quantity:g} {p.symbol}",
            p.order_type.value,
        ]
        for label, value in (
            ("limit", p.limit_price),
            ("stop", p.stop_price),
            ("stop loss", p.stop_loss),
            ("take profit", p.take_profit),
        ):
            if value:
                parts.append(f"{label} {value:g}")
        return " ".join(parts) + f" ({self.mode.value} account)"


class CancelOutcome(_Out):
    cancelled: list[str] = Field(default_factory=list, description="order ids")
    failed: dict[str, str] = Field(default_factory=dict, description="order id -> why")
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


class Explanation(_Out):
    """Everything the desk knows about why a proposal ended where it did."""

    proposal: Proposal
    decisions: list[RiskDecision]
    verdicts: list[AgentVerdict]
    approvals: list[Approval]
    orders: list[Order]
    audit: list[AuditEntry]
    summary: str
    mode: AccountMode


class ReconcileReport(_Out):
    checked_orders: int = 0
    updated_orders: list[str] = Field(default_factory=list)
    fills_recorded: int = 0
    external_orders: list[str] = Field(default_factory=list)
    never_sent: list[str] = Field(default_factory=list)
    still_in_flight: list[str] = Field(default_factory=list)
    contradicted_orders: list[str] = Field(
        default_factory=list,
        description="orders closed in the ledger but alive or filled at the broker",
    )
    position_mismatches: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="symbol -> (ledger, broker)"
    )
    switched_to_reducing: bool = False
    message: str = ""
