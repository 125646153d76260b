"""The gate itself keeps the one rule: each test hands ``OrderGate.submit`` a proposal that
breaks exactly one part of it, on a real ledger, and the broker must receive nothing.

The desk and the engine repeat most of these checks before a proposal reaches the gate; here
nothing stands in front of the gate, so removing any one of its checks fails a test.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from tests.desk.helpers import Clock, make_settings
from tests.desk.recording_broker import RecordingBroker
from tradecrew.config import RiskSettings
from tradecrew.desk import Desk
from tradecrew.desk.gate import GateRefusal
from tradecrew.ledger import ApprovalChannel, Grant, Ledger, NotFound, ProposalRecord
from tradecrew.models import (
    AgentVerdict,
    Proposal,
    ProposalRequest,
    ProposalStatus,
    Side,
    TradingState,
    new_id,
)
from tradecrew.risk.hashing import proposal_hash


class MixedUpLedger(Ledger):
    """A real ledger whose proposal reads hand back another proposal's decisions, as a broken
    query or a bad join would."""

    swap: dict[str, str]

    def proposal_record(self, proposal_id: str) -> ProposalRecord:
        record = super().proposal_record(proposal_id)
        other = getattr(self, "swap", {}).get(proposal_id)
        if other is None:
            return record
        return record.model_copy(update={"decisions": super().proposal_record(other).decisions})


def _broker(desk: Desk) -> RecordingBroker:
    assert isinstance(desk.broker, RecordingBroker)
    return desk.broker


GOLD = ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0)


def pending(desk: Desk, request: ProposalRequest = GOLD) -> Proposal:
    """A persisted proposal the risk engine approved in full, waiting for a person."""
    outcome = desk.propose(request, actor="alice")
    assert outcome.status is ProposalStatus.PENDING, outcome.message
    assert outcome.approved_quantity == request.quantity, outcome.reasons
    return outcome.proposal


def grant(
    desk: Desk, proposal_id: str, clock: Clock, channel: ApprovalChannel = ApprovalChannel.CLI
) -> Grant:
    """Alice's approval of the terms on record for ``proposal_id`` (none: made-up terms)."""
    try:
        decision = desk.ledger.latest_decision(proposal_id)
    except LookupError:
        decision = None
    return Grant(
        actor="alice",
        channel=channel,
        expires_at=clock() + timedelta(minutes=5),
        order_hash=decision.order_hash if decision else "0" * 64,
    )


def refused(desk: Desk, proposal_id: str, rule: str, with_grant: Grant | None) -> GateRefusal:
    """Submit straight to the gate; it must refuse by ``rule`` and send nothing."""
    with pytest.raises(GateRefusal) as info:
        desk.gate.submit(proposal_id, "alice", with_grant)
    assert info.value.rule == rule, info.value
    assert _broker(desk).sent == []
    assert desk.broker.orders() == []
    assert desk.ledger.proposal_record(proposal_id).orders == []
    return info.value


# ------------------------------------------------------------------ the control


def test_a_proposal_that_keeps_every_part_of_the_rule_is_sent_once(
    desk: Desk, clock: Clock
) -> None:
    p = pending(desk)
    order = desk.gate.submit(p.id, "alice", grant(desk, p.id, clock))
    assert [o.client_order_id for o in _broker(desk).sent] == [order.client_order_id]
    assert order.quantity == 1.0


# ------------------------------------------------------------------ 1. a persisted proposal


def test_a_proposal_that_was_never_persisted_is_not_sent(desk: Desk, clock: Clock) -> None:
    with pytest.raises(NotFound):
        desk.gate.submit("prp_neverstored", "alice", grant(desk, "prp_neverstored", clock))
    assert _broker(desk).sent == []


def test_a_rejected_proposal_is_refused_even_with_a_fresh_approval(
    desk: Desk, clock: Clock
) -> None:
    p = pending(desk)
    desk.reject(p.id, actor="bob", reason="changed my mind")
    refused(desk, p.id, "proposal", grant(desk, p.id, clock))


def test_a_pending_proposal_without_an_approval_is_refused(desk: Desk) -> None:
    refused(desk, pending(desk).id, "proposal", None)


# ------------------------------------------------------------------ 2. the risk approval


def test_a_proposal_without_a_risk_decision_is_refused(desk: Desk, clock: Clock) -> None:
    stored = desk.ledger.add_proposal(Proposal(**GOLD.model_dump(), created_at=clock()), "alice")
    refused(desk, stored.id, "risk", grant(desk, stored.id, clock))


def test_a_proposal_whose_latest_decision_denies_it_is_refused(desk: Desk, clock: Clock) -> None:
    p = pending(desk)
    approved = desk.ledger.latest_decision(p.id)
    assert approved is not None
    denial = approved.model_copy(
        update={
            "id": new_id("rdc"),
            "approved": False,
            "approved_quantity": 0.0,
            "order_hash": proposal_hash(p, 0.0),
            "reasons": ["denied"],
        }
    )
    desk.ledger.record_decision(denial)
    refused(desk, p.id, "risk", grant(desk, p.id, clock))


