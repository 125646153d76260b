"""Errors the ledger raises; each names the record it is about so callers can say why."""

from __future__ import annotations

from tradecrew.models import IllegalTransition

__all__ = [
    "ApprovalError",
    "AuditKeyError",
    "Conflict",
    "HumanApprovalRequired",
    "IllegalTransition",
    "LedgerError",
    "NotFound",
    "Overfill",
    "TradingHalted",
]


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""


class NotFound(LedgerError, LookupError):
    """No record of that kind has that id."""

    def __init__(self, entity: str, id: str) -> None:
        self.entity = entity
        self.id = id
        super().__init__(f"{entity} {id!r} not found in the ledger")


class Conflict(LedgerError):
    """A record with that key exists and differs from the one offered."""


class ApprovalError(LedgerError):
    """An approval could not be consumed: missing, expired, already used or for other terms."""


class HumanApprovalRequired(ApprovalError):
    """The only usable approval is the auto-approver's, and this account needs a human's."""


class Overfill(LedgerError, ValueError):
    """A fill would take an order's filled quantity above its quantity; it was refused."""


class TradingHalted(LedgerError):
    """An order was to be created while the trading state is HALTED (the kill switch)."""


class AuditKeyError(LedgerError, ValueError):
    """The audit key is missing, malformed, or kept in a file others may read or own."""
