"""Whether audit rows read on the order path can be trusted without replaying the chain:
each one's keyed hash checks, and its neighbours link to it.

A row forged without the key fails its HMAC; a row of the chain deleted next to one of
these breaks a link. Rows deleted further away are found only by ``verify``'s full replay.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from tradecrew.ledger._orm import GENESIS_HASH, AuditRow
from tradecrew.ledger.audit import stored_message

if TYPE_CHECKING:
    from tradecrew.ledger._tx import Tx

_log = AuditRow.__table__
_LINKS = select(_log.c.seq, _log.c.prev_hash, _log.c.hash).where(
    _log.c.seq.in_(bindparam("seqs", expanding=True))
)


def untrusted(tx: Tx, rows: Sequence[Any]) -> str | None:
    """Why one of ``rows`` (whole audit rows, read in ``tx``) is not the ledger's own
    writing; None when every one checks under the key and is linked into the chain."""
    if not rows:
        return None
    for row in rows:
        message = stored_message(row)
        if tx.key.mac(message) != row.hash:
            return (
                f"audit row seq {row.seq} ({row.action}) does not check under the audit key: "
                "it was forged or edited"
            )
    known = {row.seq: (row.prev_hash, row.hash) for row in rows}
    wanted = {s + d for s in known for d in (-1, 1) if s + d > 0} - set(known)
    if wanted:
        for seq, prev_hash, digest in tx.conn.execute(_LINKS, {"seqs": sorted(wanted)}):
            known[seq] = (prev_hash, digest)
    head_seq, head_hash = tx.start
    for row in rows:
        before = known.get(row.seq - 1)
        linked_back = (
            row.prev_hash == GENESIS_HASH if row.seq == 1 else before and before[1] == row.prev_hash
        )
        after = known.get(row.seq + 1)
        if after is None:
            linked_on = row.seq == head_seq and row.hash == head_hash
        else:
            linked_on = after[0] == row.hash
        if not (linked_back and linked_on):
            return (
                f"audit row seq {row.seq} ({row.action}) is not linked into the chain: rows "
                "next to it were removed or forged"
            )
    return None
