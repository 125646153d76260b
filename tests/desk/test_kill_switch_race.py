"""The kill switch against an order on its way, in another process: an order stored but not
yet claimed for sending is never sent once the desk is halted; one claimed before the halt
is sent, reported as in flight by the kill switch, and cancelled at the broker when it
arrives (by its sender, or by reconciliation under the halt when its sender died)."""

from __future__ import annotations

import signal
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.desk.helpers import build_desk, make_settings, start_sender
from tradecrew.ledger import HALTED_BEFORE_SENT
from tradecrew.models import OrderStatus, ProposalStatus, TradingState

# The sender: a desk in its own process that pauses where the test says (a slow disk, a GC
# pause or the scheduler, stood in for by waiting on a file): right after its order is stored
# (``stored``) or inside the venue call (``sending``); it may die once the venue took it.
_SENDER = textwrap.dedent(
    """
    import os
    import signal
    import sys
    import time
    from pathlib import Path

    from tests.desk.helpers import build_desk, make_settings
    from tradecrew.brokers.paper import PaperBroker
    from tradecrew.models import OrderType, ProposalRequest, Side

    home, pause, then, kind = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    release = home / "release"


    def wait_for_release():
        deadline = time.monotonic() + 60
        while not release.exists():
            if time.monotonic() > deadline:
                raise SystemExit("never released")
            time.sleep(0.01)


    class Venue(PaperBroker):
        def submit(self, order):
            print("sending", order.client_order_id, flush=True)
            if pause == "sending":
                wait_for_release()
            placed = super().submit(order)
            if then == "die":
                os.kill(os.getpid(), signal.SIGKILL)
            return placed


    desk = build_desk(home, make_settings(home), broker_cls=Venue)
    if pause == "stored":
        opened = desk.ledger.open_order

        def open_then_pause(*args, **kwargs):
            order = opened(*args, **kwargs)  # committed: the order is on record as NEW
            print("stored", order.id, flush=True)
            wait_for_release()
            return order

        desk.ledger.open_order = open_then_pause
    terms = {}
    if kind == "limit":  # a bid below the market: it rests at the venue, working
        below = round(desk.broker.quote("XAUUSD").last * 0.98, 2)
        terms = {"order_type": OrderType.LIMIT, "limit_price": below}
    out = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0, **terms))
    print(out.proposal_id, flush=True)
    done = desk.approve(out.proposal_id, actor="alice")
    print("done", done.status.value, done.message, flush=True)
    desk.close()
    """
)


def _start(home: Path, pause: str, then: str = "report", kind: str = "market"):
    """Start the sender; return it and its proposal id once it is paused where asked."""
    return start_sender(home, _SENDER, pause, then, kind, ready=pause)


def _release(proc: subprocess.Popen[str], home: Path) -> tuple[int, str]:
    (home / "release").touch()
    out, err = proc.communicate(timeout=60)
    return proc.returncode, out + err


@pytest.mark.parametrize("halt", ["kill_switch", "state_only"])
def test_an_order_stored_before_the_halt_and_sent_after_it_is_never_sent(
    desk_home: Path, halt: str
):
    """The attack: process A stores its order (NEW), pauses; process B turns the kill switch
    on; A resumes. Nothing reaches the venue, the order is closed as stopped by the kill
    switch and its proposal ends FAILED. ``state_only``: the halt alone (no kill switch
    sweep of unsent orders), so A's own claim, under the write lock, is what stops it."""
    proc, proposal_id = _start(desk_home, "stored")
    desk = build_desk(desk_home, make_settings(desk_home))
    try:
        (order,) = desk.ledger.orders(proposal_id=proposal_id)
        assert order.status is OrderStatus.NEW
        if halt == "kill_switch":
            status = desk.set_kill_switch(True, "stop everything", actor="bob")
            assert status.closed_unsent == [order.id]
            assert status.cancel_failed == {} and status.in_flight == []
        else:
            desk.ledger.set_trading_state(TradingState.HALTED, "stop everything", "bob")

        code, output = _release(proc, desk_home)
        assert code == 0, output
        assert "sending" not in output, output
        assert "done failed not sent: kill_switch" in output, output
        assert desk.broker.orders() == [] and desk.broker.positions() == []
        closed = desk.ledger.get_order(order.id)
        assert closed.status is OrderStatus.CANCELLED
        assert closed.status_reason.startswith(HALTED_BEFORE_SENT)
        assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.FAILED
        report = desk.reconcile()
        assert not report.position_mismatches and not report.contradicted_orders
        assert desk.ledger.verify_audit_chain().ok
    finally:
        if proc.poll() is None:
            proc.kill()
        desk.close()


