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
from tradecrew.desk.gate import DESK_ID_PREFIX, sync_order
from tradecrew.desk.outcomes import ReconcileReport
from tradecrew.ledger import LedgerError, NotFound, contradicts
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

if TYPE_CHECKING:
    from tradecrew.desk.service import Desk
    from tradecrew.ledger import Ledger

ACTOR = "reconciler"
_TOLERANCE = 1e-9
#: The longest client order id the ledger stores (a venue may accept longer ones: Alpaca 128).
MAX_CLIENT_ID = 64
#: Statuses of an order whose submission may still be under way in some process (NEW: its
#: sender may yet claim and send it; SUBMITTED: claimed, so maybe on its way; the states are
#: described with ``models.ORDER_TRANSITIONS``).
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
    _cancel_under_halt(desk, report)
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
        if not 1 <= len(seen.client_order_id) <= MAX_CLIENT_ID:
            # Kept out rather than stored under another id: every later look-up at the broker
            # and every fill goes by this id. Its fills still show, as a position difference.
            report.unrecorded_orders.append(
                f"{_named(seen)}: a client order id of {len(seen.client_order_id)} characters "
                f"(the ledger holds 1 to {MAX_CLIENT_ID})"
            )
            continue
        try:
            _adopt_one(desk, seen, report)
        except (LedgerError, ValueError) as exc:  # one odd order must not stop the others
            report.unrecorded_orders.append(f"{_named(seen)}: {exc}")
        if _lost_desk_order(ledger, seen.client_order_id):
            _flag_lost(desk, seen, report)


def _lost_desk_order(ledger: Ledger, client_id: str) -> bool:
    """An id of the desk's own form (``client_order_id``) the ledger did not know: the desk
    placed it and the ledger lost it (rows deleted, or a backup restored over newer ones),
    unless it is the venue's leg of a desk order the ledger still holds."""
    return client_id.startswith(DESK_ID_PREFIX) and not _is_bracket_leg(ledger, client_id)


def _flag_lost(desk: Desk, seen: Order, report: ReconcileReport) -> None:
    """Name the order and move an ACTIVE desk to REDUCING until a person looks."""
    why = (
        f"{_named(seen)} has the desk's client id {seen.client_order_id} but the ledger had "
        "no record of it: the desk placed it and the ledger lost it"
    )
    report.lost_orders.append(why)
    current = desk.ledger.get_trading_state().state
    if current is TradingState.ACTIVE:
        reason = f"{why}; desk set to REDUCING until a person checks the ledger"
        transition(current, TradingState.REDUCING, "system", reason)
        desk.ledger.set_trading_state(TradingState.REDUCING, reason, "system", tripped_by=ACTOR)
        report.switched_to_reducing = True


def _named(seen: Order) -> str:
    """An order at the broker by the venue's own id: its client id may be anyone's text."""
    return f"broker order {seen.broker_order_id or '(no id)'} ({seen.side.value} {seen.symbol})"


def _adopt_one(desk: Desk, seen: Order, report: ReconcileReport) -> None:
    """Record one order the desk did not place, with the fills the broker reports for it."""
    ledger, broker = desk.ledger, desk.broker
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
    if _is_bracket_leg(ledger, seen.client_order_id):
        report.bracket_legs.append(stored.id)
    else:
        report.external_orders.append(stored.id)


