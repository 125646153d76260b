"""One write transaction: a connection plus the locked audit-chain head, and the Core
statements the ledger reads and writes rows with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Insert,
    Row,
    Select,
    Table,
    Update,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from tradecrew.data.audit_key import AuditKey
from tradecrew.ledger import audit as _audit
from tradecrew.ledger._orm import AuditHeadRow, AuditRow, Base
from tradecrew.ledger.errors import Conflict, LedgerError, NotFound
from tradecrew.ledger.records import AuditEntry

T = TypeVar("T")


@dataclass
class Tx:
    """Everything written through a Tx commits together with its audit rows, or not at all.

    ``deferred`` holds an error to raise after commit: refusals are audited, then reported.
    """

    conn: Connection
    tip: _audit.ChainTip
    key: AuditKey
    deferred: LedgerError | None = field(default=None)
    _rows: list[dict[str, Any]] = field(default_factory=list)
    _seen: dict[tuple[str, object], Row[Any]] = field(default_factory=dict)
    #: The chain head (seq, hash) as the transaction found it, before its own rows.
    start: tuple[int, str] = field(init=False)

    def __post_init__(self) -> None:
        self.start = (self.tip.seq, self.tip.hash)

    def get(self, row_cls: type[Base], key: str, entity: str) -> Row[Any]:
        """``get_or_raise`` read once per transaction (a trade reads its proposal in several
        steps); ``update`` forgets the row it changes."""
        found = self._seen.get((row_cls.__tablename__, key))
        if found is None:
            found = self._seen[(row_cls.__tablename__, key)] = get_or_raise(
                self.conn, row_cls, key, entity
            )
        return found

    def update(self, row_cls: type[Base], key: object, **values: Any) -> None:
        update_row(self.conn, row_cls, key, **values)
        self._seen.pop((row_cls.__tablename__, key), None)

    def seal(self) -> bool:
        """Write the transaction's audit rows and the chain's new tip, once, before commit;
        True if there were rows (the tip moved)."""
        if not self._rows:
            return False
        insert_row(self.conn, AuditRow, self._rows)
        update_row(self.conn, AuditHeadRow, 1, seq=self.tip.seq, hash=self.tip.hash)
        self._rows = []
        return True

    def pending_image(
        self, entity: str, entity_id: str, actions: tuple[str, ...]
    ) -> tuple[int, dict[str, Any] | None] | None:
        """The seq and ``after`` image of this transaction's last not yet written audit row
        of ``entity_id`` with one of ``actions``."""
        for row in reversed(self._rows):
            same = row["entity_id"] == entity_id and row["entity"] == entity
            if same and row["action"] in actions:
                return row["seq"], row["after"]
        return None

    def audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditEntry:
        entry = _audit.chain(
            self.tip,
            self.key,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            subject=subject_of(entity, entity_id, before, after),
        )
        self._rows.append(dict(entry))
        return entry

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


#: Entities whose images name the proposal they belong to (``proposal_id``).
_OF_A_PROPOSAL = frozenset({"risk_decision", "agent_verdict", "approval", "order"})


def subject_of(
    entity: str, entity_id: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> str | None:
    """The proposal an audit row is about, if any: what the order path looks rows up by."""
    if entity == "proposal":
        return entity_id[:40] or None
    if entity in _OF_A_PROPOSAL:
        found = (after or {}).get("proposal_id") or (before or {}).get("proposal_id")
        return found[:40] if isinstance(found, str) and found else None
    return None


# The ledger reads and writes rows with SQLAlchemy Core statements rather than the ORM's
# unit of work: every trade passes through a dozen statements, and the ORM's bookkeeping
# around each was most of the desk's latency. The mapped classes still define the schema.


@dataclass(frozen=True)
class _Statements:
    """A table's look-up by primary key, insert and update, built once."""

    by_key: Select[Any]
    insert: Insert
    update: Update

    @classmethod
    def of(cls, table: Table) -> _Statements:
        found = _BUILT.get(table.name)
        if found is None:
            (pk,) = table.primary_key.columns
            found = _BUILT[table.name] = cls(
                by_key=select(table).where(pk == bindparam("key_")),
                insert=insert(table),
                # SET takes whichever columns the parameters name.
                update=update(table).where(pk == bindparam("key_")),
            )
        return found


_BUILT: dict[str, _Statements] = {}


def fetch(conn: Connection, row_cls: type[Base], key: object) -> Row[Any] | None:
    """The row of ``row_cls`` whose primary key is ``key``, or None."""
    return conn.execute(_Statements.of(row_cls.__table__).by_key, {"key_": key}).first()


def insert_row(
    conn: Connection, row_cls: type[Base], values: dict[str, Any] | list[dict[str, Any]]
) -> None:
    """Insert one row, or several in one statement."""
    conn.execute(_Statements.of(row_cls.__table__).insert, values)


def update_row(conn: Connection, row_cls: type[Base], key: object, **values: Any) -> None:
    conn.execute(_Statements.of(row_cls.__table__).update, {"key_": key, **values})


def insert_new(
    conn: Connection, row_cls: type[Base], values: dict[str, Any], conflict: str
) -> None:
    """Insert a row whose key must be new, Conflict(``conflict``) if it is not. The caller
    has checked every other constraint, so a refusal can only be the key's (and costs no
    look-up first)."""
    try:
        insert_row(conn, row_cls, values)
    except IntegrityError:
        raise Conflict(conflict) from None


def get_or_raise(conn: Connection, row_cls: type[Base], id: str, entity: str) -> Row[Any]:
    """The row with primary key ``id`` or NotFound naming the entity and id."""
    if not isinstance(id, str) or not id:
        raise NotFound(entity, str(id))
    row = fetch(conn, row_cls, id)
    if row is None:
        raise NotFound(entity, id)
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
