"""The shared vocabulary of the desk: bars, signals, proposals, decisions, orders, fills.

Every package speaks in these models; the CLI's ``--json`` and the MCP results are their
``model_dump``. The lifecycle tables (``lifecycle``) keep every state change of a proposal
or an order checked against one table in one place.

The models live in modules by concept; this package re-exports them all so that callers
keep importing from ``tradecrew.models`` and need not know which module holds a name.
"""

from __future__ import annotations

from .base import Model, new_id, utcnow
from .lifecycle import (
    ORDER_TRANSITIONS,
    PROPOSAL_TRANSITIONS,
    TERMINAL_ORDER_STATUSES,
    TERMINAL_PROPOSAL_STATUSES,
    IllegalTransition,
    OrderStatus,
    ProposalStatus,
    check_order_transition,
    check_proposal_transition,
)
from .market import (
    AssetClass,
    Bar,
    BookLevel,
    OrderBookSnapshot,
    Quote,
    Timeframe,
    TradePrint,
)
from .proposals import (
    HUMAN_CHANNELS,
    ApprovalChannel,
    Origin,
    Proposal,
    ProposalRequest,
    RiskCheck,
    RiskDecision,
    TradingState,
)
from .signals import ComponentSignal, Regime, Signal
from .trading import (
    Account,
    AccountMode,
    Direction,
    Fill,
    Order,
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from .verdict import AgentVerdict, Verdict

__all__ = [
    "HUMAN_CHANNELS",
    "ORDER_TRANSITIONS",
    "PROPOSAL_TRANSITIONS",
    "TERMINAL_ORDER_STATUSES",
    "TERMINAL_PROPOSAL_STATUSES",
    "Account",
    "AccountMode",
    "AgentVerdict",
    "ApprovalChannel",
    "AssetClass",
    "Bar",
    "BookLevel",
    "ComponentSignal",
    "Direction",
    "Fill",
    "IllegalTransition",
    "Model",
    "Order",
    "OrderBookSnapshot",
    "OrderStatus",
    "OrderType",
    "Origin",
    "Position",
    "Proposal",
    "ProposalRequest",
    "ProposalStatus",
    "Quote",
    "Regime",
    "RiskCheck",
    "RiskDecision",
    "Side",
    "Signal",
    "TimeInForce",
    "Timeframe",
    "TradePrint",
    "TradingState",
    "Verdict",
    "check_order_transition",
    "check_proposal_transition",
    "new_id",
    "utcnow",
]
