"""Approvals, agent verdicts, the trading state and run records, inside write transactions."""

from __future__ import annotations

import math
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from tradecrew.ledger._convert import image, row_values, to_model
from tradecrew.ledger._crosscheck import APPROVALS, disagreement
from tradecrew.ledger._orm import AgentVerdictRow, ApprovalRow, ProposalRow, RunRow, TradingStateRow
from tradecrew.ledger._queries import APPROVALS_NEWEST_FIRST, CONSUME_APPROVAL, VERDICTS_OF
from tradecrew.ledger._tx import (
    Tx,
    fetch,
    get_or_raise,
    insert_row,
    require_actor,
    require_aware,
    require_length,
)
from tradecrew.ledger.audit import json_safe
from tradecrew.ledger.errors import ApprovalError, HumanApprovalRequired
from tradecrew.ledger.records import (
    AgentVerdictRecord,
    Approval,
    ApprovalChannel,
    RunRecord,
    RunStatus,
    TradingStateRecord,
)
from tradecrew.models import AgentVerdict, TradingState, Verdict, utcnow


def record_approval(
    tx: Tx,
    proposal_id: str,
    order_hash: str,
    actor: str,
    channel: ApprovalChannel | str,
    expires_at: datetime,
    approved_at: datetime | None = None,
) -> Approval:
    """``approved_at``: when the person approved, on the desk's clock (now by default); the
    order's consumption of the approval is stamped on that clock too, never before it."""
    actor = require_actor(actor)
    if not isinstance(order_hash, str) or not order_hash:
        raise ValueError("an approval must name the order_hash it approves")
    require_length(order_hash, "order_hash", 128)
    if not isinstance(expires_at, datetime):
        raise ValueError(f"expires_at must be a datetime, got {expires_at!r}")
    require_aware(expires_at, "expires_at")
    require_aware(approved_at, "approved_at")
    tx.get(ProposalRow, proposal_id, "proposal")
    approval = Approval(
        proposal_id=proposal_id,
        order_hash=order_hash,
        actor=actor,
        channel=ApprovalChannel(channel),
        approved_at=approved_at or utcnow(),
        expires_at=expires_at,
    )
    insert_row(tx.conn, ApprovalRow, row_values(ApprovalRow, approval))
    tx.audit(actor, "approval.granted", "approval", approval.id, None, image(approval))
    return approval


def consume_approval(
    tx: Tx,
    proposal_id: str,
    order_hash: str,
    actor: str,
    now: datetime | None,
    accepted: Collection[ApprovalChannel],
) -> Approval | None:
    """Mark the newest usable approval consumed; None after auditing a refusal (raised later).

    Only approvals whose channel is in ``accepted`` (the account's allow-list) are usable.
    """
    actor = require_actor(actor)
    now = now or utcnow()
    require_aware(now, "now")
    conn = tx.conn
    tx.get(ProposalRow, proposal_id, "proposal")
    rows = conn.execute(APPROVALS_NEWEST_FIRST, {"proposal_id": proposal_id}).all()
    terms = [r for r in rows if r.order_hash == order_hash]
    unused = [r for r in terms if r.consumed_at is None]
    current = [r for r in unused if r.expires_at > now]
    usable = [r for r in current if r.channel in accepted]
    if not usable:
        if not rows:
            why = f"proposal {proposal_id} has no approval"
        elif not terms:
            why = f"no approval of proposal {proposal_id} covers order hash {order_hash[:16]}…"
        elif current:
            came = ", ".join(sorted({r.channel for r in current}))
            why = (
                f"proposal {proposal_id} needs a human approval; its approval came through "
                f"{came}, which this account does not accept"
            )
        elif unused:
            why = f"the approval of proposal {proposal_id} expired at {unused[0].expires_at}"
        else:
            used = terms[0]
            why = (
                f"the approval of proposal {proposal_id} was already used at "
                f"{used.consumed_at} by {used.consumed_by}"
            )
        error = HumanApprovalRequired(why) if current else ApprovalError(why)
        tx.refuse(
            error,
            actor,
            "approval",
            proposal_id,
            {"proposal_id": proposal_id, "order_hash": order_hash},
        )
        return None
    row = usable[0]
    # An approval row the audit log does not account for (inserted or edited in the
    # database) is no human's approval.
    problem = disagreement(tx, APPROVALS, row)
    if problem:
        tx.refuse(
            ApprovalError(f"the approval of proposal {proposal_id} is not trusted: {problem}"),
            actor,
            "approval",
            proposal_id,
            {"proposal_id": proposal_id, "order_hash": order_hash},
        )
        return None
    # Conditional on still being unused: the database, not this process, decides who wins.
    result = conn.execute(
        CONSUME_APPROVAL, {"approval_id": row.id, "consumed_at": now, "consumed_by": actor}
    )
    if result.rowcount != 1:
        raise ApprovalError(f"the approval of proposal {proposal_id} was used concurrently")
    before = to_model(Approval, row)
    after = before.model_copy(update={"consumed_at": now, "consumed_by": actor})
    tx.audit(actor, "approval.consumed", "approval", row.id, image(before), image(after))
    return after


