"""A writer killed with SIGKILL mid-stream loses nothing it had committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tradecrew.ledger import Ledger
from tradecrew.models import OrderStatus, ProposalStatus

REPO = Path(__file__).resolve().parents[2]

_VICTIM = textwrap.dedent(
    """
    import sys
    from tradecrew.ledger import Ledger
    from tradecrew.models import Fill, Order, Proposal, Side
    ledger = Ledger(sys.argv[1])
    p = ledger.add_proposal(Proposal(symbol="XAUUSD", side=Side.BUY, quantity=1e9))
    print("proposal", p.id, flush=True)
    o = ledger.create_order(Order(client_order_id="crash-1", proposal_id=p.id,
                                  symbol="XAUUSD", side=Side.BUY, quantity=1e9))
    print("order", o.id, flush=True)
    i = 0
    while True:
        ledger.record_fill(Fill(order_id=o.id, client_order_id="crash-1", symbol="XAUUSD",
                                side=Side.BUY, quantity=1.0, price=2000.0,
                                broker_fill_id=f"F{i}"))
        print("fill", i, flush=True)
        i += 1
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_mid_stream_keeps_every_committed_write(ledger_url: str) -> None:
    url = ledger_url  # SQLite and PostgreSQL
    proc = subprocess.Popen(
        [sys.executable, "-c", _VICTIM, url], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    ids: dict[str, str] = {}
    fills_reported = 0
    for line in proc.stdout:
        kind, value = line.split()
        if kind == "fill":
            fills_reported += 1
            if fills_reported == 40:
                os.kill(proc.pid, signal.SIGKILL)  # while it is writing the next fill
                break
        else:
            ids[kind] = value
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    # The victim may have run ahead of this reader: what it printed before dying is still in
    # the pipe, and each printed fill was committed.
    fills_reported += sum(1 for line in proc.stdout if line.startswith("fill"))

    with Ledger(url) as ledger:
        assert ledger.get_proposal(ids["proposal"]).status is ProposalStatus.PENDING
        order = ledger.get_order(ids["order"])
        fills = ledger.fills(order.id)
        # Everything reported committed is there; at most the in-flight one more.
        assert fills_reported <= len(fills) <= fills_reported + 1
        assert order.filled_quantity == len(fills)
        assert order.status is OrderStatus.PARTIALLY_FILLED
        result = ledger.verify_audit_chain()
        assert result.ok, result.reason
        assert result.rows_checked == 2 + 2 * len(fills)
        # The reopened ledger keeps working on top of the recovered chain.
        ledger.audit("test", "note.added", "note", "after-crash")
        assert ledger.verify_audit_chain().ok
