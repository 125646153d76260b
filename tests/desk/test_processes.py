"""Desks in separate processes sharing one TRADECREW_HOME: approvals made at the same moment
are serialised by the ledger, so together they can never pass a limit either alone passes."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

from tests.desk.helpers import build_desk, make_settings
from tradecrew.brokers.paper import PaperBroker
from tradecrew.config import Settings
from tradecrew.models import ProposalRequest, ProposalStatus, Quote, Side

ROUNDS = 5
#: 20 oz of the sample world's gold is ~44,800 USD: one order fits 60,000, two do not.
LIMITS = {
    "max_order_notional": 50_000.0,
    "max_position_notional": 60_000.0,
    "risk_per_trade": 1.0,
}
QUANTITY = 20.0


def _settings(home: Path) -> Settings:
    return make_settings(home, **LIMITS)


class _RemoteQuotes(PaperBroker):
    """The paper venue with a quote that takes as long as a network broker's (20 ms)."""

    def quote(self, symbol: str) -> Quote:
        time.sleep(0.02)
        return super().quote(symbol)


def _approver(home: str, jobs: Any, results: Any, barrier: Any) -> None:
    """A desk process: approve each proposal id it is given, all workers at the same moment."""
    desk = build_desk(Path(home), _settings(Path(home)), broker_cls=_RemoteQuotes)
    try:
        while (proposal_id := jobs.get(timeout=120)) is not None:
            barrier.wait(timeout=60)
            try:
                out = desk.approve(proposal_id, actor="alice")
                results.put((proposal_id, out.status.value, out.message))
            except Exception as exc:  # reported to the parent, which fails the test
                results.put((proposal_id, "error", repr(exc)))
    finally:
        desk.close()


def _flatten(desk: Any) -> None:
    held = sum(p.quantity for p in desk.broker.positions() if p.symbol == "XAUUSD")
    if held:
        side = Side.SELL if held > 0 else Side.BUY
        out = desk.propose(ProposalRequest(symbol="XAUUSD", side=side, quantity=abs(held)))
        desk.approve(out.proposal_id, actor="parent")
    assert not any(p.quantity for p in desk.broker.positions())


def test_two_processes_approving_at_once_never_exceed_the_position_limit(desk_home: Path):
    """Two proposals, each within max_position_notional alone, approved at the same instant
    from two processes: one fills, the other is refused by the gate's re-check, every round."""
    desk = build_desk(desk_home, _settings(desk_home))
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    results = ctx.Queue()
    queues = [ctx.Queue(), ctx.Queue()]
    workers = [
        ctx.Process(target=_approver, args=(str(desk_home), q, results, barrier)) for q in queues
    ]
    for w in workers:
        w.start()
    rounds: list[list[tuple[str, str, str]]] = []
    try:
        for _ in range(ROUNDS):
            ids = []
            for q in queues:
                out = desk.propose(
                    ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=QUANTITY)
                )
                assert out.status is ProposalStatus.PENDING, out.reasons
                ids.append(out.proposal_id)
                q.put(out.proposal_id)
            got = sorted(results.get(timeout=120) for _ in ids)
            rounds.append(got)
            held = sum(
                abs(p.quantity) * (p.market_price or p.average_price)
                for p in desk.broker.positions()
            )
            assert held <= LIMITS["max_position_notional"], (held, got)
            _flatten(desk)
    finally:
        for q in queues:
            q.put(None)
        for w in workers:
            w.join(timeout=60)
            if w.is_alive():
                w.kill()
        desk.close()
    for got in rounds:
        statuses = sorted(status for _, status, _ in got)
        assert statuses == ["filled", "vetoed"], got
        (refused,) = [message for _, status, message in got if status == "vetoed"]
        assert "risk: re-check failed" in refused, refused
