"""What the desk decides, and that it refuses clearly: sizing, vetoes, the kill switch,
approvals, expiry, auto-approval on paper and agent verdicts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.desk.helpers import Clock, build_desk, make_settings
from tradecrew.desk import Desk, DeskError
from tradecrew.instruments import UnknownSymbol, get_instrument
from tradecrew.ledger import NotFound
from tradecrew.models import (
    AgentVerdict,
    OrderStatus,
    ProposalRequest,
    ProposalStatus,
    Side,
    TradingState,
)
from tradecrew.risk import CHECKS, proposal_hash

GOLD = ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0)


def _desk(home: Path, clock: Clock | None = None, **overrides: object) -> Desk:
    auto = bool(overrides.pop("auto_approve", False))
    return build_desk(
        home, make_settings(home, auto_approve=auto, **overrides), clock=clock or Clock()
    )


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    d = _desk(tmp_path)
    yield d
    d.close()


def _named_checks(reasons: list[str]) -> set[str]:
    return {r.split(":", 1)[0] for r in reasons}


# ---------------------------------------------------------------------- determinism


def test_equal_inputs_give_equal_decisions(tmp_path: Path) -> None:
    request = ProposalRequest(symbol="BTCUSD", side=Side.BUY, quantity=3.0)
    outcomes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        d = _desk(tmp_path / name)
        outcomes.append(d.propose(request))
        d.close()
    a, b = outcomes
    assert a.proposal_id != b.proposal_id
    assert a.decision is not None and b.decision is not None
    assert a.approved_quantity == b.approved_quantity
    assert a.reasons == b.reasons and a.reasons  # 3 BTC is shrunk, so there are reasons
    assert a.decision.order_hash == b.decision.order_hash
    assert a.decision.checks == b.decision.checks
    assert a.decision.expires_at == b.decision.expires_at


# ---------------------------------------------------------------------- sizing and vetoes


def test_oversized_order_is_shrunk_with_reasons(desk: Desk) -> None:
    # 50 oz is about 2.3x the order limit: near enough to be shrunk (far beyond it: vetoed).
    request = ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=50.0)
    out = desk.propose(request)
    assert out.status is ProposalStatus.PENDING
    assert out.approved_quantity is not None and 0 < out.approved_quantity < 50.0
    ask = desk.broker.quote("XAUUSD").ask
    assert out.approved_quantity * ask <= desk.settings.risk.max_order_notional * (1 + 1e-9)
    assert out.reasons and _named_checks(out.reasons) <= set(CHECKS)
    assert "shrank" in out.message
    assert out.decision is not None
    assert out.decision.order_hash == proposal_hash(out.proposal, out.approved_quantity)
    assert desk.broker.orders() == []  # waits for a human


def test_order_below_the_instrument_minimum_is_vetoed_with_reason(desk: Desk) -> None:
    minimum = get_instrument("EURUSD").min_quantity
    out = desk.propose(ProposalRequest(symbol="EURUSD", side=Side.SELL, quantity=minimum / 2))
    assert out.status is ProposalStatus.VETOED
    assert out.approved_quantity == 0.0
    assert any(r.startswith("min_quantity:") for r in out.reasons)
    assert desk.ledger.get_proposal(out.proposal_id).status_reason
    with pytest.raises(DeskError, match="vetoed"):
        desk.approve(out.proposal_id)
    assert desk.broker.orders() == []


def test_position_at_its_notional_cap_vetoes_more_of_the_same(tmp_path: Path) -> None:
    d = _desk(tmp_path, max_position_notional=10_000.0)
    first = d.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=10.0))
    assert first.approved_quantity is not None and first.approved_quantity < 10.0
    filled = d.approve(first.proposal_id, actor="alice")
    assert filled.status is ProposalStatus.FILLED
    more = d.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0))
    assert more.status is ProposalStatus.VETOED
    assert "max_position" in " ".join(more.reasons)
    # Selling reduces the position and stays allowed.
    less = d.propose(ProposalRequest(symbol="XAUUSD", side=Side.SELL, quantity=1.0))
    assert less.status is ProposalStatus.PENDING
    assert len(d.broker.orders()) == 1
    d.close()


def test_unknown_symbol_is_refused_before_anything_is_stored(desk: Desk) -> None:
    with pytest.raises(UnknownSymbol):
        desk.propose(ProposalRequest(symbol="NOPE", side=Side.BUY, quantity=1.0))
    assert desk.proposals() == []
    assert desk.ledger.audit_count() == 0


# ---------------------------------------------------------------------- kill switch


def test_kill_switch_blocks_approval_of_a_pending_proposal(desk: Desk) -> None:
    out = desk.propose(GOLD)
    assert out.status is ProposalStatus.PENDING
    status = desk.set_kill_switch(True, "desk test", actor="carol")
    assert status.kill_switch and status.trading_state is TradingState.HALTED
    after = desk.approve(out.proposal_id, actor="alice")
    assert after.order is None
    assert "kill_switch" in after.message
    assert after.status not in (ProposalStatus.FILLED, ProposalStatus.SUBMITTED)
    assert desk.broker.orders() == []
    assert desk.ledger.orders() == []


def test_kill_switch_change_needs_a_reason(desk: Desk) -> None:
    with pytest.raises(DeskError, match="reason"):
        desk.set_kill_switch(True, "")
    desk.set_kill_switch(True, "stop", actor="carol")
    with pytest.raises(DeskError, match="reason"):
        desk.set_kill_switch(False, "   ", actor="carol")
    assert desk.ledger.get_trading_state().state is TradingState.HALTED
    assert desk.set_kill_switch(False, "resume", actor="carol").kill_switch is False


def test_kill_switch_cancels_resting_orders(desk: Desk) -> None:
    bid = desk.broker.quote("XAUUSD").bid
    limit = ProposalRequest(
        symbol="XAUUSD", side=Side.BUY, quantity=1.0, order_type="limit", limit_price=bid * 0.97
    )
    out = desk.approve(desk.propose(limit).proposal_id, actor="alice")
    assert out.order is not None and out.order.status is OrderStatus.ACCEPTED
    desk.set_kill_switch(True, "stop", actor="carol")
    assert desk.broker.orders(open_only=True) == []
    assert desk.ledger.get_order(out.order.id).status is OrderStatus.CANCELLED


# ---------------------------------------------------------------------- approvals


def test_approving_twice_fails_clearly(desk: Desk) -> None:
    out = desk.propose(GOLD)
    first = desk.approve(out.proposal_id, actor="alice")
    assert first.status is ProposalStatus.FILLED
    with pytest.raises(DeskError, match="filled"):
        desk.approve(out.proposal_id, actor="alice")
    assert len(desk.broker.orders()) == 1


def test_unknown_proposal_id_fails_clearly(desk: Desk) -> None:
    for call in (
        lambda: desk.approve("prp_doesnotexist"),
        lambda: desk.reject("prp_doesnotexist"),
        lambda: desk.record_agent_verdict("prp_doesnotexist", AgentVerdict(verdict="veto")),
    ):
        with pytest.raises(NotFound, match="prp_doesnotexist"):
            call()
    assert desk.broker.orders() == []


def test_expired_risk_approval_is_decided_again(tmp_path: Path) -> None:
    clock = Clock()
    d = _desk(tmp_path, clock)
    out = d.propose(GOLD)
    assert out.decision is not None
    clock.advance(d.settings.risk.approval_ttl_seconds + 1)
    assert out.decision.expires_at <= clock()
    sent = d.approve(out.proposal_id, actor="alice")
    decisions = d.ledger.decisions(out.proposal_id)
    assert len(decisions) == 2
    assert decisions[-1].decided_at == clock()
    assert decisions[-1].expires_at > clock()
    assert sent.status is ProposalStatus.FILLED
    assert sent.order is not None and sent.order.quantity == decisions[-1].approved_quantity
    d.close()


def test_an_expired_approval_is_decided_again_with_the_agents_shrink(tmp_path: Path) -> None:
    """Re-deciding from the bare proposal would drop the shrink, ask the person about a size
    the gate then vetoes, and lose a valid trade: the verdicts on record apply again."""
    clock = Clock()
    d = _desk(tmp_path, clock)
    out = d.propose(GOLD)
    shrunk = d.record_agent_verdict(out.proposal_id, AgentVerdict(verdict="shrink", quantity=0.4))
    assert shrunk.approved_quantity == 0.4
    clock.advance(d.settings.risk.approval_ttl_seconds + 1)
    sent = d.approve(out.proposal_id, actor="alice")
    assert sent.status is ProposalStatus.FILLED, sent.message
    assert sent.order is not None and sent.order.quantity == 0.4
    assert d.ledger.decisions(out.proposal_id)[-1].approved_quantity == 0.4
    d.close()


def test_expired_proposal_cannot_be_approved(tmp_path: Path) -> None:
    clock = Clock()
    d = _desk(tmp_path, clock)
    out = d.propose(GOLD)
    clock.advance(d.settings.risk.proposal_ttl_seconds)
    with pytest.raises(DeskError, match="expired"):
        d.approve(out.proposal_id, actor="alice")
    assert d.ledger.get_proposal(out.proposal_id).status is ProposalStatus.EXPIRED
    assert d.broker.orders() == []
    d.close()


def test_auto_approval_on_paper_fills_without_a_human(tmp_path: Path) -> None:
    d = _desk(tmp_path, auto_approve=True)
    assert not d.human_approval_required
    out = d.propose(GOLD)
    assert out.status is ProposalStatus.FILLED
    assert out.order is not None and len(out.fills) == 1
    approvals = d.ledger.approvals(out.proposal_id)
    assert [a.channel.value for a in approvals] == ["auto"]
    assert len(d.broker.orders()) == 1
    d.close()


def test_without_auto_approval_nothing_is_sent_until_a_human_approves(desk: Desk) -> None:
    assert desk.human_approval_required
    out = desk.propose(GOLD)
    assert out.requires_human_approval and out.status is ProposalStatus.PENDING
    assert desk.broker.orders() == [] and desk.ledger.approvals(out.proposal_id) == []


# ---------------------------------------------------------------------- agent verdicts


def test_agent_veto_stops_a_pending_proposal(desk: Desk) -> None:
    out = desk.propose(GOLD)
    vetoed = desk.record_agent_verdict(
        out.proposal_id, AgentVerdict(verdict="veto", reason="news risk")
    )
    assert vetoed.status is ProposalStatus.VETOED
    with pytest.raises(DeskError):
        desk.approve(out.proposal_id, actor="alice")
    assert desk.broker.orders() == []
    assert [v.verdict.value for v in desk.ledger.verdicts(out.proposal_id)] == ["veto"]


def test_agent_cannot_enlarge_past_the_proposal(desk: Desk) -> None:
    out = desk.propose(GOLD)
    before = desk.ledger.decisions(out.proposal_id)
    with pytest.raises(ValueError, match="enlarge"):
        desk.record_agent_verdict(out.proposal_id, AgentVerdict(verdict="approve", quantity=5.0))
    assert desk.ledger.decisions(out.proposal_id) == before


def test_agent_quantity_above_the_risk_size_is_ignored(desk: Desk) -> None:
    out = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=50.0))
    approved = out.approved_quantity
    assert approved is not None and approved < 49.0
    desk.record_agent_verdict(out.proposal_id, AgentVerdict(verdict="shrink", quantity=49.0))
    newest = [d for d in desk.ledger.decisions(out.proposal_id) if d.id != out.decision.id]
    assert len(newest) == 1 and newest[0].approved_quantity == approved
    sent = desk.approve(out.proposal_id, actor="alice")
    assert sent.order is not None and sent.order.quantity == approved


def test_agent_shrink_is_what_gets_sent(desk: Desk) -> None:
    """The shrunk decision is the latest one, every time (ten proposals, so a tie broken by
    chance between the engine's decision and the agent's cannot pass unnoticed)."""
    for _ in range(10):
        out = desk.propose(GOLD)
        desk.record_agent_verdict(out.proposal_id, AgentVerdict(verdict="shrink", quantity=0.4))
        latest = desk.ledger.latest_decision(out.proposal_id)
        kept = [d.approved_quantity for d in desk.ledger.decisions(out.proposal_id)]
        assert latest is not None and latest.approved_quantity == 0.4, f"decisions: {kept}"
        sent = desk.approve(out.proposal_id, actor="alice")
        assert sent.status is ProposalStatus.FILLED, sent.message
        assert sent.order is not None and sent.order.quantity == 0.4


def test_an_approval_of_terms_decided_again_since_sends_nothing(desk: Desk) -> None:
    """The person was shown the engine's decision; an agent shrank it before their approval
    reached the gate: nothing is sent and it stays pending; approving what is shown now works."""
    out = desk.propose(GOLD)
    assert out.decision is not None
    shown = out.decision.order_hash
    desk.record_agent_verdict(out.proposal_id, AgentVerdict(verdict="shrink", quantity=0.4))
    stale = desk.approve(out.proposal_id, actor="alice", order_hash=shown)
    assert stale.status is ProposalStatus.PENDING and stale.order is None
    assert "changed after alice approved" in stale.message
    assert desk.ledger.approvals(out.proposal_id) == [] and desk.broker.orders() == []
    now = desk.ledger.latest_decision(out.proposal_id)
    assert now is not None and now.order_hash != shown
    sent = desk.approve(out.proposal_id, actor="alice", order_hash=now.order_hash)
    assert sent.order is not None and sent.order.quantity == 0.4


def test_a_verdict_landing_while_the_gate_checks_is_not_taken_for_tampering(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process shrinks the proposal after the gate read it, before its transaction:
    the rows are audited, just not the ones checked. Nothing is sent, the proposal stays
    pending (not rejected with an integrity alarm), and approving what is there now works."""
    out = desk.propose(GOLD)
    real = desk.ledger.open_order

    def shrunk_meanwhile(*args: object, **kwargs: object) -> object:
        desk.record_agent_verdict(out.proposal_id, AgentVerdict(verdict="shrink", quantity=0.4))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(desk.ledger, "open_order", shrunk_meanwhile)
    stale = desk.approve(out.proposal_id, actor="alice")
    assert stale.status is ProposalStatus.PENDING and stale.order is None, stale.message
    assert "changed while it was checked" in stale.message and "audit" not in stale.message
    assert desk.broker.orders() == [] and desk.ledger.verify_audit_chain().ok
    monkeypatch.undo()
    sent = desk.approve(out.proposal_id, actor="alice")
    assert sent.order is not None and sent.order.quantity == 0.4


