"""The single code path from the desk to any broker.

``OrderGate.submit`` is the only caller of ``Broker.submit`` in the code base. Before it sends
anything it checks the one rule: a persisted proposal, a matching unexpired risk approval
(re-checked against the current context), no agent veto, a human approval where the mode
requires it, and the kill switch off. Every step is written to the ledger before it acts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from tradecrew.models import (
    Fill,
    Order,
    OrderStatus,
    Proposal,
    ProposalStatus,
    RiskDecision,
    TradingState,
    utcnow,
)
from tradecrew.risk.engine import evaluate
from tradecrew.risk.hashing import proposal_hash

if TYPE_CHECKING:
    from tradecrew.brokers import Broker
    from tradecrew.ledger import Ledger
    from tradecrew.risk.context import RiskContext

log = logging.getLogger(__name__)

AUTO_CHANNEL = "auto"


class GateRefusal(Exception):
    """The gate refused to send an order; the message says which part of the rule failed."""

    def __init__(self, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(f"{rule}: {reason}")


def client_order_id(proposal_id: str) -> str:
    """One proposal, one order: the client order id is derived from the proposal id, so a
    retried or repeated submission can only ever find the same order."""
    return f"tc-{proposal_id.removeprefix('prp_')}"


def order_for(proposal: Proposal, decision: RiskDecision, broker_name: str, now: datetime) -> Order:
    return Order(
        created_at=now,
        updated_at=now,
        client_order_id=client_order_id(proposal.id),
        proposal_id=proposal.id,
        symbol=proposal.symbol,
        side=proposal.side,
        quantity=decision.approved_quantity,
        order_type=proposal.order_type,
        limit_price=proposal.limit_price,
        stop_price=proposal.stop_price,
        stop_loss=proposal.stop_loss,
        take_profit=proposal.take_profit,
        time_in_force=proposal.time_in_force,
        broker=broker_name,
    )


class OrderGate:
    """Checks the one rule, then persists and sends exactly one order per proposal."""

    def __init__(
        self,
        ledger: Ledger,
        broker: Broker,
        context: Callable[[Proposal, datetime], RiskContext],
        *,
        human_required: bool,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._ledger = ledger
        self._broker = broker
        self._context = context
        self._human_required = human_required
        self._clock = clock

    def _refuse(self, proposal: Proposal, rule: str, reason: str, actor: str) -> GateRefusal:
        self._ledger.audit(
            actor, "gate.refused", "proposal", proposal.id, None, {"rule": rule, "reason": reason}
        )
        return GateRefusal(rule, reason)

    def _approved_decision(self, proposal: Proposal, now: datetime, actor: str) -> RiskDecision:
        decision = self._ledger.latest_decision(proposal.id)
        if decision is None or not decision.approved:
            raise self._refuse(proposal, "risk", "the risk engine has not approved it", actor)
        if decision.proposal_id != proposal.id:
            raise self._refuse(proposal, "risk", "the decision is for another proposal", actor)
        if decision.expires_at <= now:
            raise self._refuse(proposal, "risk", "the risk approval has expired", actor)
        if decision.order_hash != proposal_hash(proposal, decision.approved_quantity):
            raise self._refuse(proposal, "risk", "the approved terms differ from the order", actor)
        return decision

    def _no_veto(self, proposal: Proposal, decision: RiskDecision, actor: str) -> None:
        for verdict in self._ledger.verdicts(proposal.id):
            if verdict.verdict.value == "veto":
                raise self._refuse(
                    proposal, "veto", f"{verdict.agent} vetoed: {verdict.reason}", actor
                )
            if verdict.quantity is not None and decision.approved_quantity > verdict.quantity:
                raise self._refuse(
                    proposal,
                    "veto",
                    f"{verdict.agent} allows at most {verdict.quantity}, the decision is larger",
                    actor,
                )

    def _still_allowed(
        self, proposal: Proposal, decision: RiskDecision, now: datetime, actor: str
    ) -> None:
        state = self._ledger.get_trading_state()
        if state.state is TradingState.HALTED:
            raise self._refuse(
                proposal, "kill_switch", f"the kill switch is on ({state.reason})", actor
            )
        fresh = evaluate(proposal, self._context(proposal, now))
        if not fresh.approved or fresh.approved_quantity + 1e-12 < decision.approved_quantity:
            why = "; ".join(fresh.reasons) or "the current context no longer allows it"
            raise self._refuse(proposal, "risk", f"re-check failed: {why}", actor)

    def submit(self, proposal_id: str, actor: str) -> Order:
        """Send the order of an approved proposal, or raise GateRefusal saying why not.

        A submission already made returns the order on record: it is never sent twice.
        """
        now = self._clock()
        proposal = self._ledger.get_proposal(proposal_id)
        cid = client_order_id(proposal.id)
        if proposal.status is not ProposalStatus.APPROVED:
            existing = [o for o in self._ledger.orders(proposal_id=proposal.id)]
            if existing:
                return existing[0]
            raise self._refuse(
                proposal, "proposal", f"it is {proposal.status.value}, not approved", actor
            )
        decision = self._approved_decision(proposal, now, actor)
        self._no_veto(proposal, decision, actor)
        self._still_allowed(proposal, decision, now, actor)
        approval = self._ledger.consume_approval(proposal.id, decision.order_hash, actor, now)
        if self._human_required and approval.channel.value == AUTO_CHANNEL:
            raise self._refuse(proposal, "human", "a human approval is required", actor)

        from tradecrew.ledger import TradingHalted

        try:
            order = self._ledger.create_order(
                order_for(proposal, decision, self._broker.name, now), actor
            )
        except TradingHalted as exc:
            raise self._refuse(proposal, "kill_switch", str(exc), actor) from None
        self._ledger.transition_proposal(proposal.id, ProposalStatus.SUBMITTED, "sending", actor)
        # The order stays NEW until the broker answers: after a crash, reconciliation finds it
        # at the broker (and adopts it) or not (and closes it as never sent).
        return self._send(order, cid, actor)

    def _send(self, order: Order, cid: str, actor: str) -> Order:
        from tradecrew.brokers import BrokerUnavailable, OrderOutcomeUnknown, OrderRejected

        try:
            placed = self._broker.submit(order)
        except OrderRejected as exc:
            self._ledger.update_order(
                order.id, status=OrderStatus.REJECTED, reason=exc.reason, actor=actor
            )
            self._ledger.transition_proposal(
                order.proposal_id or "",
                ProposalStatus.FAILED,
                f"broker rejected: {exc.reason}",
                actor,
            )
            raise GateRefusal("broker", f"the broker rejected the order: {exc.reason}") from None
        except BrokerUnavailable as exc:
            # Certainly not sent: record it as rejected so nothing waits on it.
            self._ledger.update_order(
                order.id,
                status=OrderStatus.REJECTED,
                reason=f"broker unavailable: {exc}",
                actor=actor,
            )
            self._ledger.transition_proposal(
                order.proposal_id or "", ProposalStatus.FAILED, "broker unavailable", actor
            )
            raise GateRefusal("broker", f"the broker is unavailable: {exc}") from None
        except OrderOutcomeUnknown as exc:
            log.warning("order %s outcome unknown; left in flight for reconciliation", cid)
            return self._ledger.update_order(
                order.id,
                status=OrderStatus.SUBMITTED,
                reason=f"outcome unknown: {exc}",
                actor=actor,
            )
        return sync_order(self._ledger, self._broker, order, placed, actor)


def fills_of(broker: Broker, client_order_id: str) -> list[Fill]:
    """The broker's fills of one order: its own look-up when it has one, else a filter."""
    lookup = getattr(broker, "order_fills", None)
    if callable(lookup):
        return list(lookup(client_order_id))
    return [f for f in broker.fills() if f.client_order_id == client_order_id]


