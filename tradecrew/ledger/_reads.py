"""The ledger's reads: each one runs in a single read transaction, so it sees one moment."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, Engine, func, select

from tradecrew.data.audit_key import AuditKey
from tradecrew.ledger import _governance, _proposals, _queries, _trading
from tradecrew.ledger import audit as _audit
from tradecrew.ledger._convert import to_model
from tradecrew.ledger._orm import (
    AuditRow,
    OrderRow,
    ProposalRow,
)
from tradecrew.ledger._snapshots import mac_fails
from tradecrew.ledger._tx import (
    get_or_raise,
    positive_limit,
)
from tradecrew.ledger._verify import verify as verify_audit
from tradecrew.ledger.errors import AuditMismatch, NotFound
from tradecrew.ledger.positions import positions_from_fills
from tradecrew.ledger.records import (
    AgentVerdictRecord,
    Approval,
    AuditEntry,
    AuditVerification,
    PositionSnapshot,
    ProposalRecord,
    RiskFacts,
    RunRecord,
    TradingStateRecord,
)
from tradecrew.models import (
    Account,
    Fill,
    Order,
    OrderStatus,
    Position,
    Proposal,
    ProposalStatus,
    RiskDecision,
)

#: The write transaction a thread holds while it re-checks before an order is stored, and the
#: ledger it belongs to (``LedgerReads._reads_through``).
_HELD: ContextVar[tuple[object, Connection] | None] = ContextVar("ledger_held_tx", default=None)


class LedgerReads:
    """Queries of the ledger; ``Ledger`` adds the writes and opens the engine."""

    _engine: Engine
    _key: AuditKey
    _anchor_path: Path | None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """One read transaction: several queries see the same committed state."""
        held = _HELD.get()
        if held is not None and held[0] is self:
            yield held[1]
            return
        with self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _reads_through(self, conn: Connection) -> Iterator[None]:
        """Within this block, this thread's reads of this ledger go through ``conn``, the
        write transaction it holds: the lock holder already sees the latest state, and an
        in-memory database has no second connection to read from."""
        token = _HELD.set((self, conn))
        try:
            yield
        finally:
            _HELD.reset(token)

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

    def decisions(self, proposal_id: str) -> list[RiskDecision]:
        """Every decision on the proposal, oldest first."""
        with self._read() as s:
            return _proposals.decisions(s, proposal_id)

    def latest_decision(self, proposal_id: str) -> RiskDecision | None:
        """The most recently decided one, or None if the proposal has no decision yet."""
        found = self.decisions(proposal_id)
        return found[-1] if found else None

    def approvals(self, proposal_id: str) -> list[Approval]:
        with self._read() as s:
            return _governance.approvals(s, proposal_id)

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

    def position_snapshots(
        self, broker: str | None = None, limit: int = 100
    ) -> list[PositionSnapshot]:
        q = _trading.position_snapshots_query(broker).limit(positive_limit(limit))
        with self._read() as s:
            return [to_model(PositionSnapshot, r) for r in s.execute(q)]

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
            first = s.execute(_queries.FIRST_SNAPSHOT, params).first()
            peak = s.execute(_queries.PEAK_SNAPSHOT, params).first()
            # A baseline edited in the database would loosen the daily-loss or drawdown
            # limit: refuse to judge on it (the order path turns this into a refusal).
            for row in (first, peak):
                if row is not None and mac_fails(self._key, row):
                    raise AuditMismatch(
                        f"account_snapshots row {row.seq} does not match its MAC: the "
                        "equity history was edited; run `tradecrew audit verify`"
                    )
            recent = s.scalar(_queries.ORDERS_SINCE, params)
            open_orders = s.execute(_queries.OPEN_ORDERS, {"broker": broker})
            return RiskFacts(
                trading_state=_governance.get_trading_state(s),
                orders_last_minute=int(recent or 0),
                first_equity_today=None if first is None else first.equity,
                peak_equity=None if peak is None else peak.equity,
                open_orders=[to_model(Order, r) for r in open_orders],
            )

    def latest_account_snapshot(self, broker: str | None = None) -> Account | None:
        found = self.account_snapshots(broker, limit=1)
        return found[0] if found else None

    def get_trading_state(self) -> TradingStateRecord:
        with self._read() as s:
            return _governance.get_trading_state(s)

    def verdicts(self, proposal_id: str) -> list[AgentVerdictRecord]:
        with self._read() as s:
            return _governance.verdicts(s, proposal_id)

    def get_run(self, run_id: str) -> RunRecord:
        with self._read() as s:
            return _governance.get_run(s, run_id)

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
        """Replay every keyed hash from the first row, hold the chain against the anchor
        file and the state tables against the log; every problem, one line each."""
        with self._read() as s:
            return verify_audit(s, self._key, self._anchor_path)
