"""The ledger's composite operations: each is one transaction that lands whole or not at all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ledger.helpers import make_decision, make_fill, make_order, make_proposal
from tradecrew.ledger import (
    ApprovalChannel,
    ApprovalError,
    Conflict,
    Grant,
    HumanApprovalRequired,
    IllegalTransition,
    Ledger,
    NotFound,
    Overfill,
    TermsChanged,
    TradingHalted,
)
from tradecrew.models import (
    HUMAN_CHANNELS,
    Order,
    OrderStatus,
    Proposal,
    ProposalStatus,
    RiskDecision,
    TradingState,
    utcnow,
)


@pytest.fixture
def db_url(ledger_url: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL (``ledger_url``)."""
    return ledger_url


def _denied(proposal: Proposal) -> RiskDecision:
    return make_decision(proposal).model_copy(
        update={"approved": False, "approved_quantity": 0.0, "reasons": ["max_position: too big"]}
    )


def _pending_with_decision(ledger: Ledger) -> tuple[Proposal, RiskDecision]:
    proposal = make_proposal()
    return ledger.add_decided_proposal(proposal, make_decision(proposal))


def _order_for(proposal: Proposal) -> Order:
    return make_order(
        client_order_id=f"tc-{proposal.id}", quantity=proposal.quantity, proposal_id=proposal.id
    )


def test_a_proposal_and_its_decision_land_together(ledger: Ledger) -> None:
    proposal, decision = _pending_with_decision(ledger)
    record = ledger.proposal_record(proposal.id)
    assert record.proposal.status is ProposalStatus.PENDING
    assert record.decisions == [decision]
    actions = [e.action for e in reversed(ledger.audit_log(10))]
    assert actions == ["proposal.created", "decision.recorded"]


def test_a_denied_decision_leaves_the_proposal_vetoed_with_its_reasons(ledger: Ledger) -> None:
    proposal = make_proposal()
    stored, decision = ledger.add_decided_proposal(proposal, _denied(proposal))
    assert stored.status is ProposalStatus.VETOED
    assert ledger.get_proposal(proposal.id).status_reason == "max_position: too big"
    assert not decision.approved


def test_a_decision_for_another_proposal_stores_nothing(ledger: Ledger) -> None:
    proposal, other = make_proposal(), make_proposal()
    with pytest.raises(NotFound):
        ledger.add_decided_proposal(proposal, make_decision(other))
    with pytest.raises(NotFound):
        ledger.get_proposal(proposal.id)
    assert ledger.audit_count() == 0


_PAPER_AUTO = HUMAN_CHANNELS | {ApprovalChannel.AUTO}


def _grant(decision: RiskDecision, actor: str = "alice", channel: str = "cli") -> Grant:
    return Grant(
        actor=actor,
        channel=ApprovalChannel(channel),
        expires_at=decision.expires_at,
        order_hash=decision.order_hash,
    )


def _open(ledger: Ledger, proposal: Proposal, decision: RiskDecision, **kw: object) -> Order:
    options: dict[str, object] = {"accepted": HUMAN_CHANNELS, "grant": _grant(decision)}
    options.update(kw)
    return ledger.open_order(
        _order_for(proposal),
        decision.order_hash,
        "gate",
        utcnow(),
        **options,  # type: ignore[arg-type]
    )


def test_a_granted_approval_the_order_and_the_statuses_land_together(ledger: Ledger) -> None:
    proposal, decision = _pending_with_decision(ledger)
    order = _open(ledger, proposal, decision)
    record = ledger.proposal_record(proposal.id)
    assert record.proposal.status is ProposalStatus.SUBMITTED
    assert record.orders == [order] and order.status is OrderStatus.NEW
    (approval,) = ledger.approvals(proposal.id)
    assert (approval.actor, approval.consumed_by) == ("alice", "gate")
    actions = [e.action for e in ledger.audit_log(5)][::-1]
    assert actions == [
        "approval.granted",
        "proposal.transition",
        "approval.consumed",
        "order.created",
        "proposal.transition",
    ]


def test_a_grant_for_a_proposal_that_cannot_be_approved_keeps_nothing(ledger: Ledger) -> None:
    proposal = make_proposal()
    _, decision = ledger.add_decided_proposal(proposal, _denied(proposal))
    with pytest.raises(IllegalTransition):
        _open(ledger, proposal, decision.model_copy(update={"expires_at": utcnow() + timedelta(1)}))
    assert ledger.approvals(proposal.id) == []
    assert ledger.orders(proposal_id=proposal.id) == []


