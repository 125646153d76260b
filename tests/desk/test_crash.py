"""A desk process killed (SIGKILL) around the broker call: after a restart and a reconcile,
the venue holds at most the one order, the ledger agrees once, and nothing is sent twice."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from tests.desk.helpers import Clock, SubmitLog, build_desk, full_audit, make_settings
from tests.desk.invariants import (
    check_audit_chain,
    check_broker_orders_obey_the_rule,
    check_one_order_per_proposal,
    check_proposal_lifecycles,
    check_quantities,
)
from tradecrew.brokers.paper import PaperBroker
from tradecrew.desk.gate import GateRefusal, client_order_id
from tradecrew.models import (
    TERMINAL_ORDER_STATUSES,
    TERMINAL_PROPOSAL_STATUSES,
    OrderStatus,
    ProposalStatus,
    utcnow,
)

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

# The victim builds the same desk the parent rebuilds (tests.desk.helpers), with a venue that
# dies right before or right after it takes the order.
_VICTIM = textwrap.dedent(
    """
    import os
    import signal
    import sys
    from pathlib import Path

    from tests.desk.helpers import build_desk, make_settings
    from tradecrew.brokers.paper import PaperBroker
    from tradecrew.models import ProposalRequest, Side

    home, when = Path(sys.argv[1]), sys.argv[2]


    class DyingBroker(PaperBroker):
        def submit(self, order):
            if when == "before":
                os.kill(os.getpid(), signal.SIGKILL)
            placed = super().submit(order)
            os.kill(os.getpid(), signal.SIGKILL)
            return placed


    desk = build_desk(home, make_settings(home), broker_cls=DyingBroker)
    out = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0))
    print(out.proposal_id, out.status.value, flush=True)
    desk.approve(out.proposal_id, actor="alice")
    print("survived", flush=True)
    """
)


def _run_victim(home: Path, when: str) -> str:
    """Run the victim to its death; the proposal id it printed."""
    script = home / "victim.py"
    script.write_text(_VICTIM)
    proc = subprocess.run(
        [sys.executable, str(script), str(home), when],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    lines = proc.stdout.split()
    assert "survived" not in lines
    pid, status = lines[0], lines[1]
    assert status == ProposalStatus.PENDING.value
    return pid


def _check_everything(home: Path, log: SubmitLog) -> None:
    desk = build_desk(home, make_settings(home), log=log)
    try:
        audit = full_audit(desk.ledger)
        check_broker_orders_obey_the_rule(desk, audit, human_required=True)
        check_quantities(desk)
        check_one_order_per_proposal(desk)
        check_proposal_lifecycles(desk, audit)
        check_audit_chain(desk)
    finally:
        desk.close()


def test_kill_after_the_venue_took_the_order_is_recovered_once(desk_home: Path) -> None:
    proposal_id = _run_victim(desk_home, "after")

    venue = PaperBroker(desk_home / "paper.db", settings=make_settings(desk_home).broker)
    at_venue = venue.orders()
    venue_fills = venue.fills()
    venue.close()
    assert len(at_venue) == 1 and at_venue[0].client_order_id == client_order_id(proposal_id)

    log = SubmitLog()
    desk = build_desk(desk_home, make_settings(desk_home), log=log)
    (before,) = desk.ledger.orders(proposal_id=proposal_id)
    assert before.status not in TERMINAL_ORDER_STATUSES  # the ledger never heard back

    first = desk.reconcile()
    second = desk.reconcile()
    (order,) = desk.ledger.orders(proposal_id=proposal_id)
    assert order.status is at_venue[0].status
    assert order.filled_quantity == at_venue[0].filled_quantity
    fills = desk.ledger.fills(order.id)
    assert sorted(f.broker_fill_id for f in fills) == sorted(f.broker_fill_id for f in venue_fills)
    assert first.fills_recorded == len(venue_fills) and second.fills_recorded == 0
    assert not first.external_orders and not second.external_orders
    assert not second.position_mismatches
    assert desk.ledger.get_proposal(proposal_id).status is ProposalStatus.FILLED

    again = desk.gate.submit(proposal_id, "alice")
    assert again.id == order.id
    assert log.attempts == []
    assert len(desk.broker.orders()) == 1
    desk.close()
    _check_everything(desk_home, log)
    assert log.attempts == []


def test_kill_before_the_broker_call_is_closed_as_never_sent(desk_home: Path) -> None:
    proposal_id = _run_victim(desk_home, "before")

    log = SubmitLog()
    settings = make_settings(desk_home)
    desk = build_desk(desk_home, settings, log=log)
    assert desk.broker.orders() == []
    (before,) = desk.ledger.orders(proposal_id=proposal_id)
    # Within the grace period its process may still be sending it: left alone.
    early = desk.reconcile()
    assert early.still_in_flight == [before.id] and early.never_sent == []
    # Claimed for sending (SUBMITTED) before it died: it may have been on its way.
    assert desk.ledger.get_order(before.id).status is OrderStatus.SUBMITTED
    desk.close()

    # Past it, the broker (asked by client order id) does not know it: closed as never sent.
    grace = timedelta(seconds=settings.broker.submit_grace_seconds + 1)
    desk = build_desk(desk_home, settings, log=log, clock=Clock(utcnow() + grace))
    report = desk.reconcile()
    desk.reconcile()
    (order,) = desk.ledger.orders(proposal_id=proposal_id)
    assert desk.broker.orders() == []
    assert report.never_sent == [before.id], report
    assert order.status is OrderStatus.CANCELLED
    assert desk.ledger.fills(order.id) == []
    assert desk.ledger.get_proposal(proposal_id).status in TERMINAL_PROPOSAL_STATUSES

    with contextlib.suppress(GateRefusal):
        desk.gate.submit(proposal_id, "alice")
    assert log.attempts == [] and desk.broker.orders() == []
    desk.close()
    _check_everything(desk_home, log)
