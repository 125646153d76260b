"""Time one trade's worth of ledger writes on SQLite: proposal, decision, approval, order, fill.

Run: ``.venv/bin/python bench/bench_ledger.py [cycles]``. Prints milliseconds per cycle
(five committed, audited transactions plus the approval's consumption) and per operation.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _quick import size

from tradecrew.ledger import Ledger
from tradecrew.models import Fill, Order, Proposal, RiskDecision, Side, utcnow


def one_cycle(ledger: Ledger, i: int, timings: dict[str, list[float]]) -> None:
    def timed(name: str, fn, *args):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = fn(*args)
        timings.setdefault(name, []).append(time.perf_counter() - t0)
        return out

    proposal = Proposal(symbol="XAUUSD", side=Side.BUY, quantity=10.0)
    timed("add_proposal", ledger.add_proposal, proposal)
    expires = utcnow() + timedelta(minutes=5)
    decision = RiskDecision(
        proposal_id=proposal.id,
        approved=True,
        requested_quantity=10.0,
        approved_quantity=10.0,
        order_hash=f"h{i}",
        expires_at=expires,
    )
    timed("record_decision", ledger.record_decision, decision)
    timed("record_approval", ledger.record_approval, proposal.id, f"h{i}", "bench", "cli", expires)
    timed("consume_approval", ledger.consume_approval, proposal.id, f"h{i}", "gate")
    order = Order(
        client_order_id=f"cid-{i}",
        proposal_id=proposal.id,
        symbol="XAUUSD",
        side=Side.BUY,
        quantity=10.0,
    )
    timed("create_order", ledger.create_order, order)
    fill = Fill(
        order_id=order.id,
        client_order_id=order.client_order_id,
        symbol="XAUUSD",
        side=Side.BUY,
        quantity=10.0,
        price=2000.0,
        broker_fill_id=f"f{i}",
    )
    timed("record_fill", ledger.record_fill, fill)


def main(cycles: int = 200) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        ledger = Ledger(f"sqlite:///{Path(tmp) / 'bench.db'}")
        opened = time.perf_counter() - t0
        timings: dict[str, list[float]] = {}
        for i in range(5):  # warm caches (statement compilation, pool)
            one_cycle(ledger, -i - 1, {})
        per_cycle = []
        for i in range(cycles):
            t0 = time.perf_counter()
            one_cycle(ledger, i, timings)
            per_cycle.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        check = ledger.verify_audit_chain()
        verify_s = time.perf_counter() - t0
        ledger.close()
    ms = [x * 1000 for x in per_cycle]
    print(f"ledger bench on SQLite (WAL, synchronous=FULL), {cycles} cycles")
    print(f"  open + migrate fresh db : {opened * 1000:7.1f} ms")
    print(
        f"  one cycle (6 audited txns): median {statistics.median(ms):6.2f} ms, "
        f"p95 {sorted(ms)[int(0.95 * len(ms)) - 1]:6.2f} ms"
    )
    for name, values in timings.items():
        print(f"    {name:17s} median {statistics.median(values) * 1000:6.2f} ms")
    print(
        f"  verify_audit_chain ({check.rows_checked} rows): {verify_s * 1000:7.1f} ms, "
        f"ok={check.ok}"
    )


if __name__ == "__main__":
    main(size(200, 10))
