"""Reconciliation: make the ledger agree with the broker after a restart or periodically.

Fills that happened while the desk was down are recorded once; orders the desk did not
place are recorded as external; a position difference nothing explains puts the desk in
REDUCING rather than trading on a wrong position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecrew.brokers import BrokerError
from tradecrew.desk.outcomes import ReconcileReport
from tradecrew.ledger import NotFound
from tradecrew.models import PROPOSAL_TRANSITIONS, OrderStatus, ProposalStatus, TradingState
from tradecrew.risk import transition
from tradecrew.risk.gate import sync_order

if TYPE_CHECKING:
    from tradecrew.desk.service import Desk
    from tradecrew.ledger import Ledger

ACTOR = "reconciler"
_TOLERANCE = 1e-9


def reconcile(desk: Desk) -> ReconcileReport:
    """Compare orders, fills and positions with the broker and repair what can be explained."""
    ledger, broker = desk.ledger, desk.broker
    report = ReconcileReport()
    for order in ledger.orders(open_only=True, broker=broker.name):
        report.checked_orders += 1
        before = ledger.fills(order.id)
        seen = broker.get_order_by_client_id(order.client_order_id)
        if seen is None:
            if order.status is OrderStatus.NEW:
                # Persisted but never sent (the process stopped before sending): close it.
                ledger.update_order(
                    order.id,
                    status=OrderStatus.CANCELLED,
                    reason="never reached the broker",
                    actor=ACTOR,
                )
                _fail_proposal(ledger, order.proposal_id)
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


def _adopt_external(desk: Desk, report: ReconcileReport) -> None:
    ledger, broker = desk.ledger, desk.broker
    try:
        at_broker = broker.orders()
    except BrokerError:
        return
    for seen in at_broker:
        try:
            ledger.get_order_by_client_id(seen.client_order_id)
            continue
        except NotFound:
            pass
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
    if not report.position_mismatches:
        report.message = "ledger and broker agree"
        return
    names = ", ".join(
        f"{s} ledger {a:g} vs broker {b:g}" for s, (a, b) in report.position_mismatches.items()
    )
    report.message = f"unexplained position differences: {names}; desk set to REDUCING"
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
