"""Verification of the audit log: the keyed chain, the anchor file, and the state tables.

What it finds: a row edited, inserted, deleted or reordered anywhere (its keyed hash or the
next row's link breaks); a log rewritten from some row on without the key (plain or
wrongly keyed hashes); a cut tail or a rebuilt head (the anchor names a seq or hash the
chain no longer has); a state table edited without the log (the cross-check).

What it cannot find: someone holding the key and able to rewrite the anchor file can write a
consistent history. The anchor is as safe as where it is kept (see the README).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, func, select

from tradecrew.data.audit_key import AuditKey
from tradecrew.ledger._anchor import Anchored, read_anchor
from tradecrew.ledger._crosscheck import crosscheck
from tradecrew.ledger._orm import GENESIS_HASH, AuditHeadRow, AuditRow
from tradecrew.ledger._snapshots import bad_snapshots
from tradecrew.ledger.audit import stored_message
from tradecrew.ledger.records import AuditVerification

_BATCH = 1000


@dataclass
class _Walk:
    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    keyed: int = 0
    unkeyed: int = 0
    bad_seq: int | None = None
    problems: list[str] = field(default_factory=list)

    def bad(self, seq: int, reason: str) -> None:
        if self.bad_seq is None:
            self.bad_seq = seq
        self.problems.append(f"seq {seq}: {reason}")


def verify(conn: Connection, key: AuditKey, anchor: Path | None) -> AuditVerification:
    """Replay the chain from seq 1 under ``key``, hold it against the anchor file (None: an
    in-memory ledger has none), and cross-check the state tables against the log."""
    anchored, anchor_problems = _anchored(anchor, key)
    walk = _walk_chain(conn, key, anchored)
    problems = [*walk.problems, *anchor_problems]
    problems += _anchor_reach(conn, anchor, anchored, walk)
    problems += crosscheck(conn)
    problems += bad_snapshots(conn, key)
    first_bad = walk.bad_seq
    return AuditVerification(
        ok=not problems,
        rows_checked=walk.checked,
        first_bad_seq=first_bad,
        reason=problems[0] if problems else "",
        problems=problems,
        unkeyed_rows=walk.unkeyed,
        anchored_seq=max(anchored) if anchored else None,
    )


def _anchored(anchor: Path | None, key: AuditKey) -> tuple[dict[int, Anchored], list[str]]:
    if anchor is None:
        return {}, []
    read = read_anchor(anchor)
    if read is None:
        return {}, []
    entries, problems = read
    by_seq: dict[int, Anchored] = {}
    for a in entries:
        seen = by_seq.setdefault(a.seq, a)
        if seen.hash != a.hash:
            problems.append(
                f"anchor lines {seen.line} and {a.line} hold different hashes for seq {a.seq}: "
                "the log was rewritten between them"
            )
    other = sorted({a.key_id for a in entries} - {key.key_id})
    if other:
        problems.append(
            f"the anchor was written with audit key id {', '.join(other)}, not this key "
            f"(id {key.key_id}): check TRADECREW_AUDIT_KEY or the audit.key file"
        )
    return by_seq, problems


def _walk_chain(conn: Connection, key: AuditKey, anchored: dict[int, Anchored]) -> _Walk:
    """Rows are plain sha256 (written before keying) until the first keyed row, keyed from
    there on; the walk stops at the first row that breaks the chain."""
    log = AuditRow.__table__
    walk = _Walk()
    expected = 1
    while walk.bad_seq is None:
        rows = conn.execute(
            select(log).where(log.c.seq >= expected).order_by(log.c.seq).limit(_BATCH)
        ).all()
        for row in rows:
            if row.seq != expected:
                walk.bad(expected, f"row is missing (the next row is seq {row.seq})")
                return walk
            if row.prev_hash != walk.last_hash:
                walk.bad(row.seq, "prev_hash does not match the previous row's hash")
                return walk
            message = stored_message(row)
            if key.mac(message) == row.hash:
                walk.keyed += 1
            elif hashlib.sha256(message).hexdigest() == row.hash:
                if walk.keyed:
                    walk.bad(
                        row.seq,
                        "row is hashed without the audit key after keyed rows: the log was "
                        "rewritten by someone without the key",
                    )
                    return walk
                walk.unkeyed += 1
            else:
                walk.bad(
                    row.seq,
                    "row content does not match its hash (edited, or hashed with another "
                    "audit key)",
                )
                return walk
            pinned = anchored.get(row.seq)
            if pinned is not None and pinned.hash != row.hash:
                walk.bad(
                    row.seq,
                    f"hash differs from the one anchored at {pinned.at} (anchor line "
                    f"{pinned.line}): the log was rewritten",
                )
                return walk
            walk.checked += 1
            walk.last_seq, walk.last_hash, expected = row.seq, row.hash, row.seq + 1
        if len(rows) < _BATCH:
            break
    if walk.bad_seq is None:
        _check_head(conn, walk)
    return walk


def _check_head(conn: Connection, walk: _Walk) -> None:
    heads = AuditHeadRow.__table__
    head = conn.execute(select(heads).where(heads.c.id == 1)).first()
    if head is None:
        if walk.checked:
            walk.bad(walk.last_seq + 1, "the chain head row is missing")
        return
    if head.seq > walk.last_seq:
        walk.bad(
            walk.last_seq + 1,
            f"rows {walk.last_seq + 1}..{head.seq} are missing from the end of the log",
        )
    elif head.seq != walk.last_seq or head.hash != walk.last_hash:
        walk.bad(head.seq, "the chain head does not match the last row")


def _anchor_reach(
    conn: Connection, anchor: Path | None, anchored: dict[int, Anchored], walk: _Walk
) -> list[str]:
    """The chain must reach every anchored seq, and a keyed chain must have its anchor."""
    if anchor is None:
        return []
    if not anchored:
        if walk.keyed and not anchor.exists():
            return [
                f"the anchor file {anchor} is missing: whether rows were cut from the end of "
                "the log cannot be checked"
            ]
        if walk.keyed:  # every commit appends a line: keyed rows and none is an emptied file
            return [
                f"the anchor file {anchor} holds no line for the {walk.keyed} keyed rows of "
                "the log: it was emptied, so a cut tail cannot be checked"
            ]
        return []
    log = AuditRow.__table__
    last_row = conn.scalar(select(func.max(log.c.seq))) or 0
    top = anchored[max(anchored)]
    if top.seq > last_row:
        return [
            f"the log ends at seq {last_row} but seq {top.seq} was anchored at {top.at}: rows "
            f"{last_row + 1}..{top.seq} were removed (or lost in a power cut before they "
            "reached the disk)"
        ]
    return []


def log_is_keyed(conn: Connection) -> bool:
    """Whether the log's first row is keyed (its hash is not the plain sha256 of its
    content): such a log can only be verified, and extended, with the key it was written
    with."""
    log = AuditRow.__table__
    row = conn.execute(select(log).where(log.c.seq == 1)).first()
    if row is None:
        return False
    message = stored_message(row)
    return hashlib.sha256(message).hexdigest() != row.hash
