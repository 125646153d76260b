"""The desk: the one place where proposals become orders, through the order gate (gate.py)."""

from tradecrew.desk.outcomes import (
    CancelOutcome,
    Explanation,
    ProposalOutcome,
    ReconcileReport,
    RiskStatus,
)
from tradecrew.desk.service import Desk, DeskError

__all__ = [
    "CancelOutcome",
    "Desk",
    "DeskError",
    "Explanation",
    "ProposalOutcome",
    "ReconcileReport",
    "RiskStatus",
]
