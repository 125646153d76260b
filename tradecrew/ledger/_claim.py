"""The last step before a desk order leaves: its claim for sending, serialised with the kill
switch, and the closing of orders a halted desk can no longer send.

An order's states before the broker answers (the full table is ``models.ORDER_TRANSITIONS``):
NEW is persisted and not yet claimed, so it cannot have been sent; SUBMITTED is claimed
(``claim_order``, under the write lock, only while trading is not halted), so it may be at
the broker or on its way there. A halt committed first means the claim closes the order
instead; a claim committed first means the order goes, and the kill switch cancels it at
the broker (on its arrival, if need be).
"""

from __future__ import annotations

from tradecrew.ledger._convert import to_model
from tradecrew.ledger._crosscheck import TRADING_STATE, disagreement
from tradecrew.ledger._orm import OrderRow, ProposalRow, TradingStateRow
from tradecrew.ledger._proposals import transition_proposal
from tradecrew.ledger._trading import orders_query, update_order
from tradecrew.ledger._tx import Tx, fetch, require_actor
from tradecrew.ledger.errors import OrderClosed, TradingHalted
from tradecrew.models import (
    PROPOSAL_TRANSITIONS,
    Order,
    OrderStatus,
    ProposalStatus,
    TradingState,
)

#: How an order starts its status reason when the kill switch stopped it before it left.
HALTED_BEFORE_SENT = "the kill switch was turned on before it was sent"


def _halted(tx: Tx) -> str | None:
    """Why no desk order may be sent now (the kill switch, or a trading-state row the audit
    log does not account for, which halts rather than trusts it); None when it may."""
    from tradecrew.ledger._governance import get_trading_state

    problem = disagreement(tx, TRADING_STATE, fetch(tx.conn, TradingStateRow, 1))
    if problem:
        return (
            f"the trading state is not the one the audit log records ({problem}): run "
            "`tradecrew audit verify`"
        )
    state = get_trading_state(tx.conn)
    if state.state is TradingState.HALTED:
        return f"trading is halted ({state.reason})"
    return None


def claim_order(tx: Tx, order_id: str, actor: str) -> Order:
    """Move a desk order NEW -> SUBMITTED right before it is sent: the last check of the kill
    switch, serialised with every trading-state change by the write lock. Under a halted
    desk the order is closed instead (CANCELLED, its proposal FAILED) and TradingHalted is
    raised once that commits; an order no longer NEW raises OrderClosed, changing nothing."""
    actor = require_actor(actor)
    order = to_model(Order, tx.get(OrderRow, order_id, "order"))
    if order.external:
        raise ValueError(f"order {order_id} is external: the desk never sends it")
    if order.status is not OrderStatus.NEW:
        raise OrderClosed(
            f"order {order.id} is {order.status.value}, not new, so it is not sent: "
            f"{order.status_reason or 'no reason recorded'}",
            order.status_reason,
        )
    why = _halted(tx)
    if why is None:
        return update_order(tx, order.id, OrderStatus.SUBMITTED, None, "sending", actor, order)
    closed = _close_unsent(tx, order, why, actor)
    tx.deferred = TradingHalted(f"{why}; order {order.id} was not sent and is cancelled")
    return closed


def close_unsent(tx: Tx, actor: str) -> list[Order]:
    """Under a halted desk, close every desk order still NEW: none of them can be claimed
    any more (``claim_order``), so none can ever be sent. Nothing when trading may go on."""
    actor = require_actor(actor)
    why = _halted(tx)
    if why is None:
        return []
    rows = tx.conn.execute(orders_query(OrderStatus.NEW, False, None, None)).all()
    unsent = [o for o in (to_model(Order, r) for r in rows) if not o.external]
    return [_close_unsent(tx, order, why, actor) for order in unsent]


def _close_unsent(tx: Tx, order: Order, why: str, actor: str) -> Order:
    closed = update_order(
        tx, order.id, OrderStatus.CANCELLED, None, f"{HALTED_BEFORE_SENT}: {why}", actor, order
    )
    if order.proposal_id is not None:
        proposal = tx.get(ProposalRow, order.proposal_id, "proposal")
        if ProposalStatus.FAILED in PROPOSAL_TRANSITIONS[ProposalStatus(proposal.status)]:
            transition_proposal(
                tx, order.proposal_id, ProposalStatus.FAILED, HALTED_BEFORE_SENT, actor
            )
    return closed
