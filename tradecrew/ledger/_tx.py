"""One write transaction: a session plus the locked audit-chain head."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from tradecrew.ledger import audit as _audit
from tradecrew.ledger._orm import AuditHeadRow, Base
from tradecrew.ledger.errors import LedgerError, NotFound
from tradecrew.ledger.records import AuditEntry

R = TypeVar("R", bound=Base)
T = TypeVar("T")


@dataclass
class Tx:
    """Everything written through a Tx commits together with its audit rows, or not at all.

    ``deferred`` holds an error to raise after commit: refusals are audited, then reported.
    """

    session: Session
    head: AuditHeadRow
    deferred: LedgerError | None = field(default=None)
    tip: _audit.ChainTip = field(init=False)

    def __post_init__(self) -> None:
        self.tip = _audit.ChainTip(self.head.seq, self.head.hash)

    def seal(self) -> None:
        """Write the chain's new tip to the head row (once, before the commit)."""
        if self.tip.seq != self.head.seq:
            self.head.seq, self.head.hash = self.tip.seq, self.tip.hash

    def audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditEntry:
        return _audit.append(
            self.session,
            self.tip,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )

    def refuse(
        self,
        error: LedgerError,
        actor: str,
        entity: str,
        entity_id: str,
        after: dict[str, Any] | None = None,
    ) -> None:
        """Audit a refusal now and raise ``error`` once the audit row is committed."""
        self.audit(
            actor,
            f"{entity}.refused",
            entity,
            entity_id,
            None,
            {**(after or {}), "reason": str(error)},
        )
        self.deferred = error


def get_or_raise(session: Session, row_cls: type[R], id: str, entity: str) -> R:
    """The row with primary key ``id`` or NotFound naming the entity and id."""
    if not isinstance(id, str) or not id:
        raise NotFound(entity, str(id))
    row = session.get(row_cls, id)
    if row is None:
        raise NotFound(entity, id)
    # The session's identity map holds rows weakly: keep this one for the session's life so
    # the next look-up of it in the same transaction is answered without a query.
    session.info.setdefault("held_rows", []).append(row)
    return row


def require_aware(value: datetime | None, name: str) -> None:
    """Refuse naive datetimes: the ledger cannot guess which clock they were read from."""
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")


def require_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise ValueError("actor must name who made the change")
    require_length(actor.strip(), "actor", 128)
    return actor.strip()


def require_length(value: str | None, name: str, limit: int) -> None:
    """Refuse strings longer than their column (PostgreSQL would; SQLite would not)."""
    if value is not None and len(value) > limit:
        raise ValueError(f"{name} is longer than {limit} characters")


def positive_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    return limit


def settled(result: T | None) -> T:
    """The result of a transaction whose refusal (if any) has already been raised."""
    if result is None:
        raise LedgerError("transaction ended without a result or a refusal")
    return result
