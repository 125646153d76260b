"""What the desk tells its callers about a proposal: its outcome, and why it stands as it does.

Functions take the ``Desk`` whose ledger they read; they only read, never change anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecrew.desk.outcomes import Explanation, ProposalOutcome
from tradecrew.ledger import CONTRADICTED, ProposalRecord
from tradecrew.models import TERMINAL_ORDER_STATUSES, OrderStatus, TradingState

if TYPE_CHECKING:
    from tradecrew.desk.service import Desk


def outcome_of(desk: Desk, record: ProposalRecord, message: str) -> ProposalOutcome:
    """The outcome of the proposal ``record`` holds, with its first order and that order's fills."""
    proposal, decision = record.proposal, record.latest_decision
    order = record.orders[0] if record.orders else None
    reasons = [] if decision is None else list(decision.reasons)
    return ProposalOutcome(
        proposal_id=proposal.id,
        status=proposal.status,
        mode=desk.mode,
        proposal=proposal,
        decision=decision,
        approved_quantity=decision.approved_quantity if decision else None,
        reasons=reasons,
        requires_human_approval=desk.human_approval_required,
        order=order,
        fills=[f for f in record.fills if order is not None and f.order_id == order.id],
        message=message,
    )


def sent_outcome(desk: Desk, proposal_id: str) -> ProposalOutcome:
    """The outcome of a proposal whose order was sent, saying what came of it: working
    or filled, ended at the broker, or (sent too late) contradicting the ledger."""
    outcome = outcome_of(desk, desk.ledger.proposal_record(proposal_id), "")
    order = outcome.order
    message = "sent to the broker"
    if order is not None and order.status_reason.startswith(CONTRADICTED):
        state = desk.ledger.get_trading_state().state.value
        message = (
            f"sent to the broker after the ledger had closed order {order.id} as never "
            f"sent; the broker filled {order.filled_quantity:g} of {order.quantity:g}: "
            f"the proposal stays {outcome.status.value} and the desk is {state}; check "
            "`tradecrew positions` and `tradecrew reconcile`"
        )
    elif order is not None and order.status in TERMINAL_ORDER_STATUSES - {OrderStatus.FILLED}:
        why = order.status_reason or "no reason given"
        message = f"sent to the broker, which reports it {order.status.value}: {why}"
    elif desk.ledger.get_trading_state().state is TradingState.HALTED:
        # Claimed before the halt (the claim refuses after it): on its way when it came.
        message = (
            "sent to the broker: it was on its way when the kill switch was turned on, "
            "and the broker took it"
        )
    return outcome.model_copy(update={"message": message})


def explain(desk: Desk, proposal_id: str) -> Explanation:
    """The proposal with its decisions, verdicts, approvals, orders, audit and a summary."""
    proposal = desk.ledger.get_proposal(proposal_id)
    decisions = desk.ledger.decisions(proposal.id)
    last = decisions[-1] if decisions else None
    if last is None:
        summary = "no risk decision yet"
    elif last.approved:
        shrunk = last.approved_quantity < proposal.quantity
        summary = (
            f"approved for {last.approved_quantity:g}"
            + (f" (shrunk from {proposal.quantity:g})" if shrunk else "")
            + (": " + "; ".join(last.reasons) if last.reasons else "")
        )
    else:
        summary = "vetoed: " + "; ".join(last.reasons)
    return Explanation(
        proposal=proposal,
        decisions=decisions,
        verdicts=desk.ledger.verdicts(proposal.id),
        approvals=desk.ledger.approvals(proposal.id),
        orders=desk.ledger.orders(proposal_id=proposal.id),
        audit=desk.ledger.audit_log(50, entity="proposal", entity_id=proposal.id),
        # The status leads, once: "vetoed: ...", "filled; approved for 2".
        summary=summary
        if summary.startswith(proposal.status.value)
        else f"{proposal.status.value}; {summary}",
        mode=desk.mode,
    )
