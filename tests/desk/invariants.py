"""The one rule and the ledger's promises, checked from the outside after the fact.

Everything here reads only what the ledger, its audit log and the venue report, so a test can
call it after any sequence of operations, crashes and restarts.
"""

from __future__ import annotations

from collections import defaultdict

from tradecrew.desk import Desk
from tradecrew.desk.gate import client_order_id
from tradecrew.ledger import AuditEntry
from tradecrew.models import (
    HUMAN_CHANNELS,
    PROPOSAL_TRANSITIONS,
    Order,
    ProposalStatus,
    TradingState,
)
from tradecrew.risk import order_hash, proposal_hash

_TOL = 1e-9


def _order_terms_hash(order: Order) -> str:
    return order_hash(
        order.symbol,
        order.side,
        order.quantity,
        order.order_type,
        order.limit_price,
        order.stop_price,
        order.stop_loss,
        order.take_profit,
    )


def _first_seq(audit: list[AuditEntry], action: str, entity_id: str) -> int | None:
    for row in audit:
        if row.action == action and row.entity_id == entity_id:
            return row.seq
    return None


def _state_at(audit: list[AuditEntry], seq: int) -> TradingState:
    """The trading state in force just before audit row ``seq``."""
    state = TradingState.ACTIVE
    for row in audit:
        if row.seq >= seq:
            break
        if row.action == "trading_state.changed" and row.after is not None:
            state = TradingState(row.after["state"])
    return state


def check_broker_orders_obey_the_rule(
    desk: Desk, audit: list[AuditEntry], *, human_required: bool
) -> None:
    """Every order at the venue came from a persisted, risk-approved, human-approved,
    unvetoed proposal, for exactly the approved terms, sent while the desk was not halted."""
    ledger = desk.ledger
    for order in desk.broker.orders():
        where = f"broker order {order.client_order_id}"
        assert order.proposal_id is not None, f"{where} has no proposal"
        proposal = ledger.get_proposal(order.proposal_id)  # NotFound fails the test
        assert order.client_order_id == client_order_id(proposal.id), where
        decision = ledger.latest_decision(proposal.id)
        assert decision is not None and decision.approved, f"{where}: no approving decision"
        assert decision.proposal_id == proposal.id
        assert abs(order.quantity - decision.approved_quantity) <= _TOL, (
            f"{where}: quantity {order.quantity} but the risk engine approved "
            f"{decision.approved_quantity}"
        )
        assert order.quantity <= proposal.quantity + _TOL, f"{where} is larger than proposed"
        assert decision.order_hash == proposal_hash(proposal, decision.approved_quantity)
        assert _order_terms_hash(order) == decision.order_hash, f"{where}: terms differ"
        assert order.time_in_force is proposal.time_in_force

        verdicts = ledger.verdicts(proposal.id)
        assert not [v for v in verdicts if v.verdict.value == "veto"], f"{where} was vetoed"
        for v in verdicts:
            if v.quantity is not None:
                assert order.quantity <= v.quantity + _TOL, f"{where} exceeds {v.agent}'s cap"

        used = [a for a in ledger.approvals(proposal.id) if a.consumed_at is not None]
        assert len(used) == 1, f"{where}: {len(used)} consumed approvals"
        approval = used[0]
        assert approval.order_hash == decision.order_hash, f"{where}: approval for other terms"
        if human_required:
            # The allow-list, not "anything but auto": a bare MCP call is no person's.
            assert approval.channel in HUMAN_CHANNELS, f"{where} sent without a human approval"
        assert approval.consumed_at is not None
        assert approval.consumed_at < approval.expires_at, f"{where}: approval used expired"
        assert approval.consumed_at < decision.expires_at, f"{where}: decision used expired"

        ledger_order = ledger.get_order_by_client_id(order.client_order_id)
        created = _first_seq(audit, "order.created", ledger_order.id)
        assert created is not None, f"{where}: the ledger never recorded creating it"
        granted = _first_seq(audit, "approval.granted", approval.id)
        consumed = _first_seq(audit, "approval.consumed", approval.id)
        assert granted is not None and consumed is not None
        assert granted < consumed < created, f"{where}: persisted before it was approved"
        state = _state_at(audit, created)
        assert state is not TradingState.HALTED, f"{where} was created while halted"


def check_quantities(desk: Desk) -> None:
    """Nothing is overfilled, at the venue or in the ledger; fills add up to what is booked."""
    ledger = desk.ledger
    venue_filled: dict[str, float] = defaultdict(float)
    for fill in desk.broker.fills():
        venue_filled[fill.client_order_id] += fill.quantity
    for order in desk.broker.orders():
        assert order.filled_quantity <= order.quantity + _TOL, order
        assert abs(venue_filled[order.client_order_id] - order.filled_quantity) <= 1e-6, order
    for order in ledger.orders():
        assert order.filled_quantity <= order.quantity + _TOL, order
        booked = sum(f.quantity for f in ledger.fills(order.id))
        assert abs(booked - order.filled_quantity) <= 1e-6, (order, booked)
        assert booked <= venue_filled[order.client_order_id] + 1e-6, "ledger booked a phantom fill"
        ids = [f.broker_fill_id for f in ledger.fills(order.id)]
        assert len(ids) == len(set(ids)), f"order {order.id} has a fill booked twice"


def check_one_order_per_proposal(desk: Desk) -> None:
    """One proposal, at most one order, in the ledger and at the venue, and they agree."""
    per_proposal: dict[str, int] = defaultdict(int)
    ours = [o for o in desk.ledger.orders() if not o.external]
    for order in ours:
        assert order.proposal_id is not None
        per_proposal[order.proposal_id] += 1
        assert order.client_order_id == client_order_id(order.proposal_id)
    assert all(n == 1 for n in per_proposal.values()), per_proposal
    venue = desk.broker.orders()
    cids = [o.client_order_id for o in venue]
    assert len(cids) == len(set(cids)), "the venue holds two orders under one client id"
    assert set(cids) <= {o.client_order_id for o in ours}, "the venue has an order we never made"


def check_proposal_lifecycles(desk: Desk, audit: list[AuditEntry]) -> None:
    """Each proposal starts pending and only moves along PROPOSAL_TRANSITIONS, in a chain that
    ends at its stored status."""
    last: dict[str, ProposalStatus] = {}
    for row in audit:
        if row.entity != "proposal":
            continue
        if row.action == "proposal.created":
            assert row.after is not None
            assert row.after["status"] == ProposalStatus.PENDING.value
            assert row.entity_id not in last, f"proposal {row.entity_id} created twice"
            last[row.entity_id] = ProposalStatus.PENDING
        elif row.action == "proposal.transition":
            assert row.before is not None and row.after is not None
            old = ProposalStatus(row.before["status"])
            new = ProposalStatus(row.after["status"])
            assert last.get(row.entity_id) is old, f"{row.entity_id}: chain broken at {row.seq}"
            assert new in PROPOSAL_TRANSITIONS[old], f"{row.entity_id}: {old} -> {new}"
            last[row.entity_id] = new
    for pid, status in last.items():
        assert desk.ledger.get_proposal(pid).status is status, pid


def check_audit_chain(desk: Desk) -> None:
    verification = desk.ledger.verify_audit_chain()
    assert verification.ok, verification
