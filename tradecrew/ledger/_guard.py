"""The audit key and anchor of one ledger, as its write path uses them.

Promises: a ledger whose keyed log lost its key file gets no new key (``load_audit_key``);
no write goes out under a key other than the one that signed the anchor's last line
(``AuditGuard.check_key``); every committed transaction that moved the chain is anchored
(``AuditGuard.anchored``); and before an order, the chain still holds the anchor's recent
lines (``AuditGuard.mismatch``).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.engine import make_url

from tradecrew.data.audit_key import ENV_VAR, KEY_FILE, AuditKey, load_key
from tradecrew.ledger._anchor import Anchor, tail_anchored
from tradecrew.ledger._orm import AuditRow
from tradecrew.ledger._tx import Tx
from tradecrew.ledger._verify import log_is_keyed
from tradecrew.ledger.errors import AuditKeyError

_KEY_DIFFERS = "the audit key differs from the one that signed this ledger"
_ROW_HASHES = select(AuditRow.__table__.c.seq, AuditRow.__table__.c.hash).where(
    AuditRow.__table__.c.seq.in_(bindparam("seqs", expanding=True))
)


def audit_home(url: str, home: Path | None) -> Path | None:
    """Where the audit key and anchor of the ledger at ``url`` live (see ``Ledger``)."""
    if home is not None:
        return home
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        from tradecrew.config import get_settings

        return get_settings().home
    database = parsed.database or ""
    if database in ("", ":memory:") or "mode=memory" in str(parsed.query):
        return None
    return Path(database).expanduser().resolve().parent


def load_audit_key(engine: Engine, home: Path | None) -> AuditKey:
    """The chain's key; a keyed log whose key file is gone gets no new key (its rows
    could never verify again): the operator restores the file or sets the variable."""
    if home is not None and ENV_VAR not in os.environ and not (home / KEY_FILE).exists():
        with engine.connect() as conn:
            if log_is_keyed(conn):
                raise AuditKeyError(
                    f"the audit log is keyed but {home / KEY_FILE} is missing: restore it "
                    f"(or set {ENV_VAR}); a new key could not verify the log"
                )
    return load_key(home)


class AuditGuard:
    """One ledger instance's key and anchor file (none for an in-memory ledger)."""

    def __init__(self, key: AuditKey, anchor: Anchor | None) -> None:
        self.key = key
        self.anchor = anchor
        self.path: Path | None = None if anchor is None else anchor.path
        self._key_checked = False

    def close(self) -> None:
        if self.anchor is not None:
            self.anchor.close()

    def check_key(self) -> None:
        """Before this instance's first write: the anchor's last line must have been written
        under this key, or a replaced key would go on signing rows the old one cannot
        verify (and the other way round)."""
        if self._key_checked or self.path is None:
            return
        recent = tail_anchored(self.path, 512)
        last = recent[-1] if recent else None
        if last is not None and last.key_id != self.key.key_id:
            raise AuditKeyError(
                f"{_KEY_DIFFERS} (anchor key id {last.key_id}, this key {self.key.key_id}): "
                f"restore the key (audit.key or {ENV_VAR}); nothing was written"
            )
        self._key_checked = True

    def anchored(self, tx: Tx) -> None:
        """After the commit of ``tx``, which moved the chain: its new head goes on file."""
        if self.anchor is not None:
            self.anchor.append(tx.tip.seq, tx.tip.hash, self.key.key_id)

    def mismatch(self, tx: Tx) -> str | None:
        """Why the chain does not hold the anchor's recent lines: fewer rows than anchored,
        another hash at an anchored seq (a tail cut and written again), another key, or a
        log with rows and no anchor line. Cheap (the file's last lines and one look-up), so
        the order path runs it for every order; ``verify`` holds the whole file."""
        if self.path is None:
            return None
        head_seq, _ = tx.start
        recent = tail_anchored(self.path)
        if not recent:
            if head_seq == 0:
                return None
            return (
                f"the audit log has {head_seq} rows but the anchor {self.path} holds "
                "none: it was emptied or removed"
            )
        if any(a.key_id != self.key.key_id for a in recent):
            return _KEY_DIFFERS
        top = max(recent, key=lambda a: a.seq)
        if head_seq < top.seq:
            return (
                f"the audit log ends at seq {head_seq} but seq {top.seq} was anchored at "
                f"{top.at}: its tail was removed"
            )
        seqs = sorted({a.seq for a in recent})
        found = dict(tx.conn.execute(_ROW_HASHES, {"seqs": seqs}).all())
        for a in recent:
            if found.get(a.seq) != a.hash:
                return (
                    f"audit row seq {a.seq} is not the one anchored at {a.at}: the log was "
                    "cut and written again"
                )
        return None