def _is_bracket_leg(ledger: Ledger, client_order_id: str) -> bool:
    """A venue's own stop-loss/take-profit leg of a desk order (``<entry id>-sl``/``-tp``):
    recorded like an external order (no proposal of its own), but not reported as one."""
    entry, _, leg = client_order_id.rpartition("-")
    if leg not in ("sl", "tp") or not entry:
        return False
    try:
        parent = ledger.get_order_by_client_id(entry)
    except NotFound:
        return False
    return not parent.external


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
    if report.lost_orders:
        report.message = "; ".join(m for m in (report.message, *report.lost_orders) if m)
    if report.unrecorded_orders:
        found = "; ".join(report.unrecorded_orders)
        report.message = "; ".join(
            m
            for m in (report.message, f"orders at the broker the ledger cannot record: {found}")
            if m
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


#: Statuses of an order the broker holds as working (synced above, so the ledger agrees).
_WORKING = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
_HALT_CANCEL = "the desk is halted: cancelled at the broker by reconciliation"


def _cancel_under_halt(desk: Desk, report: ReconcileReport) -> None:
    """A halted desk has no working orders. A desk order (or its bracket leg) found working
    now was claimed before the halt and reached the broker after the kill switch's own
    cancel (its sender died, or could not cancel it): it is cancelled here, and reported."""
    ledger = desk.ledger
    if ledger.get_trading_state().state is not TradingState.HALTED:
        return
    working = [
        o
        for o in ledger.orders(open_only=True, broker=desk.broker.name)
        if o.status in _WORKING and (not o.external or _is_bracket_leg(ledger, o.client_order_id))
    ]
    for order in working:
        outcome = desk.cancel_order(order.id, ACTOR)
        report.cancel_failed.update(outcome.failed)
        if order.id in outcome.cancelled:
            report.cancelled_under_halt.append(order.id)
            if ledger.get_order(order.id).status is OrderStatus.CANCELLED:
                ledger.update_order(order.id, reason=_HALT_CANCEL, actor=ACTOR)
    notes = []
    if report.cancelled_under_halt:
        notes.append(
            "desk halted: cancelled orders working at the broker: "
            + ", ".join(report.cancelled_under_halt)
        )
    if report.cancel_failed:
        failed = "; ".join(f"{oid} ({why})" for oid, why in report.cancel_failed.items())
        notes.append(
            f"desk halted, but orders working at the broker could not be cancelled: {failed}"
        )
    if notes:
        kept = [] if report.message == "ledger and broker agree" else [report.message]
        report.message = "; ".join(kept + notes)


def _fail_proposal(ledger: Ledger, proposal_id: str | None) -> None:
    """The proposal of an order that never left ends FAILED: propose it again to retry."""
    if proposal_id is None:
        return
    proposal = ledger.get_proposal(proposal_id)
    if ProposalStatus.FAILED in PROPOSAL_TRANSITIONS[proposal.status]:
        ledger.transition_proposal(
            proposal_id, ProposalStatus.FAILED, "its order never reached the broker", ACTOR
        )


def worth_telling(report: ReconcileReport) -> bool:
    """Whether a reconciliation found something a person should hear about."""
    return bool(
        report.failed
        or report.position_mismatches
        or report.external_orders
        or report.unrecorded_orders
        or report.never_sent
        or report.contradicted_orders
        or report.lost_orders
        or report.cancelled_under_halt
        or report.cancel_failed
    )


def reconcile_safely(desk: Desk, reraise: tuple[type[BaseException], ...] = ()) -> ReconcileReport:
    """Reconcile without ever keeping the desk from opening: the kill switch must work
    whatever the broker reports. A broker out of reach is only reported (the next run asks
    again, and nothing can be sent meanwhile); any other failure means the ledger could not
    be checked against the broker, so an ACTIVE desk moves to REDUCING with the reason: it
    may lower risk, not add to it, until a person has looked. ``reraise``: errors the caller
    handles itself (a command that needs the broker anyway ends on an outage)."""
    try:
        return desk.reconcile()
    except reraise:
        raise
    except BrokerError as exc:
        why = f"the broker did not answer: {exc}"
        return ReconcileReport(failed=why, message=f"reconciliation did not finish: {why}")
    except Exception as exc:  # whatever it is, the desk still opens (the kill switch works)
        why = f"{type(exc).__name__}: {exc}"
    reason = f"reconciliation failed, the ledger is unchecked against the broker: {why}"
    report = ReconcileReport(failed=why, message=reason)
    try:
        current = desk.ledger.get_trading_state().state
        if current is TradingState.ACTIVE:
            transition(current, TradingState.REDUCING, "system", reason)
            desk.ledger.set_trading_state(TradingState.REDUCING, reason, "system", tripped_by=ACTOR)
            report.switched_to_reducing = True
            report.message += "; desk set to REDUCING"
    except Exception as exc:  # a ledger that cannot even record this: say so, still open
        report.message += f"; the desk could not be set to REDUCING ({type(exc).__name__}: {exc})"
    return report
