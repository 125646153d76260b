"""Agent verdicts on a risk decision: an agent may veto or shrink, never enlarge."""

from __future__ import annotations

import math
from typing import Any

from tradecrew.instruments import Instrument, find_instrument
from tradecrew.models import AgentVerdict, ProposalRequest, RiskCheck, RiskDecision, Verdict
from tradecrew.risk.engine import derive_decision_id
from tradecrew.risk.hashing import proposal_hash
from tradecrew.risk.sizing import round_down

AGENT_CHECK = "agent_verdict"


def _denied(decision: RiskDecision, reason: str, check: RiskCheck) -> dict[str, Any]:
    return {
        "approved": False,
        "approved_quantity": 0.0,
        "reasons": [*decision.reasons, reason] if decision.approved is False else [reason],
        "checks": [*decision.checks, check],
    }


def _same_order(decision: RiskDecision, proposal: ProposalRequest) -> bool:
    try:
        return proposal_hash(proposal, decision.approved_quantity) == decision.order_hash
    except ValueError:
        return False


def apply_agent_verdict(
    decision: RiskDecision,
    verdict: AgentVerdict,
    proposal: ProposalRequest,
    instrument: Instrument | None = None,
) -> RiskDecision:
    """The decision after the agent's verdict: veto denies; shrink (or approve with a quantity)
    lowers the approved size to at most the agent's quantity, floored to the instrument's
    step (a larger one is ignored with a note); the hash follows the size.

    ``proposal`` must be the one decided (its hash at the approved size must match), because
    the new hash is computed from it. Returns a new decision with a new derived id.
    """
    who = verdict.agent or "agent"
    note = f"{who}: {verdict.reason}" if verdict.reason else who
    instrument = instrument or find_instrument(proposal.symbol)
    updates: dict[str, Any]
    proposal_id = str(getattr(proposal, "id", ""))
    if proposal_id != decision.proposal_id or not _same_order(decision, proposal):
        reason = f"{who}: verdict applied to a proposal that is not the one decided"
        check = RiskCheck(name=AGENT_CHECK, passed=False, reason=reason, max_quantity=0.0)
        updates = _denied(decision, reason, check)
    elif verdict.verdict is Verdict.VETO:
        reason = f"vetoed by {note}"
        check = RiskCheck(name=AGENT_CHECK, passed=False, reason=reason, max_quantity=0.0)
        updates = _denied(decision, reason, check)
    elif not decision.approved:
        reason = f"{who} {verdict.verdict}: the decision is already a denial and stays one"
        check = RiskCheck(name=AGENT_CHECK, passed=False, reason=reason, max_quantity=0.0)
        updates = {"checks": [*decision.checks, check]}
    else:
        updates = _shrink(decision, verdict, note, instrument)
    approved = bool(updates.get("approved", decision.approved))
    quantity = float(updates.get("approved_quantity", decision.approved_quantity))
    updates["order_hash"] = proposal_hash(proposal, quantity if approved else 0.0)
    updates["id"] = derive_decision_id(
        decision.proposal_id,
        decision.decided_at,
        str(updates["order_hash"]),
        decision.id + verdict.model_dump_json(),
    )
    return decision.model_copy(update=updates)


def _shrink(
    decision: RiskDecision, verdict: AgentVerdict, note: str, instrument: Instrument | None
) -> dict[str, Any]:
    current = decision.approved_quantity
    asked = verdict.quantity
    if asked is None:
        if verdict.verdict is Verdict.SHRINK:
            reason = f"{note}: shrink without a quantity"
            check = RiskCheck(name=AGENT_CHECK, passed=False, reason=reason, max_quantity=0.0)
            return _denied(decision, reason, check)
        check = RiskCheck(name=AGENT_CHECK, passed=True, reason=f"approved by {note}")
        return {"checks": [*decision.checks, check]}
    if not math.isfinite(asked) or asked <= 0:
        reason = f"{note}: agent quantity {asked!r} means no trade"
        check = RiskCheck(name=AGENT_CHECK, passed=False, reason=reason, max_quantity=0.0)
        return _denied(decision, reason, check)
    if asked >= current:
        reason = (
            f"{note}: agent quantity {asked:.6g} is not below the approved "
            f"{current:.6g}; ignored (an agent can only shrink)"
        )
        check = RiskCheck(name=AGENT_CHECK, passed=True, reason=reason)
        return {"checks": [*decision.checks, check], "reasons": [*decision.reasons, reason]}
    new = round_down(asked, instrument.quantity_step) if instrument else asked
    if instrument is not None and new < instrument.min_quantity:
        reason = (
            f"{note}: shrunk to {new:.6g}, below the {instrument.symbol} minimum "
            f"{instrument.min_quantity:g}"
        )
        check = RiskCheck(name=AGENT_CHECK, passed=False, reason=reason, max_quantity=0.0)
        return _denied(decision, reason, check)
    reason = f"shrunk by {note} from {current:.6g} to {new:.6g}"
    check = RiskCheck(name=AGENT_CHECK, passed=True, reason=reason, max_quantity=new)
    return {
        "approved_quantity": new,
        "checks": [*decision.checks, check],
        "reasons": [*decision.reasons, reason],
    }
