"""Facts the desk records about its own orders: the per-minute order count the risk engine
limits, and the order of an approval's timestamps."""

from __future__ import annotations

from pathlib import Path

from tests.desk.helpers import build_desk, make_settings
from tradecrew.models import ProposalRequest, ProposalStatus, Side


def test_a_bracket_trade_counts_as_one_order_towards_the_per_minute_limit(tmp_path: Path):
    """A filled entry with a stop-loss and a take-profit leaves two legs working at the
    venue, recorded as external orders: the limit counts the desk's one order, not three."""
    desk = build_desk(tmp_path, make_settings(tmp_path, max_orders_per_minute=2))
    try:
        last = desk.broker.quote("XAUUSD").last
        bracket = {"stop_loss": round(last * 0.97, 2), "take_profit": round(last * 1.05, 2)}
        first = desk.propose(
            ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0, **bracket)
        )
        assert desk.approve(first.proposal_id, actor="alice").status is ProposalStatus.FILLED
        report = desk.reconcile()
        assert len(report.bracket_legs) == 2, report  # the legs are in the ledger now
        second = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0))
        assert second.status is ProposalStatus.PENDING, second.reasons
        (rate,) = [c for c in second.decision.checks if c.name == "rate_limit"]
        assert rate.reason.startswith("1 orders in the last 60s"), rate.reason
    finally:
        desk.close()


def test_an_approval_is_consumed_no_earlier_than_it_was_given(tmp_path: Path):
    """The audit log tells the story in order: approved, then used by the order."""
    desk = build_desk(tmp_path, make_settings(tmp_path))
    try:
        out = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0))
        desk.approve(out.proposal_id, actor="alice")
        (approval,) = desk.explain(out.proposal_id).approvals
        assert approval.consumed_at is not None
        assert approval.approved_at <= approval.consumed_at
        (order,) = desk.ledger.orders(proposal_id=out.proposal_id)
        assert approval.consumed_at <= order.created_at
    finally:
        desk.close()
