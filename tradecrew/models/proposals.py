"""Proposals and their approval: requests, risk checks and decisions, approval channels."""

from __future__ import annotations

import math
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from .base import Model, new_id, utcnow
from .lifecycle import ProposalStatus
from .trading import OrderType, Side, TimeInForce


class Origin(StrEnum):
    CLI = "cli"
    MCP = "mcp"
    CREW = "crew"
    OPTIMIZER = "optimizer"
    SYSTEM = "system"


class TradingState(StrEnum):
    """ACTIVE trades freely; REDUCING only shrinks positions; HALTED submits nothing."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


class ApprovalChannel(StrEnum):
    """How a yes (an approval, or a move back to trading) reached the desk. Only
    ``HUMAN_CHANNELS`` are a person's; the values fit the ledger's 8-character column."""

    CLI = "cli"  # the command line, run by a person or by their own scripts
    MCP_CONFIRMED = "mcp_ok"  # an MCP elicitation the user accepted in their client
    MCP_UNCONFIRMED = "mcp_tool"  # a bare MCP tool call: a model may have made it alone
    ALERT_LINK = "alert"  # reserved for a configured alert channel's signed button
    # A signed Telegram button; counts as a person's only where the user configured that
    # chat as their own (``risk.approvals.accepted_channels``), never on the static list.
    TELEGRAM = "telegram"
    AUTO = "auto"  # the paper auto-approver
    LEGACY_MCP = "mcp"  # MCP approvals stored before confirmations were told apart


#: The allow-list of channels a person drives; everything else is a machine's.
HUMAN_CHANNELS: frozenset[ApprovalChannel] = frozenset(
    {ApprovalChannel.CLI, ApprovalChannel.MCP_CONFIRMED, ApprovalChannel.ALERT_LINK}
)


def _finite_positive(value: float | None, name: str) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number above zero, got {value}")
    return value


class ProposalRequest(Model):
    """What someone (a person, the crew, the optimizer) wants to trade."""

    symbol: str = Field(min_length=1, max_length=32)
    side: Side
    quantity: float = Field(description="units: shares, ounces, base-currency units, coins")
    order_type: OrderType = OrderType.MARKET
    limit_price: float | None = None
    stop_price: float | None = None
    stop_loss: float | None = None
    take_profit: float | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    rationale: str = ""
    evidence: dict[str, Any] = Field(default_factory=dict)
    origin: Origin = Origin.CLI
    reduce_only: bool = False

    @field_validator("symbol")
    @classmethod
    def _upper_symbol(cls, v: str) -> str:
        return v.strip().upper()

    @field_validator("quantity")
    @classmethod
    def _positive_quantity(cls, v: float) -> float:
        return _finite_positive(v, "quantity")  # type: ignore[return-value]

    @field_validator("limit_price", "stop_price", "stop_loss", "take_profit")
    @classmethod
    def _positive_prices(cls, v: float | None, info: Any) -> float | None:
        return _finite_positive(v, info.field_name)

    @model_validator(mode="after")
    def _prices_fit_type(self) -> ProposalRequest:
        needs_limit = self.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        needs_stop = self.order_type in (OrderType.STOP, OrderType.STOP_LIMIT)
        if needs_limit and self.limit_price is None:
            raise ValueError(f"a {self.order_type.value} order needs a limit_price")
        if needs_stop and self.stop_price is None:
            raise ValueError(f"a {self.order_type.value} order needs a stop_price")
        if not needs_limit and self.limit_price is not None:
            raise ValueError(f"a {self.order_type.value} order takes no limit_price")
        if not needs_stop and self.stop_price is not None:
            raise ValueError(f"a {self.order_type.value} order takes no stop_price")
        return self


class Proposal(ProposalRequest):
    """A persisted request, moving through PROPOSAL_TRANSITIONS."""

    id: str = Field(default_factory=lambda: new_id("prp"))
    status: ProposalStatus = ProposalStatus.PENDING
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    status_reason: str = ""


class RiskCheck(Model):
    """One named pre-trade check and what it concluded."""

    name: str
    passed: bool
    reason: str = ""
    max_quantity: float | None = Field(
        default=None, description="the largest quantity this check allows, when it shrinks"
    )


class RiskDecision(Model):
    """The risk engine's verdict on exactly one proposal, bound by ``order_hash``."""

    id: str = Field(default_factory=lambda: new_id("rdc"))
    proposal_id: str
    approved: bool
    requested_quantity: float
    approved_quantity: float = Field(ge=0.0)
    checks: list[RiskCheck] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    order_hash: str
    decided_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    trading_state: TradingState = TradingState.ACTIVE
