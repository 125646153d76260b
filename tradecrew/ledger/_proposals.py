"""Proposals and risk decisions inside transactions: creation, lifecycle, decisions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, select

from tradecrew.ledger._convert import image, row_values, to_model
from tradecrew.ledger._orm import ProposalRow, RiskDecisionRow
from tradecrew.ledger._queries import DECISIONS_OF, LAST_DECISION_SEQ
from tradecrew.ledger._tx import (
    Tx,
    get_or_raise,
    insert_new,
    require_actor,
    require_aware,
    require_length,
)
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
    insert_new(
        tx.conn,
        ProposalRow,
        row_values(ProposalRow, proposal, updated_at=proposal.created_at),
        f"proposal {proposal.id!r} already exists",
    )
    tx.audit(actor, "proposal.created", "proposal", proposal.id, None, image(proposal))
    return proposal


def transition_proposal(
    tx: Tx, proposal_id: str, new_status: ProposalStatus | str, reason: str, actor: str
) -> Proposal:
    actor = require_actor(actor)
    new = ProposalStatus(new_status)
    before = to_model(Proposal, tx.get(ProposalRow, proposal_id, "proposal"))
    check_proposal_transition(before.status, new)
    now = utcnow()
    tx.update(ProposalRow, proposal_id, status=new.value, status_reason=reason, updated_at=now)
    after = before.model_copy(update={"status": new, "status_reason": reason})
    # The images hold only what changes: a proposal's terms are fixed at creation, so a
    # row edited in the database is never copied into the log as if the ledger wrote it.
    was = {"status": before.status.value, "status_reason": before.status_reason}
    tx.audit(
        actor,
        "proposal.transition",
        "proposal",
        proposal_id,
        was,
        {"status": new.value, "status_reason": reason},
    )
    return after


def record_decision(
    tx: Tx, decision: RiskDecision, actor: str, *, proposal_known: bool = False
) -> RiskDecision:
    """Keep a decision on a stored proposal (``proposal_known``: this transaction stored it)."""
    actor = require_actor(actor)
    require_aware(decision.decided_at, "decided_at")
    require_aware(decision.expires_at, "expires_at")
    require_length(decision.order_hash, "order_hash", 128)
    require_length(decision.id, "decision id", 40)
    if not proposal_known:
        tx.get(ProposalRow, decision.proposal_id, "proposal")
    last = tx.conn.scalar(LAST_DECISION_SEQ)
    insert_new(
        tx.conn,
        RiskDecisionRow,
        row_values(RiskDecisionRow, decision, seq=(last or 0) + 1),
        f"risk decision {decision.id!r} already exists",
    )
    tx.audit(actor, "decision.recorded", "risk_decision", decision.id, None, image(decision))
    return decision


def decisions(conn: Connection, proposal_id: str) -> list[RiskDecision]:
    """Every decision on the proposal, oldest first."""
    get_or_raise(conn, ProposalRow, proposal_id, "proposal")
    return decisions_of(conn, proposal_id)


def decisions_of(conn: Connection, proposal_id: str) -> list[RiskDecision]:
    """``decisions`` for a proposal known to exist."""
    rows = conn.execute(DECISIONS_OF, {"proposal_id": proposal_id})
    return [to_model(RiskDecision, r) for r in rows]


def proposals_query(status: ProposalStatus | str | None) -> Select[Any]:
    """Proposals newest first, optionally only those in ``status``."""
    t = ProposalRow.__table__
    q = select(t).order_by(t.c.created_at.desc(), t.c.id.desc())
    if status is not None:
        q = q.where(t.c.status == ProposalStatus(status).value)
    return q
