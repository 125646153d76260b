"""Broker reports applied to stored orders, inside a write transaction.

Promises: ``apply_report`` brings an order and its proposal up to the broker's view of it
(broker id, fills not yet booked, a final or accepted status) without ever reopening a
closed order; a report that contradicts an order the ledger already closed is noted on the
order and moves an ACTIVE desk to REDUCING in that same transaction (``contradicts``).
"""

from __future__ import annotations

from collections.abc import Iterable

from tradecrew.ledger._convert import to_model
from tradecrew.ledger._orm import OrderRow, ProposalRow
from tradecrew.ledger._proposals import transition_proposal
from tradecrew.ledger._trading import book_fill, fill_tolerance, update_order
from tradecrew.ledger._tx import Tx, require_actor
from tradecrew.models import (
    PROPOSAL_TRANSITIONS,
    TERMINAL_ORDER_STATUSES,
    Fill,
    Order,
    OrderStatus,
    ProposalStatus,
    TradingState,
)

_ENDED_AT_BROKER = (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED)
_PROPOSAL_FOR_ORDER = {
    OrderStatus.FILLED: ProposalStatus.FILLED,
    OrderStatus.PARTIALLY_FILLED: ProposalStatus.PARTIALLY_FILLED,
    OrderStatus.CANCELLED: ProposalStatus.CANCELLED,
    OrderStatus.EXPIRED: ProposalStatus.CANCELLED,
    OrderStatus.REJECTED: ProposalStatus.FAILED,
}


def apply_report(tx: Tx, order_id: str, seen: Order, fills: Iterable[Fill], actor: str) -> Order:
    """Bring the order and its proposal up to what the broker reports (``seen``, plus the
    order's fills at the broker); fills already booked are skipped, an overfill stops here.
    A report that contradicts an order the ledger already closed moves the desk to REDUCING
    in the same transaction (``contradicts``)."""
    actor = require_actor(actor)
    order = to_model(Order, tx.get(OrderRow, order_id, "order"))
    contradicted = contradicts(order, seen)
    if seen.broker_order_id and seen.broker_order_id != order.broker_order_id:
        order = update_order(tx, order_id, None, seen.broker_order_id, "", actor, order)
    for fill in fills:
        booked = book_fill(tx, fill.model_copy(update={"order_id": order_id}), actor, order)
        if tx.deferred is not None:  # refused and audited; raised once that commits
            return order
        order = booked or order
    if (
        seen.status in _ENDED_AT_BROKER
        and order.status not in TERMINAL_ORDER_STATUSES
        and order.status is not seen.status
    ):
        order = update_order(tx, order_id, seen.status, None, seen.status_reason, actor, order)
    elif seen.status is OrderStatus.ACCEPTED and order.status in (
        OrderStatus.NEW,
        OrderStatus.SUBMITTED,
    ):
        order = update_order(tx, order_id, OrderStatus.ACCEPTED, None, "", actor, order)
    if contradicted:
        order = _contradicted(tx, order, seen, actor)
    _follow_order(tx, order, actor)
    return order


_LIVE_AT_BROKER = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED, OrderStatus.FILLED)
#: How an order the broker contradicts starts its status reason (see ``contradicts``).
CONTRADICTED = "contradicted by the broker"


def contradicts(order: Order, seen: Order) -> bool:
    """True when the broker reports alive or filled (``seen``) an order the ledger closed,
    and the ledger has not recorded that yet or the broker filled more of it since: a
    difference no later report can repair, since a closed order never reopens (typically
    one closed as never sent while its submission was still in flight)."""
    if order.status not in _ENDED_AT_BROKER or seen.status not in _LIVE_AT_BROKER:
        return False
    more = seen.filled_quantity > order.filled_quantity + fill_tolerance(order.quantity)
    return more or not order.status_reason.startswith(CONTRADICTED)


def _contradicted(tx: Tx, order: Order, seen: Order, actor: str) -> Order:
    """Say on the order that the broker contradicts it and move an ACTIVE desk to REDUCING
    (never touching HALTED). Runs once per order and again for each later fill, so a
    periodic reconciliation does not re-trip a desk a person has looked at."""
    from tradecrew.ledger._governance import get_trading_state, set_trading_state

    why = (
        f"order {order.id} ({order.client_order_id}) is {order.status.value} in the ledger "
        f"but {seen.status.value} at the broker, {seen.filled_quantity:g} of "
        f"{order.quantity:g} {order.symbol} filled"
    )
    note = f"{CONTRADICTED}: {seen.status.value} there; was: {order.status_reason or '-'}"
    if not order.status_reason.startswith(CONTRADICTED):
        order = update_order(tx, order.id, None, None, note, actor, order)
    if get_trading_state(tx.conn).state is TradingState.ACTIVE:
        set_trading_state(
            tx,
            TradingState.REDUCING,
            f"{why}; desk set to REDUCING until a person checks it",
            actor,
            tripped_by="reconciler",
        )
    return order


def _follow_order(tx: Tx, order: Order, actor: str) -> None:
    """Move the order's proposal to the status its order reached, when the lifecycle allows."""
    target = _PROPOSAL_FOR_ORDER.get(order.status)
    if order.proposal_id is None or target is None:
        return
    proposal = tx.get(ProposalRow, order.proposal_id, "proposal")
    current = ProposalStatus(proposal.status)
    if current is target and target is not ProposalStatus.PARTIALLY_FILLED:
        return
    if target in PROPOSAL_TRANSITIONS[current]:
        transition_proposal(tx, proposal.id, target, f"order {order.status.value}", actor)
