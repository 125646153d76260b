"""The desk's ledger: proposals, risk decisions, approvals, orders, fills, positions and a
hash-chained audit log, in SQLite (WAL) by default or any SQLAlchemy database."""

from tradecrew.ledger._trading import contradicts
from tradecrew.ledger.errors import (
    ApprovalError,
    Conflict,
    HumanApprovalRequired,
    IllegalTransition,
    LedgerError,
    NotFound,
    Overfill,
    TradingHalted,
)
from tradecrew.ledger.positions import positions_from_fills
from tradecrew.ledger.records import (
    AgentVerdict,
    Approval,
    ApprovalChannel,
    AuditEntry,
    AuditVerification,
    Grant,
    PositionSnapshot,
    ProposalRecord,
    RiskFacts,
    RunRecord,
    RunStatus,
    TradingStateRecord,
    Verdict,
)
from tradecrew.ledger.store import Ledger

__all__ = [
    "AgentVerdict",
    "Approval",
    "ApprovalChannel",
    "ApprovalError",
    "AuditEntry",
    "AuditVerification",
    "Conflict",
    "Grant",
    "HumanApprovalRequired",
    "IllegalTransition",
    "Ledger",
    "LedgerError",
    "NotFound",
    "Overfill",
    "PositionSnapshot",
    "ProposalRecord",
    "RiskFacts",
    "RunRecord",
    "RunStatus",
    "TradingHalted",
    "TradingStateRecord",
    "Verdict",
    "contradicts",
    "positions_from_fills",
]
