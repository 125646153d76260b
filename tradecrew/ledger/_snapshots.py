"""Account snapshots carry a MAC under the audit key: the risk limits (daily loss, drawdown)
read their baselines from these rows, so a row edited in the database must not count.

Snapshots are observations, not changes, so they stay out of the audit chain (one chain row
per observation would double its size); the MAC makes each row checkable on its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from tradecrew.data.audit_key import AuditKey
from tradecrew.ledger._orm import AccountSnapshotRow
from tradecrew.ledger.audit import canonical_json, utc_stamp

#: The columns a snapshot's MAC covers: all but its number and the MAC.
FIELDS = tuple(c.name for c in AccountSnapshotRow.__table__.columns if c.name not in ("seq", "mac"))
_LIMIT = 100


def snapshot_mac(key: AuditKey, values: dict[str, Any]) -> str:
    """The MAC of a snapshot row's values (as written, or as read back)."""
    content = {f: _plain(values.get(f)) for f in FIELDS}
    return key.mac(b"tradecrew account snapshot " + canonical_json(content).encode("utf-8"))


def mac_fails(key: AuditKey, row: Any) -> bool:
    """Whether a snapshot row read back has a MAC that does not check (NULL: from before
    MACs, never used as a risk fact, see ``_reads``)."""
    return row.mac is not None and snapshot_mac(key, row._mapping) != row.mac


def bad_snapshots(conn: Connection, key: AuditKey) -> list[str]:
    """``verify``'s part: every row whose MAC fails, and every row without one written after
    a row with one (MACs began with schema 0003, so a later NULL was cleared by hand)."""
    t = AccountSnapshotRow.__table__
    problems: list[str] = []
    macs_began = False
    for row in conn.execute(select(t).order_by(t.c.seq)):
        if row.mac is None:
            if macs_began:
                problems.append(f"account_snapshots row {row.seq} has lost its MAC")
        else:
            macs_began = True
            if mac_fails(key, row):
                problems.append(
                    f"account_snapshots row {row.seq} does not match its MAC (edited, or written "
                    "under another audit key)"
                )
        if len(problems) >= _LIMIT:
            problems.append(f"(stopped after {_LIMIT} snapshot problems)")
            break
    return problems


def _plain(value: Any) -> Any:
    return utc_stamp(value) if isinstance(value, datetime) else value