def test_a_grant_for_other_terms_than_the_order_opens_nothing(ledger: Ledger) -> None:
    """The person approved one order hash; the order to open has another (the proposal was
    decided again in between): nothing is approved, consumed or opened, and it stays pending."""
    proposal, decision = _pending_with_decision(ledger)
    seen = decision.model_copy(update={"order_hash": "f" * 64})
    with pytest.raises(TermsChanged, match="changed after alice approved"):
        _open(ledger, proposal, decision, grant=_grant(seen))
    assert ledger.approvals(proposal.id) == []
    assert ledger.orders(proposal_id=proposal.id) == []
    assert ledger.get_proposal(proposal.id).status is ProposalStatus.PENDING
    assert ledger.audit_log(1)[0].action == "approval.refused"


def test_an_earlier_approval_opens_an_order_without_a_grant(ledger: Ledger) -> None:
    proposal, decision = _pending_with_decision(ledger)
    ledger.record_approval(proposal.id, decision.order_hash, "alice", "cli", decision.expires_at)
    ledger.transition_proposal(proposal.id, ProposalStatus.APPROVED, "by alice", "alice")
    order = _open(ledger, proposal, decision, grant=None)
    assert ledger.proposal_record(proposal.id).orders == [order]
    assert ledger.approvals(proposal.id)[0].consumed_by == "gate"


def test_an_approval_is_used_once(ledger: Ledger) -> None:
    proposal, decision = _pending_with_decision(ledger)
    _open(ledger, proposal, decision)
    with pytest.raises(ApprovalError, match="already used"):
        _open(ledger, proposal, decision, grant=None)
    assert len(ledger.orders(proposal_id=proposal.id)) == 1


def test_an_automatic_approval_does_not_open_an_order_that_needs_a_human(ledger: Ledger) -> None:
    proposal, decision = _pending_with_decision(ledger)
    with pytest.raises(HumanApprovalRequired, match="human"):
        _open(ledger, proposal, decision, grant=_grant(decision, "auto", "auto"))
    assert ledger.orders(proposal_id=proposal.id) == []
    # The refusal is kept with the automatic approval it refused; nothing was consumed.
    assert ledger.approvals(proposal.id)[0].consumed_at is None
    assert ledger.get_proposal(proposal.id).status is ProposalStatus.APPROVED
    assert ledger.audit_log(1)[0].action == "approval.refused"


@pytest.mark.parametrize("channel", ["mcp_tool", "mcp", "auto"])
def test_a_channel_off_the_human_allow_list_opens_nothing(ledger: Ledger, channel: str) -> None:
    # "mcp" is what approvals through MCP were stored as before confirmations were told
    # apart: none of them was ever confirmed by a person.
    proposal, decision = _pending_with_decision(ledger)
    with pytest.raises(HumanApprovalRequired, match=channel):
        _open(ledger, proposal, decision, grant=_grant(decision, "mcp-user", channel))
    assert ledger.orders(proposal_id=proposal.id) == []
    assert ledger.approvals(proposal.id)[0].consumed_at is None


def test_a_bare_mcp_approval_opens_an_order_where_the_account_accepts_it(ledger: Ledger) -> None:
    proposal, decision = _pending_with_decision(ledger)
    accepted = HUMAN_CHANNELS | {ApprovalChannel.MCP_UNCONFIRMED}
    grant = _grant(decision, "mcp-user", "mcp_tool")
    order = _open(ledger, proposal, decision, accepted=accepted, grant=grant)
    assert ledger.proposal_record(proposal.id).orders == [order]


def test_an_automatic_approval_opens_an_order_where_no_human_is_needed(ledger: Ledger) -> None:
    proposal, decision = _pending_with_decision(ledger)
    order = _open(
        ledger, proposal, decision, accepted=_PAPER_AUTO, grant=_grant(decision, "auto", "auto")
    )
    assert ledger.proposal_record(proposal.id).orders == [order]


def test_a_halted_desk_opens_nothing_and_keeps_nothing(ledger: Ledger) -> None:
    proposal, decision = _pending_with_decision(ledger)
    ledger.set_trading_state(TradingState.HALTED, "test", "alice")
    with pytest.raises(TradingHalted):
        _open(ledger, proposal, decision)
    assert ledger.orders(proposal_id=proposal.id) == []
    assert ledger.approvals(proposal.id) == []
    assert ledger.get_proposal(proposal.id).status is ProposalStatus.PENDING


def test_an_order_without_its_proposal_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="proposal"):
        ledger.open_order(make_order(), "hash-1", "gate", utcnow(), accepted=_PAPER_AUTO)


def _submitted(ledger: Ledger) -> Order:
    proposal, decision = _pending_with_decision(ledger)
    return _open(ledger, proposal, decision, accepted=_PAPER_AUTO)


