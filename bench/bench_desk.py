"""Time the desk's round trip (propose -> approve -> paper fill, SQLite writes included) and
the risk check alone; print p50/p99 (targets: round trip p99 < 15 ms, risk check p99 < 1 ms).

Run: ``.venv/bin/python bench/bench_desk.py [iterations]``.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from _quick import size

from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import BrokerSettings, RiskSettings, Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.models import Proposal, ProposalRequest, ProposalStatus, Side
from tradecrew.risk import evaluate
from tradecrew.runtime import settle_gc, tune_allocator

#: Round lots the limits allow, so every iteration fills (sides alternate: positions stay flat).
LOTS = {"XAUUSD": 1.0, "SPX": 2.0, "BTCUSD": 0.05, "EURUSD": 5_000.0}


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _line(name: str, seconds: list[float], target_ms: float | None = None) -> str:
    ms = [s * 1000 for s in seconds]
    p50, p99 = _pct(ms, 0.50), _pct(ms, 0.99)
    verdict = "" if target_ms is None else ("  OK" if p99 < target_ms else "  OVER TARGET")
    target = "" if target_ms is None else f" (target p99 < {target_ms:g} ms)"
    return (
        f"{name:<28} n={len(ms):<6} p50 {p50:8.3f} ms  p99 {p99:8.3f} ms  "
        f"mean {statistics.fmean(ms):8.3f} ms{target}{verdict}"
    )


def _desk(home: Path) -> Desk:
    settings = Settings(
        home=home,
        risk=RiskSettings(max_orders_per_minute=1_000_000),
        broker=BrokerSettings(auto_approve_paper=False),
    )
    broker = PaperBroker(home / "paper.db", settings=settings.broker)
    return Desk(Ledger(f"sqlite:///{home / 'ledger.db'}"), broker, settings)


def round_trips(desk: Desk, n: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"propose": [], "approve + fill": [], "round trip": []}
    symbols = sorted(LOTS)
    for i in range(n):
        symbol = symbols[(i // 2) % len(symbols)]
        side = Side.BUY if i % 2 == 0 else Side.SELL
        request = ProposalRequest(symbol=symbol, side=side, quantity=LOTS[symbol])
        t0 = time.perf_counter()
        made = desk.propose(request, actor="bench")
        t1 = time.perf_counter()
        done = desk.approve(made.proposal_id, actor="bench")
        t2 = time.perf_counter()
        if done.status is not ProposalStatus.FILLED:
            raise SystemExit(f"iteration {i}: {done.status.value}: {done.message}")
        times["propose"].append(t1 - t0)
        times["approve + fill"].append(t2 - t1)
        times["round trip"].append(t2 - t0)
    return times


def risk_checks(desk: Desk, n: int) -> dict[str, list[float]]:
    proposal = desk.ledger.add_proposal(
        Proposal(symbol="XAUUSD", side=Side.BUY, quantity=3.0), "bench"
    )
    now = proposal.created_at
    times: dict[str, list[float]] = {"build risk context": [], "risk check (evaluate)": []}
    for _ in range(max(n // 10, 20)):
        t0 = time.perf_counter()
        desk._context(proposal, now)
        times["build risk context"].append(time.perf_counter() - t0)
    ctx = desk._context(proposal, now)
    for _ in range(n):
        t0 = time.perf_counter()
        evaluate(proposal, ctx)
        times["risk check (evaluate)"].append(time.perf_counter() - t0)
    return times


def main(n: int = 300) -> None:
    tune_allocator()  # as the CLI and the MCP server do at start
    with tempfile.TemporaryDirectory(prefix="tc-bench-desk-") as tmp:
        desk = _desk(Path(tmp))
        round_trips(desk, 8)  # warm caches: sample data, ATR, correlations
        settle_gc()  # as the MCP server does once its desk is open
        trips = round_trips(desk, n)
        checks = risk_checks(desk, 10 * n)
        print(f"desk round trip over {n} iterations (SQLite ledger + paper venue on disk)")
        print(_line("propose", trips["propose"]))
        print(_line("approve + fill", trips["approve + fill"]))
        print(_line("round trip", trips["round trip"], 15.0))
        print(_line("build risk context", checks["build risk context"]))
        print(_line("risk check (evaluate)", checks["risk check (evaluate)"], 1.0))
        print(f"ledger audit rows: {desk.ledger.audit_count()}")
        desk.close()


if __name__ == "__main__":
    main(size(300, 20))
