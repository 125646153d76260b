"""Errors the ledger raises; each names the record it is about so callers can say why."""

from __future__ import annotations

from tradecrew.data.audit_key import AuditKeyError
from tradecrew.errors import TradecrewError
from tradecrew.models import IllegalTransition

__all__ = [
    "ApprovalError",
    "AuditKeyError",
    "AuditMismatch",
    "Conflict",
    "DatabaseUnusable",
    "HumanApprovalRequired",
    "IllegalTransition",
    "LedgerError",
    "NotFound",
    "OrderClosed",
    "Overfill",
    "TermsChanged",
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


class TermsChanged(ApprovalError):
    """A person approved terms (an order hash) that are no longer the ones to be sent: the
    proposal was decided again between what they saw and the order."""


class Overfill(LedgerError, ValueError):
    """A fill would take an order's filled quantity above its quantity; it was refused."""


class TradingHalted(LedgerError):
    """An order was to be created or sent while the trading state is HALTED (the kill
    switch)."""


class OrderClosed(LedgerError):
    """An order was to be sent but the ledger no longer holds it as new: the kill switch or
    a reconciliation closed it meanwhile, so it must not leave."""

    def __init__(self, message: str, status_reason: str) -> None:
        self.status_reason = status_reason
        super().__init__(message)


class AuditMismatch(LedgerError, TradecrewError):
    """A row the order path relies on is not what the keyed audit log records (edited,
    added or deleted in the database): no order is created from it. Its message is meant
    for a person (entry points print it in one line)."""


class DatabaseUnusable(LedgerError, ValueError):
    """The database URL names no usable database (malformed, no driver installed, an SQLite
    file in a missing folder): a settings mistake, reported in one line."""
