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
    TERMINAL_ORDER_STATUSES,
    ApprovalChannel,
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
    from tradecrew.ledger import AgentVerdictRecord, Grant, Ledger
    from tradecrew.risk.context import RiskContext

log = logging.getLogger(__name__)


class GateRefusal(Exception):
    """The gate refused to send an order; the message says which part of the rule failed."""

    def __init__(self, rule: str, reason: str) -> None:
        self.rule = rule
        self.reason = reason
        super().__init__(f"{rule}: {reason}")

    @property
    def proposal_status(self) -> ProposalStatus | None:
        """What this refusal of an approval makes of the pending proposal; None when it stays
        pending (its terms changed since the person saw them: they look again)."""
        if self.rule == "terms":
            return None
        if self.rule in ("risk", "veto"):
            return ProposalStatus.VETOED
        return ProposalStatus.FAILED if self.rule == "broker" else ProposalStatus.REJECTED


#: How every client order id the desk gives begins (reconciliation recognises its own).
DESK_ID_PREFIX = "tc-"


def client_order_id(proposal_id: str) -> str:
    """One proposal, one order: the client order id is derived from the proposal id, so a
    retried or repeated submission can only ever find the same order."""
    return f"{DESK_ID_PREFIX}{proposal_id.removeprefix('prp_')}"


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
        accepted_channels: frozenset[ApprovalChannel],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._ledger = ledger
        self._broker = broker
        self._context = context
        # The approval channels this account accepts (the human part of the rule).
        self._accepted = accepted_channels
        self._clock = clock

    def _refuse(self, proposal: Proposal, rule: str, reason: str, actor: str) -> GateRefusal:
        self._ledger.audit(
            actor, "gate.refused", "proposal", proposal.id, None, {"rule": rule, "reason": reason}
        )
        return GateRefusal(rule, reason)

    def _approved_decision(
        self, proposal: Proposal, decision: RiskDecision | None, now: datetime, actor: str
    ) -> RiskDecision:
        if decision is None or not decision.approved:
            raise self._refuse(proposal, "risk", "the risk engine has not approved it", actor)
        if decision.proposal_id != proposal.id:
            raise self._refuse(proposal, "risk", "the decision is for another proposal", actor)
        if decision.expires_at <= now:
            raise self._refuse(proposal, "risk", "the risk approval has expired", actor)
        if decision.order_hash != proposal_hash(proposal, decision.approved_quantity):
            raise self._refuse(proposal, "risk", "the approved terms differ from the order", actor)
        return decision

    def _no_veto(
        self,
        proposal: Proposal,
        decision: RiskDecision,
        verdicts: list[AgentVerdictRecord],
        actor: str,
    ) -> None:
        for verdict in verdicts:
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

    def _still_allowed(self, proposal: Proposal, decision: RiskDecision, now: datetime) -> None:
        """The risk engine, on a context read now, still allows the approved quantity.

        Runs inside the ledger's write lock, where nothing may be written: the GateRefusal
        it raises is audited by ``submit`` once the transaction has rolled back.
        """
        ctx = self._context(proposal, now)
        if ctx.trading_state is TradingState.HALTED:
            reason = self._ledger.get_trading_state().reason
            raise GateRefusal("kill_switch", f"the kill switch is on ({reason})")
        fresh = evaluate(proposal, ctx)
        if not fresh.approved or fresh.approved_quantity + 1e-12 < decision.approved_quantity:
            why = "; ".join(fresh.reasons) or "the current context no longer allows it"
            raise GateRefusal("risk", f"re-check failed: {why}")

    def submit(self, proposal_id: str, actor: str, grant: Grant | None = None) -> Order:
        """Send the order of an approved proposal, or raise GateRefusal saying why not.

        ``grant``: an approval of a pending proposal given just now; it is recorded with the
        order, once every check has passed. A submission already made returns the order on
        record: it is never sent twice.
        """
        from tradecrew.ledger import (
            AuditMismatch,
            HumanApprovalRequired,
            TermsChanged,
            TradingHalted,
        )

        now = self._clock()
        record = self._ledger.proposal_record(proposal_id)
        proposal = record.proposal
        expected = ProposalStatus.APPROVED if grant is None else ProposalStatus.PENDING
        if proposal.status is not expected:
            if record.orders:
                return record.orders[0]
            raise self._refuse(
                proposal, "proposal", f"it is {proposal.status.value}, not approved", actor
            )
        decision = self._approved_decision(proposal, record.latest_decision, now, actor)
        self._no_veto(proposal, decision, record.verdicts, actor)
        # One transaction, on disk before anything is sent, re-checks the risk on a context
        # read under its write lock (so no other process's order can slip in between),
        # records a fresh approval (if any), consumes it, persists the order (NEW) and marks
        # the proposal SUBMITTED. A second one claims it (SUBMITTED) just before it is sent:
        # after a crash, reconciliation finds it at the broker (and adopts it) or not (and
        # closes it).
        try:
            order = self._ledger.open_order(
                order_for(proposal, decision, self._broker.name, now),
                decision.order_hash,
                actor,
                now,
                accepted=self._accepted,
                grant=grant,
                recheck=lambda: self._still_allowed(proposal, decision, now),
                record=record,
            )
        except AuditMismatch as exc:  # rows the keyed audit log does not record; rolled back
            raise self._refuse(proposal, "integrity", str(exc), actor) from None
        except GateRefusal as refusal:  # from the re-check, rolled back: audited now
            raise self._refuse(proposal, refusal.rule, refusal.reason, actor) from None
        except HumanApprovalRequired as exc:
            raise self._refuse(proposal, "human", str(exc), actor) from None
        except TermsChanged as exc:
            raise self._refuse(proposal, "terms", str(exc), actor) from None
        except TradingHalted as exc:
            raise self._refuse(proposal, "kill_switch", str(exc), actor) from None
        return self._send(self._claim(proposal, order, actor), actor)

    def _claim(self, proposal: Proposal, order: Order, actor: str) -> Order:
        """The kill switch, checked last, under the ledger's write lock: whatever happened
        since the order was stored (another process halting the desk, a reconciliation
        closing the order) is seen here, or comes after the order has left."""
        from tradecrew.ledger import HALTED_BEFORE_SENT, OrderClosed, TradingHalted

        try:
            return self._ledger.claim_order(order.id, actor)
        except TradingHalted as exc:  # the ledger closed the order and failed its proposal
            raise self._refuse(proposal, "kill_switch", str(exc), actor) from None
        except OrderClosed as exc:
            rule = "kill_switch" if exc.status_reason.startswith(HALTED_BEFORE_SENT) else "order"
            raise self._refuse(proposal, rule, str(exc), actor) from None

    def _send(self, order: Order, actor: str) -> Order:
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
            log.warning(
                "order %s outcome unknown; left in flight for reconciliation",
                order.client_order_id,
            )
            return self._ledger.update_order(
                order.id,
                status=OrderStatus.SUBMITTED,
                reason=f"outcome unknown: {exc}",
                actor=actor,
            )
        return self._cancel_if_halted(
            sync_order(self._ledger, self._broker, order, placed, actor), actor
        )

    def _cancel_if_halted(self, order: Order, actor: str) -> Order:
        """An order claimed before a halt and answered after it is working under a halted
        desk: cancel it at the broker now (the kill switch could not: it was not there yet).
        Should that fail, reconciliation under the halt cancels it."""
        from tradecrew.brokers import BrokerError

        if order.status in TERMINAL_ORDER_STATUSES:
            return order
        if self._ledger.get_trading_state().state is not TradingState.HALTED:
            return order
        why = "the kill switch was turned on while it was being sent: cancelled at the broker"
        try:
            self._broker.cancel(order.client_order_id)
            seen = self._broker.get_order_by_client_id(order.client_order_id)
        except BrokerError as exc:
            log.warning("order %s sent under a halt, not cancelled: %s", order.id, exc)
            return order
        if seen is not None:
            order = sync_order(self._ledger, self._broker, order, seen, actor)
        if order.status is OrderStatus.CANCELLED:
            order = self._ledger.update_order(order.id, reason=why, actor=actor)
        return order


def fills_of(broker: Broker, client_order_id: str) -> list[Fill]:
    """The broker's fills of one order: its own look-up when it has one, else a filter."""
    lookup = getattr(broker, "order_fills", None)
    if callable(lookup):
        return list(lookup(client_order_id))
    return [f for f in broker.fills() if f.client_order_id == client_order_id]


def sync_order(ledger: Ledger, broker: Broker, order: Order, seen: Order, actor: str) -> Order:
    """Bring the ledger's order (and its proposal) up to what the broker reports."""
    fills = (
        fills_of(broker, order.client_order_id)
        if seen.filled_quantity > order.filled_quantity
        else []
    )
    return ledger.apply_broker_report(order.id, seen, fills, actor)