def test_a_broker_report_books_fills_and_moves_order_and_proposal(ledger: Ledger) -> None:
    order = _submitted(ledger)
    seen = order.model_copy(
        update={"broker_order_id": "B-1", "status": OrderStatus.FILLED, "filled_quantity": 10.0}
    )
    fills = [make_fill(order, 4.0, 100.0, "f1"), make_fill(order, 6.0, 101.0, "f2")]
    synced = ledger.apply_broker_report(order.id, seen, fills, "gate")
    assert synced.status is OrderStatus.FILLED and synced.broker_order_id == "B-1"
    assert synced.average_fill_price == pytest.approx(100.6)
    record = ledger.proposal_record(order.proposal_id or "")
    assert record.proposal.status is ProposalStatus.FILLED
    assert [f.broker_fill_id for f in record.fills] == ["f1", "f2"]
    assert ledger.verify_audit_chain().ok


def test_the_same_report_twice_books_each_fill_once(ledger: Ledger) -> None:
    order = _submitted(ledger)
    seen = order.model_copy(update={"status": OrderStatus.PARTIALLY_FILLED})
    fills = [make_fill(order, 4.0, 100.0, "f1")]
    ledger.apply_broker_report(order.id, seen, fills, "gate")
    again = ledger.apply_broker_report(order.id, seen, fills, "gate")
    assert again.filled_quantity == 4.0 and again.status is OrderStatus.PARTIALLY_FILLED
    assert len(ledger.fills(order.id)) == 1


def test_a_cancel_reported_by_the_broker_cancels_order_and_proposal(ledger: Ledger) -> None:
    order = _submitted(ledger)
    seen = order.model_copy(update={"status": OrderStatus.CANCELLED, "status_reason": "ioc"})
    synced = ledger.apply_broker_report(order.id, seen, [], "reconcile")
    assert synced.status is OrderStatus.CANCELLED and synced.status_reason == "ioc"
    assert ledger.get_proposal(order.proposal_id or "").status is ProposalStatus.CANCELLED


def test_an_overfilling_report_is_refused_after_its_good_fills_are_booked(ledger: Ledger) -> None:
    order = _submitted(ledger)
    seen = order.model_copy(update={"status": OrderStatus.FILLED})
    fills = [make_fill(order, 6.0, 100.0, "f1"), make_fill(order, 6.0, 100.0, "f2")]
    with pytest.raises(Overfill):
        ledger.apply_broker_report(order.id, seen, fills, "gate")
    kept = ledger.get_order(order.id)
    assert kept.filled_quantity == 6.0 and kept.status is OrderStatus.PARTIALLY_FILLED
    assert ledger.audit_log(1)[0].action == "fill.refused"


def test_a_report_naming_another_broker_id_is_a_conflict(ledger: Ledger) -> None:
    order = _submitted(ledger)
    ledger.apply_broker_report(order.id, order.model_copy(update={"broker_order_id": "B-1"}), [])
    with pytest.raises(Conflict, match="B-1"):
        ledger.apply_broker_report(
            order.id, order.model_copy(update={"broker_order_id": "B-2"}), []
        )


def test_risk_facts_read_state_recent_orders_open_orders_and_equity(ledger: Ledger) -> None:
    from tradecrew.models import Account, AccountMode

    now = utcnow()
    order = _submitted(ledger)
    for equity in (1_000.0, 1_200.0, 1_100.0):
        ledger.record_account_snapshot(
            Account(
                account_id="a",
                broker="paper",
                mode=AccountMode.PAPER,
                cash=equity,
                equity=equity,
                buying_power=equity,
            )
        )
    ledger.set_trading_state(TradingState.REDUCING, "drawdown", "system")
    facts = ledger.risk_facts("paper", now - timedelta(seconds=60), now - timedelta(hours=1))
    assert facts.trading_state.state is TradingState.REDUCING
    assert facts.open_orders == [order]
    assert facts.orders_last_minute == 1
    assert (facts.first_equity_today, facts.peak_equity) == (1_000.0, 1_200.0)
    later = ledger.risk_facts("paper", now + timedelta(hours=1), now + timedelta(hours=1))
    assert later.orders_last_minute == 0 and later.first_equity_today is None
    other = ledger.risk_facts("alpaca", now - timedelta(seconds=60), now)
    assert other.open_orders == [] and other.peak_equity is None


def test_a_record_of_an_unknown_proposal_is_not_found(ledger: Ledger) -> None:
    with pytest.raises(NotFound):
        ledger.proposal_record("prp_missing")