def sync_order(ledger: Ledger, broker: Broker, order: Order, seen: Order, actor: str) -> Order:
    """Bring the ledger's order (and its proposal) up to what the broker reports."""
    if seen.broker_order_id and seen.broker_order_id != order.broker_order_id:
        order = ledger.update_order(order.id, broker_order_id=seen.broker_order_id, actor=actor)
    if seen.filled_quantity > order.filled_quantity:
        for fill in fills_of(broker, order.client_order_id):
            ledger.record_fill(fill.model_copy(update={"order_id": order.id}), actor)
    order = ledger.get_order(order.id)
    if seen.status in (OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED) and (
        order.status not in (OrderStatus.FILLED, seen.status)
    ):
        order = ledger.update_order(
            order.id, status=seen.status, reason=seen.status_reason, actor=actor
        )
    elif seen.status is OrderStatus.ACCEPTED and order.status in (
        OrderStatus.NEW,
        OrderStatus.SUBMITTED,
    ):
        order = ledger.update_order(order.id, status=OrderStatus.ACCEPTED, actor=actor)
    _sync_proposal(ledger, order, actor)
    return order


_PROPOSAL_FOR_ORDER = {
    OrderStatus.FILLED: ProposalStatus.FILLED,
    OrderStatus.PARTIALLY_FILLED: ProposalStatus.PARTIALLY_FILLED,
    OrderStatus.CANCELLED: ProposalStatus.CANCELLED,
    OrderStatus.EXPIRED: ProposalStatus.CANCELLED,
    OrderStatus.REJECTED: ProposalStatus.FAILED,
}


def _sync_proposal(ledger: Ledger, order: Order, actor: str) -> None:
    if order.proposal_id is None:
        return
    target = _PROPOSAL_FOR_ORDER.get(order.status)
    if target is None:
        return
    proposal = ledger.get_proposal(order.proposal_id)
    if proposal.status is target and target is not ProposalStatus.PARTIALLY_FILLED:
        return
    from tradecrew.models import PROPOSAL_TRANSITIONS

    if target in PROPOSAL_TRANSITIONS[proposal.status]:
        ledger.transition_proposal(proposal.id, target, f"order {order.status.value}", actor)
