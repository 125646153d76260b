"""Reconciliation: make the ledger agree with the broker after a restart or periodically.

Fills that happened while the desk was down are recorded once; orders the desk did not
place are recorded as external; an order another process may still be sending is left
alone for a grace period; a position difference nothing explains, or a broker report that
contradicts an order the ledger closed, puts the desk in REDUCING rather than trading on a
wrong position.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tradecrew.brokers import BrokerError
from tradecrew.desk.outcomes import ReconcileReport
from tradecrew.ledger import NotFound, contradicts
from tradecrew.models import (
    PROPOSAL_TRANSITIONS,
    IllegalTransition,
    Order,
    OrderStatus,
    ProposalStatus,
    TradingState,
    utcnow,
)
from tradecrew.risk import transition
from tradecrew.risk.gate import sync_order

if TYPE_CHECKING:
    from tradecrew.desk.service import Desk
    from tradecrew.ledger import Ledger

ACTOR = "reconciler"
_TOLERANCE = 1e-9
#: Statuses of an order whose submission may still be under way in some process.
_MAYBE_IN_FLIGHT = (OrderStatus.NEW, OrderStatus.SUBMITTED)


def reconcile(desk: Desk, now: datetime | None = None) -> ReconcileReport:
    """Compare orders, fills and positions with the broker and repair what can be explained.

    An order persisted but unknown to the broker is closed as never sent only once it is
    older than ``submit_grace_seconds``: until then another process may be sending it (the
    gate persists before it sends), and closing it would let the venue fill an order the
    ledger calls cancelled.
    """
    ledger, broker = desk.ledger, desk.broker
    grace = timedelta(seconds=desk.settings.broker.submit_grace_seconds)
    now = now or utcnow()
    report = ReconcileReport()
    for order in ledger.orders(open_only=True, broker=broker.name):
        report.checked_orders += 1
        before = ledger.fills(order.id)
        try:
            seen = broker.get_order_by_client_id(order.client_order_id)
        except BrokerError:  # the broker cannot say now: the next run asks again
            report.still_in_flight.append(order.id)
            continue
        if seen is None:
            # Unknown to the broker: never sent, unless it is young enough to be on its way.
            overdue = order.status in _MAYBE_IN_FLIGHT and now - order.created_at >= grace
            if overdue and _close_never_sent(ledger, order, grace):
                report.never_sent.append(order.id)
            else:
                report.still_in_flight.append(order.id)
            continue
        synced = sync_order(ledger, broker, order, seen, ACTOR)
        added = len(ledger.fills(order.id)) - len(before)
        report.fills_recorded += added
        if added or synced.status is not order.status:
            report.updated_orders.append(order.id)
    _adopt_external(desk, report)
    _compare_positions(desk, report)
    return report


def _close_never_sent(ledger: Ledger, order: Order, grace: timedelta) -> bool:
    """Close an order the broker does not know after the grace period; False when its own
    process settled it meanwhile (the ledger refuses to move a settled order)."""
    try:
        ledger.update_order(
            order.id,
            status=OrderStatus.CANCELLED,
            reason=(
                "never reached the broker: unknown there by its client order id "
                f"{grace.total_seconds():g} s after it was stored"
            ),
            actor=ACTOR,
        )
    except IllegalTransition:
        return False
    _fail_proposal(ledger, order.proposal_id)
    return True


def _adopt_external(desk: Desk, report: ReconcileReport) -> None:
    ledger, broker = desk.ledger, desk.broker
    try:
        at_broker = broker.orders()
    except BrokerError:
        return
    for seen in at_broker:
        try:
            known = ledger.get_order_by_client_id(seen.client_order_id)
        except NotFound:
            known = None
        if known is not None:
            if contradicts(known, seen):
                # Closed in the ledger, alive or filled at the venue: book what the venue
                # did; the ledger moves the desk to REDUCING and says which order.
                before = len(ledger.fills(known.id))
                was = ledger.get_trading_state().state
                sync_order(ledger, broker, known, seen, ACTOR)
                report.fills_recorded += len(ledger.fills(known.id)) - before
                report.contradicted_orders.append(known.id)
                if was is TradingState.ACTIVE and ledger.get_trading_state().state is (
                    TradingState.REDUCING
                ):
                    report.switched_to_reducing = True
            continue
        # Recorded as accepted with nothing filled; its fills then arrive one by one, so the
        # ledger's quantities are built from fills exactly as for the desk's own orders.
        external = seen.model_copy(
            update={
                "external": True,
                "proposal_id": None,
                "broker": broker.name,
                "status": OrderStatus.ACCEPTED,
                "filled_quantity": 0.0,
                "average_fill_price": None,
            }
        )
        stored = ledger.create_order(external, ACTOR)
        sync_order(ledger, broker, stored, seen, ACTOR)
        report.fills_recorded += len(ledger.fills(stored.id))
        report.external_orders.append(stored.id)


def _compare_positions(desk: Desk, report: ReconcileReport) -> None:
    ledger, broker = desk.ledger, desk.broker
    mine = {p.symbol: p.quantity for p in ledger.positions(broker.name)}
    theirs = {p.symbol: p.quantity for p in broker.positions()}
    for symbol in sorted(set(mine) | set(theirs)):
        a, b = mine.get(symbol, 0.0), theirs.get(symbol, 0.0)
        if abs(a - b) > _TOLERANCE * max(1.0, abs(a), abs(b)):
            report.position_mismatches[symbol] = (a, b)
    if report.contradicted_orders:
        # The ledger already moved the desk to REDUCING, with the order, as it booked them.
        state = ledger.get_trading_state()
        report.message = (
            "orders closed in the ledger but alive or filled at the broker: "
            f"{', '.join(report.contradicted_orders)}; desk is {state.state.value}"
        )
    if not report.position_mismatches:
        report.message = report.message or "ledger and broker agree"
        return
    names = ", ".join(
        f"{s} ledger {a:g} vs broker {b:g}" for s, (a, b) in report.position_mismatches.items()
    )
    report.message = "; ".join(
        m for m in (report.message, f"unexplained position differences: {names}") if m
    )
    report.message += "; desk set to REDUCING"
    current = ledger.get_trading_state().state
    if current is TradingState.ACTIVE:
        transition(current, TradingState.REDUCING, "system", report.message)
        ledger.set_trading_state(TradingState.REDUCING, report.message, "system", tripped_by=ACTOR)
        report.switched_to_reducing = True


def _fail_proposal(ledger: Ledger, proposal_id: str | None) -> None:
    """The proposal of an order that never left ends FAILED: propose it again to retry."""
    if proposal_id is None:
        return
    proposal = ledger.get_proposal(proposal_id)
    if ProposalStatus.FAILED in PROPOSAL_TRANSITIONS[proposal.status]:
        ledger.transition_proposal(
            proposal_id, ProposalStatus.FAILED, "its order never reached the broker", ACTOR
        )
