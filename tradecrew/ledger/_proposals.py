"""Proposals and risk decisions inside transactions: creation, lifecycle, decisions."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from tradecrew.ledger._convert import image, to_model, to_row
from tradecrew.ledger._orm import ProposalRow, RiskDecisionRow
from tradecrew.ledger._tx import Tx, get_or_raise, require_actor, require_aware, require_length
from tradecrew.ledger.errors import Conflict
from tradecrew.models import (
    Proposal,
    ProposalRequest,
    ProposalStatus,
    RiskDecision,
    check_proposal_transition,
    utcnow,
)


def add_proposal(tx: Tx, proposal: Proposal | ProposalRequest, actor: str) -> Proposal:
    actor = require_actor(actor)
    if not isinstance(proposal, Proposal):
        proposal = Proposal(**proposal.model_dump())
    if proposal.status is not ProposalStatus.PENDING:
        raise ValueError(f"a proposal starts pending, not {proposal.status.value}")
    require_aware(proposal.created_at, "created_at")
    require_aware(proposal.expires_at, "expires_at")
    require_length(proposal.id, "proposal id", 40)
    if tx.session.get(ProposalRow, proposal.id) is not None:
        raise Conflict(f"proposal {proposal.id!r} already exists")
    tx.session.add(to_row(ProposalRow, proposal, updated_at=proposal.created_at))
    tx.audit(actor, "proposal.created", "proposal", proposal.id, None, image(proposal))
    return proposal


def transition_proposal(
    tx: Tx, proposal_id: str, new_status: ProposalStatus | str, reason: str, actor: str
) -> Proposal:
    actor = require_actor(actor)
    new = ProposalStatus(new_status)
    row = get_or_raise(tx.session, ProposalRow, proposal_id, "proposal")
    before = to_model(Proposal, row)
    check_proposal_transition(before.status, new)
    row.status, row.status_reason, row.updated_at = new.value, reason, utcnow()
    after = to_model(Proposal, row)
    tx.audit(actor, "proposal.transition", "proposal", proposal_id, image(before), image(after))
    return after


def record_decision(tx: Tx, decision: RiskDecision, actor: str) -> RiskDecision:
    actor = require_actor(actor)
    require_aware(decision.decided_at, "decided_at")
    require_aware(decision.expires_at, "expires_at")
    require_length(decision.order_hash, "order_hash", 128)
    require_length(decision.id, "decision id", 40)
    get_or_raise(tx.session, ProposalRow, decision.proposal_id, "proposal")
    if tx.session.get(RiskDecisionRow, decision.id) is not None:
        raise Conflict(f"risk decision {decision.id!r} already exists")
    last = tx.session.scalar(select(func.max(RiskDecisionRow.seq)))
    tx.session.add(to_row(RiskDecisionRow, decision, seq=(last or 0) + 1))
    tx.audit(actor, "decision.recorded", "risk_decision", decision.id, None, image(decision))
    return decision


def decisions(session: Session, proposal_id: str) -> list[RiskDecision]:
    """Every decision on the proposal, oldest first."""
    get_or_raise(session, ProposalRow, proposal_id, "proposal")
    rows = session.scalars(
        select(RiskDecisionRow)
        .where(RiskDecisionRow.proposal_id == proposal_id)
        .order_by(RiskDecisionRow.seq)
    )
    return [to_model(RiskDecision, r) for r in rows]


def proposals_query(status: ProposalStatus | str | None) -> Select[tuple[ProposalRow]]:
    """Proposals newest first, optionally only those in ``status``."""
    q = select(ProposalRow).order_by(ProposalRow.created_at.desc(), ProposalRow.id.desc())
    if status is not None:
        q = q.where(ProposalRow.status == ProposalStatus(status).value)
    return q