@settings(max_examples=15, deadline=None)
@given(factor=st.floats(0.001, 1.0), symbol=st.sampled_from(["XAUUSD", "BTCUSD", "SPX"]))
def test_agent_shrink_never_enlarges(
    tmp_path_factory: pytest.TempPathFactory, factor: float, symbol: str
) -> None:
    home = tmp_path_factory.mktemp("shrink")
    d = _desk(home)
    try:
        # Within the shrink ratio of the order limit for each symbol (5 BTC would be vetoed).
        size = 2.0
        request = ProposalRequest(symbol=symbol, side=Side.BUY, quantity=size)
        out = d.propose(request)
        assert out.decision is not None
        d.record_agent_verdict(
            out.proposal_id, AgentVerdict(verdict="shrink", quantity=size * factor)
        )
        for decision in d.ledger.decisions(out.proposal_id):
            assert decision.approved_quantity <= out.decision.approved_quantity
        added = [x for x in d.ledger.decisions(out.proposal_id) if x.id != out.decision.id]
        assert len(added) == 1
        assert added[0].approved_quantity <= min(size * factor, out.decision.approved_quantity)
    finally:
        d.close()


def test_the_same_agent_verdict_twice_is_kept_twice(desk: Desk) -> None:
    """An agent repeating itself is no error: each verdict gets its own decision (ten
    proposals, so a decision-order tie cannot pass by luck)."""
    for _ in range(10):
        out = desk.propose(GOLD)
        for _ in range(2):
            desk.record_agent_verdict(out.proposal_id, AgentVerdict(verdict="approve"))
        assert len(desk.ledger.decisions(out.proposal_id)) == 3
        assert len(desk.ledger.verdicts(out.proposal_id)) == 2


def test_the_order_rate_limit_counts_the_last_minute_of_orders(tmp_path: Path) -> None:
    clock = Clock()
    desk = _desk(tmp_path, clock, max_orders_per_minute=2)
    try:
        for side in (Side.BUY, Side.SELL):
            made = desk.propose(GOLD.model_copy(update={"side": side}))
            assert desk.approve(made.proposal_id).status is ProposalStatus.FILLED
            clock.advance(10)
        third = desk.propose(GOLD)
        assert third.status is ProposalStatus.VETOED
        assert any(r.startswith("rate_limit: 2 orders in the last 60s") for r in third.reasons)
        clock.advance(51)  # the first order is now more than a minute old
        fourth = desk.propose(GOLD)
        assert fourth.status is ProposalStatus.PENDING, fourth.reasons
    finally:
        desk.close()
