"""The Ledger: the desk's durable memory of proposals, decisions, approvals, orders and fills.

Every state change runs in one write transaction that also appends its audit row, so a
change is never visible without its audit entry and vice versa. Orders and fills live in
``_trading``, proposals and decisions in ``_proposals``, approvals, verdicts, trading state
and runs in ``_governance``; this class is the one door to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select
from sqlalchemy.engine import make_url

from tradecrew.ledger import _governance, _proposals, _queries, _trading
from tradecrew.ledger import audit as _audit
from tradecrew.ledger._convert import row_values, to_model
from tradecrew.ledger._db import ensure_schema, make_engine, synced, writer
from tradecrew.ledger._orm import (
    AccountSnapshotRow,
    AuditRow,
    OrderRow,
    PositionSnapshotRow,
    ProposalRow,
)
from tradecrew.ledger._tx import (
    Tx,
    get_or_raise,
    insert_row,
    positive_limit,
    require_actor,
    require_aware,
    settled,
)
from tradecrew.ledger.errors import NotFound
from tradecrew.ledger.positions import positions_from_fills
from tradecrew.ledger.records import (
    AgentVerdict,
    Approval,
    ApprovalChannel,
    AuditEntry,
    AuditVerification,
    Grant,
    PositionSnapshot,
    ProposalRecord,
    RiskFacts,
    RunRecord,
    RunStatus,
    TradingStateRecord,
    Verdict,
)
from tradecrew.models import (
    Account,
    Fill,
    Order,
    OrderStatus,
    Position,
    Proposal,
    ProposalRequest,
    ProposalStatus,
    RiskDecision,
    TradingState,
    utcnow,
)

if TYPE_CHECKING:
    from tradecrew.config import Settings


class Ledger:
    """Open (and migrate to the latest schema) the ledger at any SQLAlchemy URL.

    One instance is safe to share between threads of a process, and any number of processes
    may open the same SQLite file. ``sqlite://`` (in memory) is one connection: for quick,
    single-threaded use only.
    """

    def __init__(self, url: str, *, busy_timeout: float = 30.0) -> None:
        self.url = url
        self._engine = make_engine(url, busy_timeout=busy_timeout)
        try:
            ensure_schema(self._engine)
        except BaseException:
            self._engine.dispose()
            raise
        self._writer = writer(self._engine)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Ledger:
        """The ledger under ``settings.home`` (or ``settings.database_url`` when set)."""
        if settings is None:
            from tradecrew.config import get_settings

            settings = get_settings()
        settings.ensure_home()
        return cls(settings.resolved_database_url)

    def close(self) -> None:
        self._engine.dispose()

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
        with self._writer.connect() as conn, synced(conn, durable), conn.begin():
            tx = Tx(conn, _audit.lock_head(conn))
            yield tx
            tx.seal()
        if tx.deferred is not None:
            raise tx.deferred

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read transaction: several queries see the same committed state."""
        with self._engine.connect() as conn:
            yield conn

    # ------------------------------------------------------------------ proposals

    def add_proposal(self, proposal: Proposal | ProposalRequest, actor: str = "system") -> Proposal:
        """Persist a new PENDING proposal (a bare request gets an id and timestamps)."""
        with self._tx() as tx:
            return _proposals.add_proposal(tx, proposal, actor)

    def get_proposal(self, proposal_id: str) -> Proposal:
        with self._read() as s:
            return to_model(Proposal, get_or_raise(s, ProposalRow, proposal_id, "proposal"))

    def list_proposals(
        self, status: ProposalStatus | str | None = None, limit: int = 100
    ) -> list[Proposal]:
        """Newest first, optionally only those in ``status``."""
        q = _proposals.proposals_query(status).limit(positive_limit(limit))
        with self._read() as s:
            return [to_model(Proposal, r) for r in s.execute(q)]

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

    def proposal_record(self, proposal_id: str) -> ProposalRecord:
        """The proposal with its decisions, verdicts, orders and their fills, all as of one
        moment (a reader never sees an order without the status change that came with it)."""
        with self._read() as s:
            proposal = to_model(Proposal, get_or_raise(s, ProposalRow, proposal_id, "proposal"))
            key = {"proposal_id": proposal_id}
            orders = [to_model(Order, r) for r in s.execute(_queries.ORDERS_OF, key)]
            fills = []
            if orders:
                ids = {"order_ids": [o.id for o in orders]}
                fills = [to_model(Fill, r) for r in s.execute(_queries.FILLS_OF, ids)]
            return ProposalRecord(
                proposal=proposal,
                decisions=_proposals.decisions_of(s, proposal_id),
                verdicts=_governance.verdicts_of(s, proposal_id),
                orders=orders,
                fills=fills,
            )

    # ------------------------------------------------------------------ risk decisions

    def record_decision(self, decision: RiskDecision, actor: str = "risk_engine") -> RiskDecision:
        """Persist the risk engine's decision on an existing proposal."""
        with self._tx() as tx:
            return _proposals.record_decision(tx, decision, actor)

    def decisions(self, proposal_id: str) -> list[RiskDecision]:
        """Every decision on the proposal, oldest first."""
        with self._read() as s:
            return _proposals.decisions(s, proposal_id)

    def latest_decision(self, proposal_id: str) -> RiskDecision | None:
        """The most recently decided one, or None if the proposal has no decision yet."""
        found = self.decisions(proposal_id)
        return found[-1] if found else None

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
    ) -> Approval:
        """Use an unexpired, unused approval for these exact terms, once; ApprovalError else."""
        with self._tx(durable=True) as tx:
            used = _governance.consume_approval(tx, proposal_id, order_hash, actor, now)
        return settled(used)

    def approvals(self, proposal_id: str) -> list[Approval]:
        with self._read() as s:
            return _governance.approvals(s, proposal_id)

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
        human_only: bool,
        grant: Grant | None = None,
    ) -> Order:
        """Consume the approval of ``order_hash``, persist ``order`` as NEW and move its
        proposal to SUBMITTED, in one transaction that reaches the disk before the order is
        sent. ``grant``: an approval given just now for a pending proposal, recorded (and the
        proposal moved to APPROVED) in that same transaction.

        A refused approval (ApprovalError, audited, raised after the commit) opens no order;
        a halted desk (TradingHalted) leaves everything as it was.
        """
        pid = order.proposal_id
        if pid is None:
            raise ValueError("an order opened from an approval must name its proposal")
        with self._tx(durable=True) as tx:
            if grant is not None:
                _governance.record_approval(
                    tx, pid, order_hash, grant.actor, grant.channel, grant.expires_at
                )
                _proposals.transition_proposal(
                    tx, pid, ProposalStatus.APPROVED, f"by {grant.actor}", grant.actor
                )
            used = _governance.consume_approval(tx, pid, order_hash, actor, now, human_only)
            stored = None
            if used is not None:
                stored = _trading.create_order(tx, order, actor)
                _proposals.transition_proposal(tx, pid, ProposalStatus.SUBMITTED, "sending", actor)
        return settled(stored)

    def apply_broker_report(
        self, order_id: str, seen: Order, fills: list[Fill], actor: str = "system"
    ) -> Order:
        """Bring an order and its proposal up to the broker's view of it in one transaction:
        its broker id, the fills not yet booked, a final or accepted status."""
        with self._tx() as tx:
            return _trading.apply_report(tx, order_id, seen, fills, actor)

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

    def get_order(self, order_id: str) -> Order:
        with self._read() as s:
            return to_model(Order, get_or_raise(s, OrderRow, order_id, "order"))

    def get_order_by_client_id(self, client_order_id: str) -> Order:
        with self._read() as s:
            key = {"client_order_id": client_order_id}
            row = s.execute(_queries.ORDER_BY_CLIENT_ID, key).one_or_none()
            if row is None:
                raise NotFound("client order", client_order_id)
            return to_model(Order, row)

    def orders(
        self,
        status: OrderStatus | str | None = None,
        open_only: bool = False,
        *,
        proposal_id: str | None = None,
        broker: str | None = None,
        since: datetime | None = None,
    ) -> list[Order]:
        """Orders oldest first; ``open_only`` keeps those not in a terminal status."""
        q = _trading.orders_query(status, open_only, proposal_id, broker, since)
        with self._read() as s:
            return [to_model(Order, r) for r in s.execute(q)]

    def open_orders(self, broker: str | None = None) -> list[Order]:
        return self.orders(open_only=True, broker=broker)

    def fills(self, order_id: str | None = None, *, broker: str | None = None) -> list[Fill]:
        """Fills in booking order (timestamp, then arrival)."""
        with self._read() as s:
            if order_id is not None:
                get_or_raise(s, OrderRow, order_id, "order")
            return [to_model(Fill, r) for r in s.execute(_trading.fills_query(order_id, broker))]

    def positions(
        self,
        broker: str | None = None,
        marks: dict[str, float] | None = None,
        include_flat: bool = False,
    ) -> list[Position]:
        """Positions rebuilt from the fills of one broker account (or all fills if None)."""
        return positions_from_fills(self.fills(broker=broker), marks, include_flat)

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

    def position_snapshots(
        self, broker: str | None = None, limit: int = 100
    ) -> list[PositionSnapshot]:
        q = _trading.position_snapshots_query(broker).limit(positive_limit(limit))
        with self._read() as s:
            return [to_model(PositionSnapshot, r) for r in s.execute(q)]

    def record_account_snapshot(self, account: Account) -> Account:
        """Keep one observation of the broker account (not audited: it changes nothing)."""
        require_aware(account.timestamp, "timestamp")
        with self._tx() as tx:
            insert_row(tx.conn, AccountSnapshotRow, row_values(AccountSnapshotRow, account))
        return account

    def account_snapshots(self, broker: str | None = None, limit: int = 100) -> list[Account]:
        """Newest first."""
        q = _trading.account_snapshots_query(broker).limit(positive_limit(limit))
        with self._read() as s:
            return [to_model(Account, r) for r in s.execute(q)]

    def risk_facts(self, broker: str, since: datetime, day_start: datetime) -> RiskFacts:
        """The trading state, how many orders ``broker`` got after ``since``, its open orders,
        its first equity since ``day_start`` and its peak equity, read in one transaction."""
        with self._read() as s:
            params = {"broker": broker, "since": since, "day_start": day_start}
            marks = s.execute(_queries.ACCOUNT_FACTS, params).one()
            open_orders = s.execute(_queries.OPEN_ORDERS, {"broker": broker})
            return RiskFacts(
                trading_state=_governance.get_trading_state(s),
                orders_last_minute=int(marks.recent_orders or 0),
                first_equity_today=marks.first_equity,
                peak_equity=marks.peak_equity,
                open_orders=[to_model(Order, r) for r in open_orders],
            )

    def latest_account_snapshot(self, broker: str | None = None) -> Account | None:
        found = self.account_snapshots(broker, limit=1)
        return found[0] if found else None

    # ------------------------------------------------------------------ governance

    def get_trading_state(self) -> TradingStateRecord:
        with self._read() as s:
            return _governance.get_trading_state(s)

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

    def record_verdict(
        self,
        proposal_id: str,
        agent: str,
        verdict: Verdict | str,
        quantity: float | None = None,
        reason: str = "",
    ) -> AgentVerdict:
        """Keep a crew agent's veto/shrink/approve beside the engine's decision."""
        with self._tx() as tx:
            return _governance.record_verdict(tx, proposal_id, agent, verdict, quantity, reason)

    def verdicts(self, proposal_id: str) -> list[AgentVerdict]:
        with self._read() as s:
            return _governance.verdicts(s, proposal_id)

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

    def get_run(self, run_id: str) -> RunRecord:
        with self._read() as s:
            return _governance.get_run(s, run_id)

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
        with self._tx() as tx:
            return tx.audit(require_actor(actor), action, entity, entity_id, before, after)

    def audit_log(
        self, limit: int = 100, *, entity: str | None = None, entity_id: str | None = None
    ) -> list[AuditEntry]:
        """The most recent rows, newest first, optionally about one entity."""
        t = AuditRow.__table__
        q = select(t).order_by(t.c.seq.desc())
        if entity is not None:
            q = q.where(t.c.entity == entity)
        if entity_id is not None:
            q = q.where(t.c.entity_id == entity_id)
        with self._read() as s:
            return [_audit.to_entry(r) for r in s.execute(q.limit(positive_limit(limit)))]

    def audit_count(self) -> int:
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(AuditRow)) or 0)

    def verify_audit_chain(self) -> AuditVerification:
        """Replay every hash from the first row; report the first broken seq and why."""
        with self._read() as s:
            return _audit.verify(s)
