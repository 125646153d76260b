"""The desk's ledger: proposals, risk decisions, approvals, orders, fills, positions and a
hash-chained audit log, in SQLite (WAL) by default or any SQLAlchemy database."""

from tradecrew.ledger._claim import HALTED_BEFORE_SENT
from tradecrew.ledger._reports import CONTRADICTED, contradicts
from tradecrew.ledger.config_records import ABExperiment, ABObservation, ConfigVersion
from tradecrew.ledger.errors import (
    ApprovalError,
    AuditMismatch,
    Conflict,
    HumanApprovalRequired,
    IllegalTransition,
    LedgerError,
    NotFound,
    OrderClosed,
    Overfill,
    TermsChanged,
    TradingHalted,
)
from tradecrew.ledger.positions import positions_from_fills
from tradecrew.ledger.records import (
    AgentVerdictRecord,
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
)
from tradecrew.ledger.store import Ledger

__all__ = [
    "CONTRADICTED",
    "HALTED_BEFORE_SENT",
    "ABExperiment",
    "ABObservation",
    "AgentVerdictRecord",
    "Approval",
    "ApprovalChannel",
    "ApprovalError",
    "AuditEntry",
    "AuditMismatch",
    "AuditVerification",
    "ConfigVersion",
    "Conflict",
    "Grant",
    "HumanApprovalRequired",
    "IllegalTransition",
    "Ledger",
    "LedgerError",
    "NotFound",
    "OrderClosed",
    "Overfill",
    "PositionSnapshot",
    "ProposalRecord",
    "RiskFacts",
    "RunRecord",
    "RunStatus",
    "TermsChanged",
    "TradingHalted",
    "TradingStateRecord",
    "contradicts",
    "positions_from_fills",
]
