"""The order's last re-check runs under the ledger's write lock, and a broker report that
contradicts an order the ledger closed moves the desk to REDUCING with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from tests.ledger.helpers import make_decision, make_fill, make_order, make_proposal
from tradecrew.ledger import ApprovalChannel, Grant, Ledger
from tradecrew.models import (
    HUMAN_CHANNELS,
    Order,
    OrderStatus,
    ProposalStatus,
    TradingState,
    utcnow,
)


class _Refused(Exception):
    pass


def _open(ledger: Ledger, recheck: object) -> Order:
    proposal = make_proposal()
    proposal, decision = ledger.add_decided_proposal(proposal, make_decision(proposal))
    grant = Grant(
        actor="alice",
        channel=ApprovalChannel.CLI,
        expires_at=decision.expires_at,
        order_hash=decision.order_hash,
    )
    order = make_order(client_order_id=f"tc-{proposal.id}", proposal_id=proposal.id)
    return ledger.open_order(
        order,
        decision.order_hash,
        "gate",
        utcnow(),
        accepted=HUMAN_CHANNELS,
        grant=grant,
        recheck=recheck,  # type: ignore[arg-type]
    )


def test_the_recheck_holds_the_write_lock_other_writers_wait_for(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'l.db'}"
    seen: list[str] = []
    with Ledger(url) as ledger, Ledger(url, busy_timeout=0.1) as other:

        def recheck() -> None:
            # Another connection (as another process would) cannot write meanwhile...
            with pytest.raises(OperationalError, match="locked"):
                other.add_proposal(make_proposal(), "bob")
            # ...while this thread's reads go through the locked transaction.
            seen.append(ledger.get_trading_state().state.value)
            seen.append(str(len(ledger.risk_facts("paper", utcnow(), utcnow()).open_orders)))

        order = _open(ledger, recheck)
        assert seen == ["active", "0"]
        assert ledger.get_order(order.id).status is OrderStatus.NEW
        assert other.get_order(order.id) == ledger.get_order(order.id)


def test_a_refused_recheck_stores_nothing(tmp_path: Path) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'l.db'}") as ledger:

        def recheck() -> None:
            raise _Refused("max_position: too big")

        before = ledger.audit_count()
        with pytest.raises(_Refused):
            _open(ledger, recheck)
        (proposal,) = ledger.list_proposals()
        assert proposal.status is ProposalStatus.PENDING
        assert ledger.approvals(proposal.id) == [] and ledger.orders() == []
        assert ledger.audit_count() == before + 2  # the proposal and its decision only


def test_the_recheck_reads_an_in_memory_ledger_through_its_transaction() -> None:
    with Ledger("sqlite://") as ledger:
        order = _open(ledger, lambda: ledger.get_trading_state())
        assert ledger.get_order(order.id).status is OrderStatus.NEW


def _closed_then_filled(ledger: Ledger) -> tuple[Order, Order]:
    """An order closed as never sent, and the broker's report that it filled after all."""
    order = _open(ledger, None)
    ledger.update_order(
        order.id, status=OrderStatus.CANCELLED, reason="never reached the broker", actor="rec"
    )
    seen = order.model_copy(update={"status": OrderStatus.FILLED, "filled_quantity": 10.0})
    return order, seen


def test_a_fill_on_an_order_closed_as_never_sent_moves_the_desk_to_reducing(
    tmp_path: Path,
) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        order, seen = _closed_then_filled(ledger)
        fill = make_fill(order, 10.0, 2300.0, broker_fill_id="f1")
        after = ledger.apply_broker_report(order.id, seen, [fill], "gate")
        assert after.status is OrderStatus.CANCELLED and after.filled_quantity == 10.0
        assert after.status_reason.startswith("contradicted by the broker: filled there")
        state = ledger.get_trading_state()
        assert state.state is TradingState.REDUCING and state.tripped_by == "reconciler"
        assert order.id in state.reason and order.client_order_id in state.reason
        # A person looks and resumes; the same report again changes nothing.
        ledger.set_trading_state(TradingState.ACTIVE, "checked the venue", "carol")
        audit = ledger.audit_count()
        ledger.apply_broker_report(order.id, seen, [fill], "reconciler")
        assert ledger.get_trading_state().state is TradingState.ACTIVE
        assert ledger.audit_count() == audit


def test_a_contradicting_report_never_lifts_a_halt(tmp_path: Path) -> None:
    with Ledger(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        order, seen = _closed_then_filled(ledger)
        ledger.set_trading_state(TradingState.HALTED, "news spike", "carol")
        ledger.apply_broker_report(order.id, seen, [make_fill(order, 10.0, 2300.0, "f1")], "gate")
        assert ledger.get_trading_state().state is TradingState.HALTED
        assert "contradicted" in ledger.get_order(order.id).status_reason
