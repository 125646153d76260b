"""Statements the desk runs on every trade, built once with bound parameters.

Building a statement costs about as much as running it on SQLite; these run several times
per proposal, so they are built at import and only their parameters change.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, or_, select, update

from tradecrew.ledger._orm import (
    AccountSnapshotRow,
    AgentVerdictRow,
    ApprovalRow,
    FillRow,
    OrderRow,
    RiskDecisionRow,
)
from tradecrew.models import TERMINAL_ORDER_STATUSES, OrderStatus

_approvals = ApprovalRow.__table__
_decisions = RiskDecisionRow.__table__
_verdicts = AgentVerdictRow.__table__
_orders = OrderRow.__table__
_fills = FillRow.__table__
_snapshots = AccountSnapshotRow.__table__

#: Order statuses that are not final; listed (not "not final") so the status index serves.
OPEN_STATUSES = [s.value for s in OrderStatus if s not in TERMINAL_ORDER_STATUSES]

#: Decisions on ``proposal_id``, in recording order.
DECISIONS_OF = (
    select(_decisions)
    .where(_decisions.c.proposal_id == bindparam("proposal_id"))
    .order_by(_decisions.c.seq)
)
#: Agent verdicts on ``proposal_id``, oldest first.
VERDICTS_OF = (
    select(_verdicts)
    .where(_verdicts.c.proposal_id == bindparam("proposal_id"))
    .order_by(_verdicts.c.created_at, _verdicts.c.id)
)
#: Orders of ``proposal_id``, oldest first.
ORDERS_OF = (
    select(_orders)
    .where(_orders.c.proposal_id == bindparam("proposal_id"))
    .order_by(_orders.c.created_at, _orders.c.id)
)
#: Fills of the orders ``order_ids``, in booking order.
FILLS_OF = (
    select(_fills)
    .where(_fills.c.order_id.in_(bindparam("order_ids", expanding=True)))
    .order_by(_fills.c.timestamp, _fills.c.seq)
)
#: ``broker``'s orders not in a terminal status, oldest first.
OPEN_ORDERS = (
    select(_orders)
    .where(
        _orders.c.broker == bindparam("broker"),
        _orders.c.status.in_(OPEN_STATUSES),
    )
    .order_by(_orders.c.created_at, _orders.c.id)
)
#: How many of the desk's own orders ``broker`` received after ``since`` (not external ones,
#: which include the venue's stop-loss/take-profit legs of those orders: one trade, one order).
ORDERS_SINCE = select(func.count()).where(
    _orders.c.broker == bindparam("broker"),
    _orders.c.created_at > bindparam("since"),
    _orders.c.external.is_(False),
)
#: ``broker``'s first equity observation at or after ``day_start`` (rows with a MAC; the
#: caller checks it).
FIRST_SNAPSHOT = (
    select(_snapshots)
    .where(
        _snapshots.c.broker == bindparam("broker"),
        _snapshots.c.timestamp >= bindparam("day_start"),
        _snapshots.c.mac.is_not(None),
    )
    .order_by(_snapshots.c.timestamp, _snapshots.c.seq)
    .limit(1)
)
#: ``broker``'s highest equity observation (rows with a MAC; the caller checks it).
PEAK_SNAPSHOT = (
    select(_snapshots)
    .where(_snapshots.c.broker == bindparam("broker"), _snapshots.c.mac.is_not(None))
    .order_by(_snapshots.c.equity.desc(), _snapshots.c.seq)
    .limit(1)
)
#: Approvals of ``proposal_id``, newest first.
APPROVALS_NEWEST_FIRST = (
    select(_approvals)
    .where(_approvals.c.proposal_id == bindparam("proposal_id"))
    .order_by(_approvals.c.approved_at.desc(), _approvals.c.id.desc())
)
#: Use approval ``approval_id`` (``consumed_at``, ``consumed_by``) if nobody has yet: the
#: database, not the process, decides who wins.
CONSUME_APPROVAL = update(_approvals).where(
    _approvals.c.id == bindparam("approval_id"), _approvals.c.consumed_at.is_(None)
)
#: The order under client order id ``client_order_id``.
ORDER_BY_CLIENT_ID = select(_orders).where(
    _orders.c.client_order_id == bindparam("client_order_id")
)
#: A booked fill with the key ``fill_key`` or the id ``fill_id``.
FILL_SEEN = select(_fills.c.fill_key).where(
    or_(_fills.c.fill_key == bindparam("fill_key"), _fills.c.id == bindparam("fill_id"))
)
#: The recording number of the last risk decision.
LAST_DECISION_SEQ = select(func.max(_decisions.c.seq))
