"""The keyed, hash-chained audit log: append inside the caller's transaction, verify by replay.

``hash = HMAC-SHA256(key, prev_hash + canonical_json(content))`` where content is every column
but the two hashes and the key is kept outside the database (``_keys``). Without the key an
edited, deleted, reordered or inserted row cannot be given a hash that checks; a cut tail
is found against the anchor file (``_anchor``), and tables edited behind the log's back by
replaying the log against them (``_crosscheck``).

Ledgers written before the chain was keyed hold plain ``sha256`` rows; they verify by the
old rule up to the first keyed row, whose hash commits to them, and never after it.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NotRequired, TypedDict, Unpack

from sqlalchemy import Connection, insert, select

from tradecrew.data.audit_key import AuditKey
from tradecrew.ledger._orm import GENESIS_HASH, AuditHeadRow, AuditRow
from tradecrew.ledger.records import AuditEntry
from tradecrew.models import utcnow


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept, NaN refused: one text per value, everywhere."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def utc_stamp(ts: datetime) -> str:
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_safe(value: Any) -> Any:
    """The value with non-finite floats as None: JSON has no NaN, and hashes must replay."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def _jsonable(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Round-trip through JSON so what is hashed is exactly what the database keeps."""
    if value is None:
        return None
    try:
        text = canonical_json(value)
    except (ValueError, TypeError):  # NaN, or keys JSON cannot sort: make it safe first
        text = canonical_json(json_safe(value))
    return json.loads(text)


class RowContent(TypedDict):
    """Every column of an audit row but the two hashes: what a row's hash covers."""

    seq: int
    timestamp: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    subject: NotRequired[str | None]


def row_hash(prev_hash: str, *, key: AuditKey | None, **content: Unpack[RowContent]) -> str:
    """The chain hash of one row given the previous row's hash: keyed, or with ``key=None``
    the plain sha256 of ledgers written before the chain was keyed."""
    message = row_message(prev_hash, **content)
    return hashlib.sha256(message).hexdigest() if key is None else key.mac(message)


def row_message(prev_hash: str, **content: Unpack[RowContent]) -> bytes:
    """What a row's hash covers: the previous hash and the canonical JSON of its content.
    ``subject`` is covered only when set, so rows written before it existed still replay."""
    covered: dict[str, Any] = {
        "seq": content["seq"],
        "timestamp": utc_stamp(content["timestamp"]),
        "actor": content["actor"],
        "action": content["action"],
        "entity": content["entity"],
        "entity_id": content["entity_id"],
        "before": content["before"],
        "after": content["after"],
    }
    subject = content.get("subject")
    if subject is not None:
        covered["subject"] = subject
    return (prev_hash + canonical_json(covered)).encode("utf-8")


def stored_content(row: Any) -> RowContent:
    """The hashed content of an audit row as read back from the log."""
    return RowContent(
        seq=row.seq,
        timestamp=row.timestamp,
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
        subject=row.subject,
    )


def stored_message(row: Any) -> bytes:
    """What the hash of an audit row read back from the log must cover."""
    return row_message(row.prev_hash, **stored_content(row))


_HEAD = (
    select(AuditHeadRow.__table__.c.seq, AuditHeadRow.__table__.c.hash)
    .where(AuditHeadRow.__table__.c.id == 1)
    .with_for_update()
)


def lock_head(conn: Connection) -> ChainTip:
    """Read (and on PostgreSQL row-lock) the chain head; every write transaction starts here."""
    head_table, log = AuditHeadRow.__table__, AuditRow.__table__
    head = conn.execute(_HEAD).first()
    if head is not None:
        return ChainTip(head.seq, head.hash)
    # Lost seed row: continue from the last row rather than fork the chain.
    last = conn.execute(select(log.c.seq, log.c.hash).order_by(log.c.seq.desc()).limit(1)).first()
    tip = ChainTip(0, GENESIS_HASH) if last is None else ChainTip(last.seq, last.hash)
    conn.execute(insert(head_table), [{"id": 1, "seq": tip.seq, "hash": tip.hash}])
    return tip


@dataclass
class ChainTip:
    """The last seq and hash of the chain as a transaction extends it; written back to the
    head row once, when the transaction ends, rather than after every row."""

    seq: int
    hash: str


def chain(
    head: ChainTip,
    key: AuditKey,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    subject: str | None = None,
) -> AuditEntry:
    """The next chained row after ``head`` (which moves on to it); the caller's transaction
    writes it, so it commits or rolls back with the change it records."""
    if not actor or not action or not entity:
        raise ValueError("an audit row needs an actor, an action and an entity")
    for name, value, limit in (
        ("actor", actor, 128),
        ("action", action, 64),
        ("entity", entity, 32),
        ("entity_id", entity_id, 128),
        ("subject", subject or "", 40),
    ):
        if len(value) > limit:
            raise ValueError(f"audit {name} is longer than {limit} characters")
    before, after = _jsonable(before), _jsonable(after)
    seq = head.seq + 1
    # The database keeps microseconds; truncate nothing else so the hash replays exactly.
    timestamp = utcnow()
    content = RowContent(
        seq=seq,
        timestamp=timestamp,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        subject=subject,
    )
    digest = row_hash(head.hash, key=key, **content)
    entry = AuditEntry.model_construct(**content, prev_hash=head.hash, hash=digest)
    head.seq, head.hash = seq, digest
    return entry


def to_entry(row: Any) -> AuditEntry:
    return AuditEntry(**stored_content(row), prev_hash=row.prev_hash, hash=row.hash)
