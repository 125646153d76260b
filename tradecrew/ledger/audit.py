"""The hash-chained audit log: append inside the caller's transaction, verify by replay.

``hash = sha256(prev_hash + canonical_json(content))`` where content is every column but the
two hashes. Any edited, deleted, reordered or truncated row breaks the chain at its seq.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from tradecrew.ledger._orm import GENESIS_HASH, AuditHeadRow, AuditRow
from tradecrew.ledger.records import AuditEntry, AuditVerification
from tradecrew.models import utcnow

_BATCH = 1000


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


def row_hash(
    prev_hash: str,
    *,
    seq: int,
    timestamp: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> str:
    """The chain hash of one row given the previous row's hash."""
    content = {
        "seq": seq,
        "timestamp": utc_stamp(timestamp),
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": entity_id,
        "before": before,
        "after": after,
    }
    return hashlib.sha256((prev_hash + canonical_json(content)).encode("utf-8")).hexdigest()


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
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
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
    ):
        if len(value) > limit:
            raise ValueError(f"audit {name} is longer than {limit} characters")
    before, after = _jsonable(before), _jsonable(after)
    seq = head.seq + 1
    # The database keeps microseconds; truncate nothing else so the hash replays exactly.
    timestamp = utcnow()
    digest = row_hash(
        head.hash,
        seq=seq,
        timestamp=timestamp,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
    entry = AuditEntry.model_construct(
        seq=seq,
        timestamp=timestamp,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        prev_hash=head.hash,
        hash=digest,
    )
    head.seq, head.hash = seq, digest
    return entry


def to_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        timestamp=row.timestamp,
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def verify(conn: Connection) -> AuditVerification:
    """Replay the chain from seq 1; report the first row that does not hash or link right."""
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    last_seq = 0
    while True:
        log = AuditRow.__table__
        rows = conn.execute(
            select(log).where(log.c.seq >= expected_seq).order_by(log.c.seq).limit(_BATCH)
        ).all()
        for row in rows:
            if row.seq != expected_seq:
                return _bad(
                    checked, expected_seq, f"seq {expected_seq} is missing (next row is {row.seq})"
                )
            if row.prev_hash != prev_hash:
                return _bad(checked, row.seq, "prev_hash does not match the previous row's hash")
            digest = row_hash(
                row.prev_hash,
                seq=row.seq,
                timestamp=row.timestamp,
                actor=row.actor,
                action=row.action,
                entity=row.entity,
                entity_id=row.entity_id,
                before=row.before,
                after=row.after,
            )
            if digest != row.hash:
                return _bad(checked, row.seq, "row content does not match its hash")
            checked += 1
            last_seq, prev_hash, expected_seq = row.seq, row.hash, row.seq + 1
        if len(rows) < _BATCH:
            break
    heads = AuditHeadRow.__table__
    head = conn.execute(select(heads).where(heads.c.id == 1)).first()
    if head is None:
        if checked:
            return _bad(checked, last_seq + 1, "the chain head row is missing")
        return AuditVerification(ok=True, rows_checked=0)
    if head.seq != last_seq or head.hash != prev_hash:
        if head.seq > last_seq:
            return _bad(
                checked,
                last_seq + 1,
                f"rows {last_seq + 1}..{head.seq} are missing from the end of the log",
            )
        return _bad(checked, head.seq, "the chain head does not match the last row")
    return AuditVerification(ok=True, rows_checked=checked)


def _bad(checked: int, seq: int, reason: str) -> AuditVerification:
    return AuditVerification(ok=False, rows_checked=checked, first_bad_seq=seq, reason=reason)
