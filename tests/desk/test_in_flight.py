"""An order on its way to the broker in one process while another process reconciles: the
reconciliation leaves it alone for the grace period, and a venue that fills an order the
ledger already closed moves the desk to REDUCING, naming the order."""

from __future__ import annotations

import signal
import subprocess
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from tests.desk.helpers import Clock, build_desk, make_settings, start_sender
from tradecrew.models import (
    OrderStatus,
    ProposalRequest,
    ProposalStatus,
    Side,
    TradingState,
    utcnow,
)

# The sender: a desk whose venue takes the order only once the test says so (a slow network),
# and optionally dies right after the venue filled it, before the ledger hears back.
_SENDER = textwrap.dedent(
    """
    import os
    import signal
    import sys
    import time
    from pathlib import Path

    from tests.desk.helpers import build_desk, make_settings
    from tradecrew.brokers.paper import PaperBroker
    from tradecrew.models import ProposalRequest, Side

    home, then = Path(sys.argv[1]), sys.argv[2]
    release = home / "release"


    class SlowVenue(PaperBroker):
        def submit(self, order):
            print("sending", order.client_order_id, flush=True)
            deadline = time.monotonic() + 60
            while not release.exists():
                if time.monotonic() > deadline:
                    raise SystemExit("never released")
                time.sleep(0.01)
            placed = super().submit(order)
            if then == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            return placed


    desk = build_desk(home, make_settings(home), broker_cls=SlowVenue)
    out = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0))
    print(out.proposal_id, flush=True)
    done = desk.approve(out.proposal_id, actor="alice")
    print("done", done.status.value, done.message, flush=True)
    desk.close()
    """
)


def _start_sender(home: Path, then: str = "report") -> tuple[subprocess.Popen[str], str]:
    """Start the sender and wait until its order is persisted and the venue call has begun."""
    return start_sender(home, _SENDER, then, ready="sending")


def _finish(proc: subprocess.Popen[str], home: Path) -> tuple[int, str]:
    (home / "release").touch()
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out + err


def test_reconcile_during_a_slow_submit_leaves_the_order_alone_and_adopts_its_fill(
    tmp_path: Path,
):
    """The story: while one process waits on the venue, another reconciles (any CLI command,
    the MCP server every minute). The order stays in flight; the venue fills it; the ledger
    says filled and the desk stays ACTIVE with one order at the venue."""
    proc, proposal_id = _start_sender(tmp_path)
    settings = make_settings(tmp_path)
    desk = build_desk(tmp_path, settings)
    try:
        (order,) = desk.ledger.orders(proposal_id=proposal_id)
        report = desk.reconcile()
        assert report.still_in_flight == [order.id] and report.never_sent == []
        assert desk.ledger.get_order(order.id).status is OrderStatus.SUBMITTED  # claimed
        assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.SUBMITTED

        code, output = _finish(proc, tmp_path)
        assert code == 0 and "done filled" in output, output
        after = desk.reconcile()
        filled = desk.ledger.get_order(order.id)
        assert filled.status is OrderStatus.FILLED and filled.filled_quantity == 1.0
        assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.FILLED
        assert [o.client_order_id for o in desk.broker.orders()] == [order.client_order_id]
        assert not after.contradicted_orders and not after.position_mismatches
        assert desk.ledger.get_trading_state().state is TradingState.ACTIVE
    finally:
        if proc.poll() is None:
            proc.kill()
        desk.close()


@pytest.mark.parametrize("then", ["report", "die"])
def test_a_venue_fill_of_an_order_closed_as_never_sent_moves_the_desk_to_reducing(
    tmp_path: Path, then: str
):
    """A submission slower than the grace period: the reconciliation asks the venue, which
    does not know the order yet, and closes it; then the venue fills it. Whether the sender
    reports the fill itself or dies first (the next reconciliation books it), the ledger
    books the fill and the desk moves to REDUCING with a reason naming the order."""
    if then == "die" and not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    proc, proposal_id = _start_sender(tmp_path, then)
    settings = make_settings(tmp_path)
    grace = timedelta(seconds=settings.broker.submit_grace_seconds + 1)
    desk = build_desk(tmp_path, settings, clock=Clock(utcnow() + grace))
    try:
        (order,) = desk.ledger.orders(proposal_id=proposal_id)
        report = desk.reconcile()
        assert report.never_sent == [order.id]
        assert desk.ledger.get_order(order.id).status is OrderStatus.CANCELLED

        code, output = _finish(proc, tmp_path)
        if then == "die":
            assert code == -signal.SIGKILL, output
        else:  # the sender says what happened: sent, filled, but after the ledger closed it
            assert code == 0 and "done failed" in output, output
            said = " ".join(output.split())
            assert "done failed sent to the broker after the ledger had closed order" in said
            assert "the broker filled 1 of 1" in said and "the desk is reducing" in said, said
        after = desk.reconcile()
        if then == "die":  # the venue's fill is news to the ledger: booked now
            assert after.contradicted_orders == [order.id] and after.switched_to_reducing
        else:  # the sender's own report of the fill already recorded it
            assert after.contradicted_orders == [] and not after.switched_to_reducing
        assert not after.position_mismatches  # the venue's fill is booked, once
        assert desk.ledger.positions("paper")[0].quantity == 1.0
        closed = desk.ledger.get_order(order.id)
        assert closed.status is OrderStatus.CANCELLED and closed.filled_quantity == 1.0
        assert "contradicted by the broker" in closed.status_reason
        state = desk.ledger.get_trading_state()
        assert state.state is TradingState.REDUCING
        assert order.id in state.reason and order.client_order_id in state.reason
        # Another reconciliation neither books it again nor reports it again.
        again = desk.reconcile()
        assert again.fills_recorded == 0 and again.contradicted_orders == []
        grow = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0))
        assert grow.status is ProposalStatus.VETOED
    finally:
        if proc.poll() is None:
            proc.kill()
        desk.close()
