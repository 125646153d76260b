"""Orders and fills inside a write transaction: idempotent creation, no duplicate fills,
no overfills, every status change through the order lifecycle table; and the queries that
read them back. Broker reports are applied in ``_reports``."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from tradecrew.ledger._convert import image, row_values, to_model
from tradecrew.ledger._crosscheck import TRADING_STATE, disagreement
from tradecrew.ledger._orm import (
    AccountSnapshotRow,
    FillRow,
    OrderRow,
    PositionSnapshotRow,
    ProposalRow,
    TradingStateRow,
)
from tradecrew.ledger._proposals import transition_proposal
from tradecrew.ledger._queries import (
    FILL_SEEN,
    OPEN_STATUSES,
    ORDER_BY_CLIENT_ID,
)
from tradecrew.ledger._tx import (
    Tx,
    fetch,
    insert_new,
    insert_row,
    require_actor,
    require_aware,
    require_length,
)
from tradecrew.ledger.audit import canonical_json, utc_stamp
from tradecrew.ledger.errors import Conflict, Overfill, TermsChanged, TradingHalted
from tradecrew.ledger.records import ApprovalChannel, Grant
from tradecrew.models import (
    TERMINAL_ORDER_STATUSES,
    Fill,
    Order,
    OrderStatus,
    ProposalStatus,
    TradingState,
    check_order_transition,
    utcnow,
)

# Fields that define what an order asks the broker to do; a replay must match them exactly.
_TERMS = (
    "proposal_id",
    "symbol",
    "side",
    "quantity",
    "order_type",
    "limit_price",
    "stop_price",
    "stop_loss",
    "take_profit",
    "time_in_force",
    "broker",
)


def fill_tolerance(quantity: float) -> float:
    return 1e-9 * max(1.0, abs(quantity))


def fill_key(fill: Fill) -> str:
    """A deterministic identity for a fill: the broker's id when given, else its content.

    Without a broker id, the same order, quantity, price and timestamp is the same fill.
    """
    if fill.broker_fill_id:
        basis = ["broker", fill.order_id, fill.broker_fill_id]
    else:
        basis = [
            "content",
            fill.order_id,
            repr(float(fill.quantity)),
            repr(float(fill.price)),
            utc_stamp(fill.timestamp),
        ]
    return hashlib.sha256(canonical_json(basis).encode("utf-8")).hexdigest()


def create_order(tx: Tx, order: Order, actor: str) -> Order:
    """Persist ``order`` (NEW unless external) or return the row already under its client id."""
    actor = require_actor(actor)
    if not order.client_order_id or len(order.client_order_id) > 64:
        raise ValueError("client_order_id must be 1 to 64 characters")
    for name in ("quantity", "limit_price", "stop_price", "stop_loss", "take_profit"):
        value = getattr(order, name)
        if value is not None and (not math.isfinite(value) or value <= 0):
            raise ValueError(f"order {name} must be a finite number above zero, got {value}")
    for name, limit in (("id", 40), ("symbol", 32), ("broker", 32), ("broker_order_id", 128)):
        require_length(getattr(order, name), name, limit)
    require_aware(order.created_at, "created_at")
    require_aware(order.updated_at, "updated_at")
    conn = tx.conn
    existing = conn.execute(
        ORDER_BY_CLIENT_ID, {"client_order_id": order.client_order_id}
    ).one_or_none()
    if existing is not None:
        kept = to_model(Order, existing)
        differs = [f for f in _TERMS if getattr(kept, f) != getattr(order, f)]
        if differs:
            raise Conflict(
                f"client_order_id {order.client_order_id!r} is already order {kept.id} "
                f"with different {', '.join(differs)}"
            )
        return kept
    if not order.external and order.status is not OrderStatus.NEW:
        raise ValueError(f"a desk order is persisted as new before sending, not {order.status}")
    if not order.external:
        # Checked inside the write transaction, so a kill switch set by another writer is
        # either seen here or comes after this order: never both "halted" and "created".
        from tradecrew.ledger._governance import get_trading_state

        # A trading-state row the audit log does not account for (edited in the database,
        # say to lift the kill switch) halts rather than trusts it.
        problem = disagreement(tx, TRADING_STATE, fetch(conn, TradingStateRow, 1))
        if problem:
            raise TradingHalted(
                f"the trading state is not the one the audit log records ({problem}); "
                "no order may be created: run `tradecrew audit verify`"
            )
        state = get_trading_state(conn)
        if state.state is TradingState.HALTED:
            raise TradingHalted(f"trading is halted ({state.reason}); no order may be created")
    if order.filled_quantity != 0.0 and not order.external:
        raise ValueError("a new order has nothing filled; fills arrive through record_fill")
    if order.proposal_id is not None:
        tx.get(ProposalRow, order.proposal_id, "proposal")
    insert_new(
        conn,
        OrderRow,
        row_values(OrderRow, order),
        f"order id {order.id!r} already exists under another client_order_id",
    )
    tx.audit(actor, "order.created", "order", order.id, None, image(order))
    return order


def open_approved(
    tx: Tx,
    order: Order,
    order_hash: str,
    actor: str,
    now: datetime,
    accepted: Collection[ApprovalChannel],
    grant: Grant | None,
) -> Order | None:
    """Record ``grant`` (its proposal moved to APPROVED) when given, consume the approval of
    ``order_hash``, then store ``order`` and move its proposal to SUBMITTED; None when the
    approval was refused (audited, raised once the transaction commits)."""
    from tradecrew.ledger._governance import consume_approval, record_approval

    pid = order.proposal_id
    if pid is None:
        raise ValueError("an order opened from an approval must name its proposal")
    if grant is not None:
        # Decided here, under the write lock: a re-decision committed by another process
        # after the person saw the terms (a shrink, a fresh size) is never approved for them.
        if grant.order_hash != order_hash:
            tx.refuse(
                TermsChanged(
                    f"the terms of proposal {pid} changed after {grant.actor} approved them "
                    f"(approved {grant.order_hash[:12]}…, now {order_hash[:12]}…); review "
                    "the proposal and approve again"
                ),
                grant.actor,
                "approval",
                pid,
                {"proposal_id": pid, "order_hash": order_hash, "approved": grant.order_hash},
            )
            return None
        record_approval(
            tx, pid, order_hash, grant.actor, grant.channel, grant.expires_at, grant.approved_at
        )
        transition_proposal(tx, pid, ProposalStatus.APPROVED, f"by {grant.actor}", grant.actor)
    if consume_approval(tx, pid, order_hash, actor, now, accepted) is None:
        return None
    stored = create_order(tx, order, actor)
    transition_proposal(tx, pid, ProposalStatus.SUBMITTED, "sending", actor)
    return stored


def update_order(
    tx: Tx,
    order_id: str,
    status: OrderStatus | str | None,
    broker_order_id: str | None,
    reason: str,
    actor: str,
    current: Order | None = None,
) -> Order:
    """Move an order through ORDER_TRANSITIONS and/or attach the broker's id (``current``:
    the order as this transaction already read it)."""
    actor = require_actor(actor)
    if status is None and broker_order_id is None and not reason:
        raise ValueError("update_order needs a status, a broker_order_id or a reason")
    before = current or to_model(Order, tx.get(OrderRow, order_id, "order"))
    changes: dict[str, Any] = {"updated_at": utcnow()}
    if status is not None:
        new = OrderStatus(status)
        if new is not before.status:
            check_order_transition(before.status, new)
            changes["status"] = new
    if broker_order_id is not None:
        require_length(broker_order_id, "broker_order_id", 128)
        if before.broker_order_id not in (None, broker_order_id):
            raise Conflict(
                f"order {order_id} already has broker id {before.broker_order_id!r}, "
                f"not {broker_order_id!r}"
            )
        changes["broker_order_id"] = broker_order_id
    if reason:
        changes["status_reason"] = reason
    after = before.model_copy(update=changes)
    _write_order(tx, after, changes)
    tx.audit(actor, "order.updated", "order", order_id, image(before), image(after))
    return after


def _write_order(tx: Tx, order: Order, changes: dict[str, Any]) -> None:
    values = {k: v.value if isinstance(v, OrderStatus) else v for k, v in changes.items()}
    tx.update(OrderRow, order.id, **values)


def _check_fill_matches(fill: Fill, order: Order) -> None:
    for name in ("quantity", "price", "commission"):
        if not math.isfinite(getattr(fill, name)):
            raise ValueError(f"fill {name} must be finite, got {getattr(fill, name)}")
    require_aware(fill.timestamp, "fill timestamp")
    require_length(fill.broker_fill_id, "broker_fill_id", 128)
    require_length(fill.id, "fill id", 40)
    if fill.client_order_id != order.client_order_id:
        raise ValueError(
            f"fill names client order {fill.client_order_id!r} but order {order.id} is "
            f"{order.client_order_id!r}"
        )
    if fill.symbol.upper() != order.symbol.upper() or fill.side is not order.side:
        raise ValueError(
            f"fill {fill.side.value} {fill.symbol} does not match order {order.id} "
            f"({order.side.value} {order.symbol})"
        )


def record_fill(tx: Tx, fill: Fill, actor: str) -> bool:
    """Record ``fill`` once and roll it into its order; False if it was already recorded."""
    return book_fill(tx, fill, actor) is not None


def book_fill(tx: Tx, fill: Fill, actor: str, current: Order | None = None) -> Order | None:
    """Record ``fill`` once and roll it into its order; the order after it, or None when the
    fill was already recorded (or refused as an overfill, raised once its audit commits)."""
    actor = require_actor(actor)
    conn = tx.conn
    if current is None or current.id != fill.order_id:
        current = to_model(Order, tx.get(OrderRow, fill.order_id, "order"))
    _check_fill_matches(fill, current)
    key = fill_key(fill)
    seen = conn.execute(FILL_SEEN, {"fill_key": key, "fill_id": fill.id}).first()
    if seen is not None:
        if seen.fill_key != key:
            raise Conflict(f"fill id {fill.id!r} is already recorded with other content")
        return None
    before = current
    tol = fill_tolerance(before.quantity)
    new_filled = before.filled_quantity + fill.quantity
    if new_filled > before.quantity + tol:
        tx.refuse(
            Overfill(
                f"fill of {fill.quantity} on order {before.id} would fill {new_filled} of "
                f"{before.quantity}; refused"
            ),
            actor,
            "fill",
            fill.id,
            image(fill),
        )
        return None
    old_value = before.filled_quantity * (before.average_fill_price or 0.0)
    changes: dict[str, Any] = {
        "average_fill_price": (old_value + fill.quantity * fill.price)
        / (before.filled_quantity + fill.quantity),
        "filled_quantity": min(new_filled, before.quantity),
        "updated_at": utcnow(),
    }
    status = (
        OrderStatus.FILLED if new_filled >= before.quantity - tol else OrderStatus.PARTIALLY_FILLED
    )
    # A fill is an economic fact: one arriving after a cancel is still booked, status kept.
    if before.status not in TERMINAL_ORDER_STATUSES:
        check_order_transition(before.status, status)
        changes["status"] = status
    after = before.model_copy(update=changes)
    _write_order(tx, after, changes)
    insert_row(
        conn,
        FillRow,
        row_values(FillRow, fill, symbol=before.symbol, fill_key=key, recorded_at=utcnow()),
    )
    tx.audit(actor, "fill.recorded", "fill", fill.id, None, {**image(fill), "fill_key": key})
    tx.audit(actor, "order.filled", "order", before.id, image(before), image(after))
    return after


def fills_query(order_id: str | None, broker: str | None) -> Select[Any]:
    """Fills in booking order (timestamp, then arrival), optionally for one order/broker."""
    fills, orders = FillRow.__table__, OrderRow.__table__
    q = select(fills)
    if order_id is not None:
        q = q.where(fills.c.order_id == order_id)
    if broker is not None:
        q = q.join(orders, orders.c.id == fills.c.order_id).where(orders.c.broker == broker)
    return q.order_by(fills.c.timestamp, fills.c.seq)


def orders_query(
    status: OrderStatus | str | None,
    open_only: bool,
    proposal_id: str | None,
    broker: str | None,
    since: datetime | None = None,
) -> Select[Any]:
    """Orders oldest first, filtered by status, openness, proposal, broker and creation time."""
    t = OrderRow.__table__
    q = select(t)
    if since is not None:
        q = q.where(t.c.created_at >= since)
    if status is not None:
        q = q.where(t.c.status == OrderStatus(status).value)
    if open_only:
        q = q.where(t.c.status.in_(OPEN_STATUSES))
    if proposal_id is not None:
        q = q.where(t.c.proposal_id == proposal_id)
    if broker is not None:
        q = q.where(t.c.broker == broker)
    return q.order_by(t.c.created_at, t.c.id)


def position_snapshots_query(broker: str | None) -> Select[Any]:
    """Position snapshots, newest first."""
    t = PositionSnapshotRow.__table__
    q = select(t).order_by(t.c.seq.desc())
    return q if broker is None else q.where(t.c.broker == broker)


def account_snapshots_query(broker: str | None) -> Select[Any]:
    """Account snapshots, newest first."""
    t = AccountSnapshotRow.__table__
    q = select(t).order_by(t.c.timestamp.desc(), t.c.seq.desc())
    return q if broker is None else q.where(t.c.broker == broker)