def approvals(conn: Connection, proposal_id: str) -> list[Approval]:
    get_or_raise(conn, ProposalRow, proposal_id, "proposal")
    t = ApprovalRow.__table__
    rows = conn.execute(
        select(t).where(t.c.proposal_id == proposal_id).order_by(t.c.approved_at, t.c.id)
    )
    return [to_model(Approval, r) for r in rows]


def get_trading_state(conn: Connection) -> TradingStateRecord:
    row = fetch(conn, TradingStateRow, 1)
    return TradingStateRecord() if row is None else to_model(TradingStateRecord, row)


def set_trading_state(
    tx: Tx, state: TradingState | str, reason: str, actor: str, tripped_by: str | None
) -> TradingStateRecord:
    actor = require_actor(actor)
    new = TradingState(state)
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("a trading state change needs a reason")
    row = fetch(tx.conn, TradingStateRow, 1)
    before = None if row is None else image(to_model(TradingStateRecord, row))
    record = TradingStateRecord(
        state=new, reason=reason.strip(), tripped_by=tripped_by, changed_by=actor
    )
    values = row_values(TradingStateRow, record)
    if row is None:
        insert_row(tx.conn, TradingStateRow, {"id": 1, **values})
    else:
        tx.update(TradingStateRow, 1, **values)
    tx.audit(actor, "trading_state.changed", "trading_state", "1", before, image(record))
    return record


_SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}


def escalate_trading_state(
    tx: Tx, state: TradingState | str, reason: str, actor: str, tripped_by: str | None
) -> TradingStateRecord | None:
    """Move to ``state`` only when it is more severe than the state in force, read and
    written in this one transaction; None when the state already is as severe or more."""
    current = get_trading_state(tx.conn).state
    if _SEVERITY[current] >= _SEVERITY[TradingState(state)]:
        return None
    return set_trading_state(tx, state, reason, actor, tripped_by)


def record_verdict(tx: Tx, proposal_id: str, verdict: AgentVerdict) -> AgentVerdictRecord:
    """An agent may veto or shrink, never enlarge: quantity above the proposal's is refused."""
    agent = require_actor(verdict.agent)
    quantity = verdict.quantity
    proposal = tx.get(ProposalRow, proposal_id, "proposal")
    if quantity is not None:
        if isinstance(quantity, bool) or not math.isfinite(quantity) or quantity < 0:
            raise ValueError(f"verdict quantity must be finite and not negative, got {quantity}")
        if quantity > proposal.quantity:
            raise ValueError(
                f"agent {agent} may not enlarge proposal {proposal_id}: "
                f"{quantity} > {proposal.quantity}"
            )
    if verdict.verdict is Verdict.SHRINK and (quantity is None or quantity <= 0):
        raise ValueError("a shrink verdict needs the smaller quantity, above zero")
    if verdict.verdict is Verdict.VETO and quantity not in (None, 0.0):
        raise ValueError("a veto carries no quantity")
    record = AgentVerdictRecord.of(proposal_id, verdict).model_copy(update={"agent": agent})
    insert_row(tx.conn, AgentVerdictRow, row_values(AgentVerdictRow, record))
    tx.audit(agent, "verdict.recorded", "agent_verdict", record.id, None, image(record))
    return record


def verdicts(conn: Connection, proposal_id: str) -> list[AgentVerdictRecord]:
    get_or_raise(conn, ProposalRow, proposal_id, "proposal")
    return verdicts_of(conn, proposal_id)


def verdicts_of(conn: Connection, proposal_id: str) -> list[AgentVerdictRecord]:
    """``verdicts`` for a proposal known to exist."""
    rows = conn.execute(VERDICTS_OF, {"proposal_id": proposal_id})
    return [to_model(AgentVerdictRecord, r) for r in rows]


def start_run(tx: Tx, kind: str, detail: dict[str, Any], actor: str) -> RunRecord:
    actor = require_actor(actor)
    if not isinstance(kind, str) or not kind.strip():
        raise ValueError("a run needs a kind")
    require_length(kind.strip(), "run kind", 32)
    run = RunRecord(kind=kind.strip(), detail=detail)
    insert_row(tx.conn, RunRow, row_values(RunRow, run))
    tx.audit(actor, "run.started", "run", run.id, None, image(run))
    return run


def finish_run(
    tx: Tx, run_id: str, status: RunStatus | str, summary: dict[str, Any], error: str, actor: str
) -> RunRecord:
    actor = require_actor(actor)
    new = RunStatus(status)
    if new is RunStatus.RUNNING:
        raise ValueError("finish_run needs a final status (succeeded or failed)")
    before = to_model(RunRecord, tx.get(RunRow, run_id, "run"))
    if before.status is not RunStatus.RUNNING:
        raise ValueError(f"run {run_id} already finished as {before.status.value}")
    changes = {"finished_at": utcnow(), "error": error, "summary": json_safe(summary)}
    tx.update(RunRow, run_id, status=new.value, **changes)
    after = before.model_copy(update={"status": new, **changes})
    tx.audit(actor, "run.finished", "run", run_id, image(before), image(after))
    return after


def get_run(conn: Connection, run_id: str) -> RunRecord:
    return to_model(RunRecord, get_or_raise(conn, RunRow, run_id, "run"))