def test_an_expired_risk_approval_is_refused(desk: Desk, clock: Clock) -> None:
    p = pending(desk)
    clock.advance(RiskSettings().approval_ttl_seconds + 1)
    error = refused(desk, p.id, "risk", grant(desk, p.id, clock))
    assert "expired" in error.reason


def test_a_decision_about_another_proposal_is_refused(tmp_path: Path, clock: Clock) -> None:
    settings = make_settings(tmp_path)
    ledger = MixedUpLedger(f"sqlite:///{tmp_path / 'l.db'}")
    broker = RecordingBroker(tmp_path / "paper.db", settings=settings.broker)
    desk = Desk(ledger, broker, settings, clock=clock)
    try:
        first, second = pending(desk), pending(desk)  # the same terms, so the same hash
        ledger.swap = {first.id: second.id}
        error = refused(desk, first.id, "risk", grant(desk, first.id, clock))
        assert "another proposal" in error.reason
    finally:
        desk.close()


def test_terms_edited_in_the_database_after_the_approval_are_refused(
    desk: Desk, clock: Clock, tmp_path: Path
) -> None:
    p = pending(desk)
    with sqlite3.connect(tmp_path / "l.db") as db:
        db.execute("UPDATE proposals SET take_profit = 2600.0 WHERE id = ?", (p.id,))
    assert desk.ledger.get_proposal(p.id).take_profit == 2600.0
    error = refused(desk, p.id, "risk", grant(desk, p.id, clock))
    assert "differ" in error.reason


# ------------------------------------------------------------------ 3. no agent veto


def test_an_agent_veto_is_refused(desk: Desk, clock: Clock) -> None:
    p = pending(desk)
    desk.ledger.record_verdict(p.id, AgentVerdict(verdict="veto", reason="news spike"))
    error = refused(desk, p.id, "veto", grant(desk, p.id, clock))
    assert "news spike" in error.reason


def test_a_decision_larger_than_an_agent_allows_is_refused(desk: Desk, clock: Clock) -> None:
    p = pending(desk)
    desk.ledger.record_verdict(
        p.id, AgentVerdict(verdict="shrink", quantity=0.5, reason="half is enough")
    )
    refused(desk, p.id, "veto", grant(desk, p.id, clock))


# ------------------------------------------------------------------ 4. a human approval


@pytest.mark.parametrize("channel", [ApprovalChannel.AUTO, ApprovalChannel.MCP_UNCONFIRMED])
def test_an_approval_through_a_machine_channel_is_refused(
    desk: Desk, clock: Clock, channel: ApprovalChannel
) -> None:
    p = pending(desk)
    refused(desk, p.id, "human", grant(desk, p.id, clock, channel))


def test_an_approved_proposal_whose_only_approval_is_automatic_is_refused(
    desk: Desk, clock: Clock
) -> None:
    p = pending(desk)
    decision = desk.ledger.latest_decision(p.id)
    assert decision is not None
    desk.ledger.record_approval(
        p.id, decision.order_hash, "auto", ApprovalChannel.AUTO, clock() + timedelta(minutes=5)
    )
    desk.ledger.transition_proposal(p.id, ProposalStatus.APPROVED, "auto-approved", "auto")
    refused(desk, p.id, "human", None)


# ------------------------------------------------------------------ 5. the kill switch


def test_the_kill_switch_refuses_an_approved_order(desk: Desk, clock: Clock) -> None:
    p = pending(desk)
    desk.ledger.set_trading_state(TradingState.HALTED, "drill", "carol", tripped_by="kill_switch")
    refused(desk, p.id, "kill_switch", grant(desk, p.id, clock))


# ------------------------------------------------------------------ the re-check, now


def test_a_context_that_no_longer_allows_the_order_refuses_it(desk: Desk, clock: Clock) -> None:
    # The desk tripped to reducing after the approval: a new long is no longer allowed.
    p = pending(desk)
    desk.ledger.set_trading_state(TradingState.REDUCING, "daily loss", "risk_engine")
    error = refused(desk, p.id, "risk", grant(desk, p.id, clock))
    assert "re-check failed" in error.reason


def test_a_context_that_allows_less_than_was_approved_refuses_it(desk: Desk, clock: Clock) -> None:
    # The limit was lowered after the approval: 1 oz (about 2,000 USD) is now too much.
    p = pending(desk)
    risk = desk.settings.risk.model_copy(update={"max_order_notional": 1_000.0})
    desk.settings = desk.settings.model_copy(update={"risk": risk})
    error = refused(desk, p.id, "risk", grant(desk, p.id, clock))
    assert "re-check failed" in error.reason
