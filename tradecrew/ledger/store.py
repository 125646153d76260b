"""The Ledger: the desk's durable memory of proposals, decisions, approvals, orders and fills.

Every state change runs in one write transaction that also appends its audit row, so a
change is never visible without its audit entry and vice versa. Orders and fills live in
``_trading`` (broker reports in ``_reports``), proposals and decisions in ``_proposals``,
approvals, verdicts, trading state and runs in ``_governance``, the audit key and anchor in
``_guard``; this class is the one door to them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url

from tradecrew.ledger import _claim, _governance, _integrity, _proposals, _reports, _trading
from tradecrew.ledger import audit as _audit
from tradecrew.ledger._anchor import Anchor, anchor_path
from tradecrew.ledger._config_store import ConfigStore
from tradecrew.ledger._convert import row_values
from tradecrew.ledger._crosscheck import STATE_ACTIONS
from tradecrew.ledger._db import ensure_schema, make_engine, synced, writer
from tradecrew.ledger._guard import AuditGuard, audit_home, load_audit_key
from tradecrew.ledger._orm import AccountSnapshotRow, PositionSnapshotRow
from tradecrew.ledger._reads import LedgerReads
from tradecrew.ledger._snapshots import snapshot_mac
from tradecrew.ledger._tx import (
    Tx,
    insert_row,
    require_actor,
    require_aware,
    settled,
)
from tradecrew.ledger.errors import AuditMismatch, NotFound, TermsChanged
from tradecrew.ledger.records import (
    AgentVerdictRecord,
    Approval,
    ApprovalChannel,
    AuditEntry,
    Grant,
    PositionSnapshot,
    ProposalRecord,
    RunRecord,
    RunStatus,
    TradingStateRecord,
)
from tradecrew.models import (
    HUMAN_CHANNELS,
    Account,
    AgentVerdict,
    Fill,
    Order,
    OrderStatus,
    Proposal,
    ProposalRequest,
    ProposalStatus,
    RiskDecision,
    TradingState,
    utcnow,
)

if TYPE_CHECKING:
    from tradecrew.config import Settings


class Ledger(ConfigStore, LedgerReads):
    """Open (and migrate to the latest schema) the ledger at any SQLAlchemy URL.

    One instance is safe to share between threads of a process, and any number of processes
    may open the same SQLite file. ``sqlite://`` (in memory) is one connection: for quick,
    single-threaded use only.
    """

    def __init__(self, url: str, *, busy_timeout: float = 30.0, home: Path | None = None) -> None:
        """``home``: where the audit key and anchor files live; by default the SQLite file's
        folder, or ``TRADECREW_HOME`` for a database server (none for an in-memory ledger)."""
        self.url = url
        self._engine = make_engine(url, busy_timeout=busy_timeout)
        try:
            ensure_schema(self._engine)
            home = audit_home(url, home)
            self._key = load_audit_key(self._engine, home)
        except BaseException:
            self._engine.dispose()
            raise
        anchor = None if home is None else Anchor(anchor_path(home, url))
        self._guard = AuditGuard(self._key, anchor)
        self._anchor_path = self._guard.path
        self._writer = writer(self._engine)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Ledger:
        """The ledger under ``settings.home`` (or ``settings.database_url`` when set)."""
        if settings is None:
            from tradecrew.config import get_settings

            settings = get_settings()
        settings.ensure_home()
        return cls(settings.resolved_database_url, home=settings.home)

    def close(self) -> None:
        self._engine.dispose()
        self._guard.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Ledger({make_url(self.url).render_as_string(hide_password=True)!r})"

    @contextmanager
    def _tx(self, *, durable: bool = False) -> Iterator[Tx]:
        """A write transaction holding the audit head; a deferred refusal raises after commit.

        ``durable``: on disk (fsync) when this returns, for what must survive a power cut.
        """
        self._guard.check_key()
        with self._writer.connect() as conn, synced(conn, durable), conn.begin():
            tx = Tx(conn, _audit.lock_head(conn), self._key)
            yield tx
            moved = tx.seal()
        if moved:
            self._guard.anchored(tx)
        if tx.deferred is not None:
            raise tx.deferred

    # ------------------------------------------------------------------ proposals

    def add_proposal(self, proposal: Proposal | ProposalRequest, actor: str = "system") -> Proposal:
        """Persist a new PENDING proposal (a bare request gets an id and timestamps)."""
        with self._tx() as tx:
            return _proposals.add_proposal(tx, proposal, actor)

    def transition_proposal(
        self,
        proposal_id: str,
        new_status: ProposalStatus | str,
        reason: str = "",
        actor: str = "system",
    ) -> Proposal:
        """Move a proposal along PROPOSAL_TRANSITIONS; IllegalTransition otherwise."""
        with self._tx() as tx:
            return _proposals.transition_proposal(tx, proposal_id, new_status, reason, actor)

    def add_decided_proposal(
        self, proposal: Proposal, decision: RiskDecision, actor: str = "system"
    ) -> tuple[Proposal, RiskDecision]:
        """Persist a new proposal together with the risk engine's decision on it, VETOED when
        the decision denies it: one transaction, so no proposal is ever stored undecided."""
        with self._tx() as tx:
            stored = _proposals.add_proposal(tx, proposal, actor)
            if decision.proposal_id != stored.id:
                raise NotFound("proposal", decision.proposal_id)
            kept = _proposals.record_decision(tx, decision, "risk_engine", proposal_known=True)
            if not kept.approved:
                stored = _proposals.transition_proposal(
                    tx, stored.id, ProposalStatus.VETOED, "; ".join(kept.reasons), "risk_engine"
                )
        return stored, kept

    # ------------------------------------------------------------------ risk decisions

    def record_decision(self, decision: RiskDecision, actor: str = "risk_engine") -> RiskDecision:
        """Persist the risk engine's decision on an existing proposal."""
        with self._tx() as tx:
            return _proposals.record_decision(tx, decision, actor)

    # ------------------------------------------------------------------ approvals

    def record_approval(
        self,
        proposal_id: str,
        order_hash: str,
        actor: str,
        channel: ApprovalChannel | str,
        expires_at: datetime,
    ) -> Approval:
        """Record that ``actor`` approved exactly the order hashing to ``order_hash``."""
        with self._tx() as tx:
            return _governance.record_approval(
                tx, proposal_id, order_hash, actor, channel, expires_at
            )

    def consume_approval(
        self,
        proposal_id: str,
        order_hash: str,
        actor: str = "system",
        now: datetime | None = None,
        accepted: Collection[ApprovalChannel] = HUMAN_CHANNELS,
    ) -> Approval:
        """Use an unexpired, unused approval for these exact terms through one of the
        ``accepted`` channels, once; ApprovalError else."""
        with self._tx(durable=True) as tx:
            used = _governance.consume_approval(tx, proposal_id, order_hash, actor, now, accepted)
        return settled(used)

    # ------------------------------------------------------------------ orders and fills

    def create_order(self, order: Order, actor: str = "system") -> Order:
        """Persist before sending; the same client_order_id again returns the stored order."""
        with self._tx(durable=True) as tx:
            return _trading.create_order(tx, order, actor)

    def open_order(
        self,
        order: Order,
        order_hash: str,
        actor: str,
        now: datetime,
        *,
        accepted: Collection[ApprovalChannel],
        grant: Grant | None = None,
        recheck: Callable[[], None] | None = None,
        record: ProposalRecord | None = None,
    ) -> Order:
        """Consume the approval of ``order_hash``, persist ``order`` as NEW and move its
        proposal to SUBMITTED, in one transaction that reaches the disk before the order is
        sent. ``grant``: an approval given just now for a pending proposal, recorded (and the
        proposal moved to APPROVED) in that same transaction. Only an approval through one of
        the ``accepted`` channels (the account's allow-list) is used.

        ``recheck`` runs first, holding the ledger's write lock (SQLite ``BEGIN IMMEDIATE``,
        PostgreSQL the audit head's row lock: every other writer, in any process, waits), with
        this thread's reads of the ledger going through this transaction. It must only read;
        whatever it raises rolls everything back. So the caller's last risk check and the
        order's insert are one serialised step: no other order can be stored between them.

        A refused approval (ApprovalError, audited, raised after the commit) opens no order;
        a halted desk (TradingHalted) leaves everything as it was.

        First of all, the proposal's rows must be what the keyed audit log records and the
        chain must reach its anchor (``_integrity``): AuditMismatch otherwise. ``record``: what
        the caller decided on, which must still be those rows: TermsChanged when another
        process has changed them since (legitimately). Either way nothing is written.
        """
        pid = order.proposal_id
        if pid is None:
            raise ValueError("an order opened from an approval must name its proposal")
        with self._tx(durable=True) as tx:
            # Rows edited, added or deleted behind the log's back are not traded: whatever
            # this raises (AuditMismatch) rolls back, and the caller audits the refusal.
            problem = self._guard.mismatch(tx)
            if not problem:
                rows = _integrity.proposal_rows(tx, pid)
                problem = _integrity.proposal_mismatch(tx, rows)
            if problem:
                raise AuditMismatch(f"{problem}; run `tradecrew audit verify`")
            # Audited rows, but not the ones decided on: a re-decision or a verdict landed
            # from another process meanwhile. Nothing is sent; the person looks again.
            moved = _integrity.changed_since(record, rows) if record is not None else None
            if moved:
                raise TermsChanged(f"{moved}; review the proposal and approve again")
            if recheck is not None:
                with self._reads_through(tx.conn):
                    recheck()
            stored = _trading.open_approved(tx, order, order_hash, actor, now, accepted, grant)
        return settled(stored)

    def claim_order(self, order_id: str, actor: str) -> Order:
        """Claim a NEW desk order for sending (NEW -> SUBMITTED) right before it is sent, in
        one short transaction holding the write lock, so it is ordered with every kill-switch
        change: a halt committed first closes the order instead (CANCELLED, its proposal
        FAILED; TradingHalted raised after the commit), and an order no longer NEW raises
        OrderClosed. Not fsynced: the order itself already is, and a claim lost to a power
        cut leaves it NEW, which reconciliation looks up at the broker like a SUBMITTED one
        (a halt's own fsync makes any claim committed before it durable too)."""
        with self._tx() as tx:
            return _claim.claim_order(tx, order_id, actor)

    def close_unsent_orders(self, actor: str) -> list[Order]:
        """Under a halted desk, close the desk orders still NEW (never claimed, so never
        sent, and no longer claimable) with their proposals; [] when trading may go on."""
        with self._tx() as tx:
            return _claim.close_unsent(tx, actor)

    def apply_broker_report(
        self, order_id: str, seen: Order, fills: list[Fill], actor: str = "system"
    ) -> Order:
        """Bring an order and its proposal up to the broker's view of it in one transaction:
        its broker id, the fills not yet booked, a final or accepted status."""
        with self._tx() as tx:
            return _reports.apply_report(tx, order_id, seen, fills, actor)

    def update_order(
        self,
        order_id: str,
        *,
        status: OrderStatus | str | None = None,
        broker_order_id: str | None = None,
        reason: str = "",
        actor: str = "system",
    ) -> Order:
        """Change status (through ORDER_TRANSITIONS) and/or attach the broker's order id."""
        with self._tx() as tx:
            return _trading.update_order(tx, order_id, status, broker_order_id, reason, actor)

    def record_fill(self, fill: Fill, actor: str = "system") -> bool:
        """True if booked; False if already recorded; Overfill (audited) if it would overfill."""
        with self._tx() as tx:
            return _trading.record_fill(tx, fill, actor)

    def snapshot_positions(
        self, broker: str, marks: dict[str, float] | None = None
    ) -> list[PositionSnapshot]:
        """Store the positions of ``broker`` as they stand now, flat ones included."""
        taken_at = utcnow()
        snaps = [
            PositionSnapshot(broker=broker, taken_at=taken_at, **p.model_dump())
            for p in self.positions(broker, marks, include_flat=True)
        ]
        with self._tx() as tx:
            if snaps:
                insert_row(
                    tx.conn,
                    PositionSnapshotRow,
                    [row_values(PositionSnapshotRow, p) for p in snaps],
                )
        return snaps

    def record_account_snapshot(self, account: Account) -> Account:
        """Keep one observation of the broker account: not audited (it changes nothing),
        but MACed under the audit key, since the risk limits' baselines come from it."""
        require_aware(account.timestamp, "timestamp")
        values = row_values(AccountSnapshotRow, account)
        values["mac"] = snapshot_mac(self._key, values)
        with self._tx() as tx:
            insert_row(tx.conn, AccountSnapshotRow, values)
        return account

    # ------------------------------------------------------------------ governance

    def set_trading_state(
        self,
        state: TradingState | str,
        reason: str,
        actor: str,
        tripped_by: str | None = None,
    ) -> TradingStateRecord:
        """Switch ACTIVE / REDUCING / HALTED; the audit row lands with the change, on disk."""
        with self._tx(durable=True) as tx:
            return _governance.set_trading_state(tx, state, reason, actor, tripped_by)

    def escalate_trading_state(
        self, state: TradingState | str, reason: str, actor: str, tripped_by: str | None = None
    ) -> TradingStateRecord | None:
        """Like ``set_trading_state``, but only towards a more severe state, decided inside
        the write transaction: a halt another process committed first is never undone."""
        with self._tx(durable=True) as tx:
            return _governance.escalate_trading_state(tx, state, reason, actor, tripped_by)

    def record_verdict(self, proposal_id: str, verdict: AgentVerdict) -> AgentVerdictRecord:
        """Keep a crew agent's veto/shrink/approve beside the engine's decision."""
        with self._tx() as tx:
            return _governance.record_verdict(tx, proposal_id, verdict)

    def start_run(
        self, kind: str, detail: dict[str, Any] | None = None, actor: str = "system"
    ) -> RunRecord:
        with self._tx() as tx:
            return _governance.start_run(tx, kind, detail or {}, actor)

    def finish_run(
        self,
        run_id: str,
        status: RunStatus | str,
        summary: dict[str, Any] | None = None,
        error: str = "",
        actor: str = "system",
    ) -> RunRecord:
        with self._tx() as tx:
            return _governance.finish_run(tx, run_id, status, summary or {}, error, actor)

    # ------------------------------------------------------------------ audit

    def audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: str,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append a free-standing audit row (for events that change no ledger table)."""
        if action in STATE_ACTIONS:
            raise ValueError(f"audit action {action!r} is written only with the change it records")
        with self._tx() as tx:
            return tx.audit(require_actor(actor), action, entity, entity_id, before, after)