def test_an_order_claimed_before_the_halt_is_reported_in_flight_and_cancelled_on_arrival(
    tmp_path: Path,
):
    """The other order of events: A claimed its order (SUBMITTED) and is inside the venue
    call when B halts. The kill switch cannot cancel what the venue does not hold yet: it
    says so (in flight, could not cancel). A's order arrives and rests; A, seeing the halt,
    cancels it at once, so no order of the desk is left working."""
    proc, proposal_id = _start(tmp_path, "sending", kind="limit")
    desk = build_desk(tmp_path, make_settings(tmp_path))
    try:
        (order,) = desk.ledger.orders(proposal_id=proposal_id)
        assert order.status is OrderStatus.SUBMITTED
        status = desk.set_kill_switch(True, "stop everything", actor="bob")
        assert status.trading_state is TradingState.HALTED
        assert status.in_flight == [order.id] and list(status.cancel_failed) == [order.id]
        assert status.closed_unsent == []

        code, output = _release(proc, tmp_path)
        assert code == 0 and "done cancelled" in output, output
        assert "kill switch was turned on while it was being sent" in output, output
        (at_venue,) = desk.broker.orders()
        assert at_venue.status is OrderStatus.CANCELLED and at_venue.filled_quantity == 0
        assert desk.ledger.get_order(order.id).status is OrderStatus.CANCELLED
        assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.CANCELLED
        assert desk.ledger.orders(open_only=True) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        desk.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_an_order_that_arrives_after_the_halt_while_its_sender_died_is_cancelled_by_reconcile(
    tmp_path: Path,
):
    """As above, but A dies as soon as the venue took the order: the order works at the
    venue under a halted desk until reconciliation finds it there and cancels it."""
    proc, proposal_id = _start(tmp_path, "sending", then="die", kind="limit")
    desk = build_desk(tmp_path, make_settings(tmp_path))
    try:
        (order,) = desk.ledger.orders(proposal_id=proposal_id)
        status = desk.set_kill_switch(True, "stop everything", actor="bob")
        assert status.in_flight == [order.id]
        code, output = _release(proc, tmp_path)
        assert code == -signal.SIGKILL, output
        (working,) = desk.broker.orders()
        assert working.status is OrderStatus.ACCEPTED  # at the venue, under the halt

        report = desk.reconcile()
        assert report.cancelled_under_halt == [order.id] and report.cancel_failed == {}
        assert "cancelled orders working at the broker" in report.message
        (at_venue,) = desk.broker.orders()
        assert at_venue.status is OrderStatus.CANCELLED
        closed = desk.ledger.get_order(order.id)
        assert closed.status is OrderStatus.CANCELLED and "desk is halted" in closed.status_reason
        assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.CANCELLED
        assert desk.reconcile().cancelled_under_halt == []  # nothing left to do
    finally:
        if proc.poll() is None:
            proc.kill()
        desk.close()


def test_a_market_order_claimed_before_the_halt_fills_and_both_sides_say_so(tmp_path: Path):
    """What the halt cannot undo: a market order claimed before it fills on arrival. The
    kill switch named it as in flight; its sender says it was on its way."""
    proc, proposal_id = _start(tmp_path, "sending")
    desk = build_desk(tmp_path, make_settings(tmp_path))
    try:
        (order,) = desk.ledger.orders(proposal_id=proposal_id)
        assert desk.set_kill_switch(True, "stop everything", actor="bob").in_flight == [order.id]
        code, output = _release(proc, tmp_path)
        assert code == 0, output
        said = " ".join(output.split())
        assert "done filled sent to the broker: it was on its way when the kill switch" in said
        assert desk.ledger.get_order(order.id).status is OrderStatus.FILLED
    finally:
        if proc.poll() is None:
            proc.kill()
        desk.close()
