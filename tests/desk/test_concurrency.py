"""Many proposals and approvals at once from several threads against one desk (paper venue
and SQLite): nothing lost, nothing duplicated, no limit exceeded, the audit chain intact."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.desk.helpers import SubmitLog, build_desk, full_audit, make_settings
from tests.desk.invariants import (
    check_audit_chain,
    check_broker_orders_obey_the_rule,
    check_one_order_per_proposal,
    check_proposal_lifecycles,
    check_quantities,
)
from tradecrew.desk import Desk, DeskError
from tradecrew.models import ProposalRequest, ProposalStatus, Side, TradingState

THREADS = 8
LIMITS = {
    "max_order_notional": 8_000.0,
    "max_position_notional": 20_000.0,
    "max_gross_exposure": 50_000.0,
    "max_net_exposure": 40_000.0,
    "max_currency_exposure": 40_000.0,
}
#: Moderate sizes: a few thousand of notional each, so exposure fills up within the run.
SIZES = {"XAUUSD": (1.0, 2.0), "SPX": (1.0, 2.5), "BTCUSD": (0.03, 0.08), "EURUSD": (2e3, 5e3)}
#: Where a proposal may legitimately end after one propose-and-approve.
SETTLED = {
    ProposalStatus.FILLED,
    ProposalStatus.VETOED,
    ProposalStatus.FAILED,
    ProposalStatus.REJECTED,
}


def _worker(desk: Desk, seed: int, count: int, out: list[str], errors: list[BaseException]) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(count):
            symbol = rng.choice(sorted(SIZES))
            low, high = SIZES[symbol]
            quantity = round(rng.uniform(low, high), 2 if symbol != "EURUSD" else -3)
            side = Side.BUY if rng.random() < 0.7 else Side.SELL  # drift long: limits bind
            outcome = desk.propose(ProposalRequest(symbol=symbol, side=side, quantity=quantity))
            out.append(outcome.proposal_id)
            if outcome.status is ProposalStatus.PENDING:
                try:
                    desk.approve(outcome.proposal_id, actor=f"trader-{seed}")
                except DeskError as exc:  # e.g. re-decided smaller: a human must look again
                    errors.append(exc)
    except BaseException as exc:  # surfaced by the main thread
        errors.append(exc)


@pytest.mark.parametrize(
    "total",
    [160, pytest.param(1_000, marks=pytest.mark.slow, id="1000")],
)
def test_many_threads_lose_nothing_duplicate_nothing_exceed_nothing(
    tmp_path: Path, total: int
) -> None:
    log = SubmitLog()
    desk = build_desk(tmp_path, make_settings(tmp_path, **LIMITS), log=log)
    ids: list[str] = []
    errors: list[BaseException] = []
    per_thread = total // THREADS
    threads = [
        threading.Thread(target=_worker, args=(desk, seed, per_thread, ids, errors))
        for seed in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    unexpected = [e for e in errors if not isinstance(e, DeskError)]
    assert not unexpected, unexpected[:3]

    # Nothing lost: every proposal made is in the ledger, and each settled.
    assert len(ids) == len(set(ids)) == total
    stored = {p.id: p for p in desk.ledger.list_proposals(limit=10 * total)}
    assert set(stored) == set(ids)
    statuses = Counter(p.status for p in stored.values())
    pending = statuses.pop(ProposalStatus.PENDING, 0)
    assert pending == sum(isinstance(e, DeskError) for e in errors)
    assert set(statuses) <= SETTLED, statuses
    assert statuses[ProposalStatus.FILLED] > 0 and statuses[ProposalStatus.VETOED] > 0

    # Nothing duplicated: one order per proposal, the venue and the ledger hold the same ones.
    check_one_order_per_proposal(desk)
    venue = {o.client_order_id for o in desk.broker.orders()}
    booked = {o.client_order_id for o in desk.ledger.orders()}
    assert venue == booked
    assert not log.duplicates() and len(log.accepted) == len(venue)
    filled = [p for p in stored.values() if p.status is ProposalStatus.FILLED]
    assert len(filled) == len(desk.ledger.orders(status="filled"))
    check_quantities(desk)

    # No limit exceeded at the end (marks move by spread and slippage only: 0.5% slack).
    slack = 1.005
    notionals = {
        p.symbol: abs(p.quantity) * (p.market_price or p.average_price)
        for p in desk.broker.positions()
    }
    for symbol, notional in notionals.items():
        assert notional <= LIMITS["max_position_notional"] * slack, (symbol, notional)
    assert sum(notionals.values()) <= LIMITS["max_gross_exposure"] * slack, notionals

    audit = full_audit(desk.ledger)
    check_broker_orders_obey_the_rule(desk, audit, human_required=True)
    check_proposal_lifecycles(desk, audit)
    check_audit_chain(desk)
    desk.close()


def test_kill_switch_flipped_while_proposing_never_breaks_a_proposal(tmp_path: Path) -> None:
    """A human halts and resumes the desk while threads propose: each proposal is decided
    (approved, shrunk or vetoed); none blows up on the state change, none is sent halted."""
    desk = build_desk(tmp_path, make_settings(tmp_path, auto_approve=True))
    errors: list[BaseException] = []
    done = threading.Event()

    def propose(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(25):
                side = rng.choice([Side.BUY, Side.SELL])
                desk.propose(ProposalRequest(symbol="XAUUSD", side=side, quantity=0.5))
        except BaseException as exc:
            errors.append(exc)

    def flip() -> None:
        on = True
        while not done.is_set():
            desk.set_kill_switch(on, "drill", actor="carol")
            on = not on
            time.sleep(0.005)
        desk.set_kill_switch(False, "drill over", actor="carol")

    workers = [threading.Thread(target=propose, args=(i,)) for i in range(3)]
    flipper = threading.Thread(target=flip)
    flipper.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    done.set()
    flipper.join(timeout=30)
    assert not errors, [repr(e) for e in errors[:3]]
    audit = full_audit(desk.ledger)
    check_broker_orders_obey_the_rule(desk, audit, human_required=False)
    check_proposal_lifecycles(desk, audit)
    check_audit_chain(desk)
    desk.close()


def test_equity_read_during_trading_is_never_torn(tmp_path: Path) -> None:
    """While orders fill, the account the risk engine reads is one consistent snapshot: cash
    and positions from the same moment. A torn read (cash before a fill, positions after)
    moves equity by a whole order's notional and falsely trips the daily-loss limit."""
    desk = build_desk(
        tmp_path,
        make_settings(
            tmp_path,
            auto_approve=True,
            max_order_notional=90_000.0,
            max_position_notional=90_000.0,
            risk_per_trade=1.0,
        ),
    )
    start = desk.broker.account().equity
    done = threading.Event()
    seen: list[float] = []

    def trade() -> None:
        try:
            for i in range(12):
                side = Side.BUY if i % 2 == 0 else Side.SELL
                desk.propose(ProposalRequest(symbol="XAUUSD", side=side, quantity=20.0))
        finally:
            done.set()

    def watch() -> None:
        while not done.is_set():
            seen.append(desk.broker.account().equity)

    threads = [threading.Thread(target=trade), threading.Thread(target=watch)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(desk.broker.orders()) >= 10  # the trades happened
    # Spread, slippage and commission on twelve 45k orders cost well under 1% of equity.
    worst = max(abs(e - start) for e in seen)
    assert worst < 0.01 * start, f"equity read {worst:,.0f} away from {start:,.0f}"
    assert desk.ledger.get_trading_state().state is TradingState.ACTIVE
    desk.close()
