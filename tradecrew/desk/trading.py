"""The desk's trading state: the kill switch, risk-driven escalation, cancels, risk status.

Functions take the ``Desk`` whose ledger and broker they act on; ``Desk``'s public methods
delegate here. A halt closes unsent orders and cancels the rest under the desk's trading
lock; a tripped limit only ever escalates the state, never relaxes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecrew.brokers import BrokerError, UnknownOrder
from tradecrew.desk import notify
from tradecrew.desk.gate import sync_order
from tradecrew.desk.outcomes import CancelOutcome, RiskStatus
from tradecrew.ledger import ApprovalChannel, NotFound
from tradecrew.models import IllegalTransition, Order, OrderStatus, TradingState
from tradecrew.risk import RiskContext, currency_exposures, required_state, transition

if TYPE_CHECKING:
    from tradecrew.desk.service import Desk

_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def apply_required_state(desk: Desk, ctx: RiskContext) -> None:
    """A tripped limit only ever escalates the state (to REDUCING); never relaxes it."""
    target = required_state(ctx)
    if target is None:
        return
    current = desk.ledger.get_trading_state().state
    if _SEVERITY[current] >= _SEVERITY[target]:
        return
    try:
        transition(current, target, "system", "risk limit tripped")
        desk.ledger.set_trading_state(
            target,
            "risk limit tripped (daily loss or drawdown)",
            "system",
            tripped_by="risk_engine",
        )
        notify.state_changed(
            desk, current, target, "risk limit tripped (daily loss or drawdown)", "risk_engine"
        )
    except IllegalTransition:
        pass  # another caller moved the state meanwhile; the next decision sees it


def find_order(desk: Desk, order_id: str) -> Order:
    """The order by desk id, else by client order id."""
    try:
        return desk.ledger.get_order(order_id)
    except NotFound:
        return desk.ledger.get_order_by_client_id(order_id)


def cancel_orders(desk: Desk, orders: list[Order], actor: str) -> CancelOutcome:
    """Ask the broker to cancel each order and record what it then reports."""
    out = CancelOutcome(mode=desk.mode)
    for order in orders:
        try:
            desk.broker.cancel(order.client_order_id)
            seen = desk.broker.get_order_by_client_id(order.client_order_id)
            if seen is not None:
                sync_order(desk.ledger, desk.broker, order, seen, actor)
            out.cancelled.append(order.id)
        except UnknownOrder as exc:
            out.failed[order.id] = str(exc)
            if order.status in (OrderStatus.NEW, OrderStatus.SUBMITTED):
                # Claimed and on its way (or its sender died): not there to cancel yet.
                out.in_flight.append(order.id)
        except BrokerError as exc:
            out.failed[order.id] = str(exc)
    return out


def set_kill_switch(
    desk: Desk,
    enabled: bool,
    reason: str,
    actor: str,
    channel: ApprovalChannel | str,
) -> RiskStatus:
    """On: HALTED and every open order cancelled. Off: ACTIVE again, only through a
    channel a person drives (``HUMAN_CHANNELS``). The caller has checked the reason."""
    with desk._trading_lock:
        current = desk.ledger.get_trading_state().state
        target = TradingState.HALTED if enabled else TradingState.ACTIVE
        if target is not current:
            transition(current, target, actor, reason, channel)
            desk.ledger.set_trading_state(
                target, reason, actor, tripped_by="kill_switch" if enabled else None
            )
            notify.state_changed(desk, current, target, reason, "kill_switch" if enabled else None)
        if not enabled:
            return desk.risk_status()
        # Orders not yet claimed for sending can no longer be (the claim refuses under
        # a halt): closed in the ledger. The others are at the broker, or on their way
        # (claimed before the halt): cancelled there, or once they arrive (their sender,
        # else reconciliation under the halt, cancels them).
        unsent = desk.ledger.close_unsent_orders(actor)
        cancel = desk.cancel_all(actor=actor)
    return desk.risk_status().model_copy(
        update={
            "closed_unsent": [o.id for o in unsent],
            "cancelled": cancel.cancelled,
            "cancel_failed": cancel.failed,
            "in_flight": cancel.in_flight,
        }
    )


def risk_status(desk: Desk) -> RiskStatus:
    """The trading state, the account, its positions and exposures, and the limits."""
    state = desk.ledger.get_trading_state()
    account = desk.broker.account()
    positions = desk.broker.positions()
    prices = {p.symbol: p.market_price for p in positions if p.market_price}
    holdings = {p.symbol: p.quantity for p in positions}
    exposure = currency_exposures(holdings, prices, account.currency)
    notionals = [abs(p.quantity) * (p.market_price or p.average_price) for p in positions]
    signed = [p.quantity * (p.market_price or p.average_price) for p in positions]
    return RiskStatus(
        trading_state=state.state,
        kill_switch=state.state is TradingState.HALTED,
        reason=state.reason,
        changed_by=state.changed_by,
        mode=desk.mode,
        broker=desk.broker.name,
        account=account,
        positions=positions,
        open_orders=len(desk.orders(open_only=True)),
        exposure=exposure,
        gross_exposure=sum(notionals),
        net_exposure=sum(signed),
        limits=desk.settings.risk.model_dump(),
    )
