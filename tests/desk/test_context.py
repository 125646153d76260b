"""The risk context the desk builds: market facts kept a minute, one consistent book read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.desk.helpers import T0, Clock, build_desk, make_settings
from tradecrew.brokers.paper import PaperBroker
from tradecrew.desk import Desk
from tradecrew.desk.context import MarketFacts, build_context
from tradecrew.ledger import Ledger
from tradecrew.models import OrderType, Proposal, ProposalRequest, Quote, Side


def test_market_facts_are_recomputed_only_after_their_ttl() -> None:
    facts = MarketFacts("sample", ttl=timedelta(seconds=60))
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert facts.remember(("k",), T0, compute) == 1
    assert facts.remember(("k",), T0 + timedelta(seconds=59), compute) == 1
    assert facts.remember(("other",), T0, compute) == 2
    assert facts.remember(("k",), T0 + timedelta(seconds=60), compute) == 3
    # A clock that went backwards (a replay) never trusts a value from its future.
    assert facts.remember(("k",), T0 - timedelta(seconds=1), compute) == 4


def test_a_zero_ttl_computes_every_time() -> None:
    facts = MarketFacts("sample", ttl=timedelta(0))
    values = iter(range(10))
    assert [facts.remember(("k",), T0, lambda: next(values)) for _ in range(3)] == [0, 1, 2]


def test_cached_correlations_are_copies_callers_cannot_spoil(tmp_path: Path) -> None:
    facts = MarketFacts("sample")
    first = facts.correlations("XAUUSD", ["SPX", "EURUSD"], 60, T0)
    assert set(first) == {"SPX", "EURUSD"}
    first["SPX"] = 99.0
    again = facts.correlations("XAUUSD", ["EURUSD", "SPX"], 60, T0)
    assert again["SPX"] != 99.0 and -1.0 <= again["SPX"] <= 1.0


def test_the_desk_context_matches_one_built_without_the_cache(tmp_path: Path) -> None:
    clock = Clock()
    desk = build_desk(tmp_path, make_settings(tmp_path), clock=clock)
    try:
        held = desk.propose(ProposalRequest(symbol="SPX", side=Side.BUY, quantity=1.0))
        desk.approve(held.proposal_id)
        proposal = Proposal(symbol="XAUUSD", side=Side.BUY, quantity=1.0)
        cached = desk._context(proposal, clock())
        fresh = build_context(
            proposal, broker=desk.broker, ledger=desk.ledger, settings=desk.settings, now=clock()
        )
        assert cached.atr == pytest.approx(fresh.atr)
        assert cached.correlations == pytest.approx(fresh.correlations)
        assert "SPX" in cached.correlations
        assert cached.positions == fresh.positions and cached.account.equity == pytest.approx(
            fresh.account.equity
        )
    finally:
        desk.close()


def test_paper_account_and_positions_agree_with_the_separate_reads(tmp_path: Path) -> None:
    desk = build_desk(tmp_path, make_settings(tmp_path))
    try:
        made = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0))
        desk.approve(made.proposal_id)
        account, positions = desk.broker.account_and_positions()
        assert positions == desk.broker.positions()
        assert [p.symbol for p in positions] == ["XAUUSD"]
        separate = desk.broker.account()
        assert account.equity == pytest.approx(separate.equity)
        assert account.buying_power == pytest.approx(separate.buying_power)
    finally:
        desk.close()


class _QuoteCountingBroker(PaperBroker):
    """The real paper venue, counting quote requests (each is a request on a live venue)."""

    quotes = 0

    def quote(self, symbol: str) -> Quote:
        self.quotes += 1
        return super().quote(symbol)


def test_a_limit_proposal_reads_the_quote_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    broker = _QuoteCountingBroker(tmp_path / "paper.db", settings=settings.broker)
    desk = Desk(Ledger(f"sqlite:///{tmp_path / 'l.db'}"), broker, settings)
    try:
        last = broker.quote("XAUUSD").last
        broker.quotes = 0
        made = desk.propose(
            ProposalRequest(
                symbol="XAUUSD",
                side=Side.BUY,
                quantity=1.0,
                order_type=OrderType.LIMIT,
                limit_price=last,
            )
        )
        assert made.decision is not None and made.decision.approved
        assert broker.quotes == 1  # the price band and the risk context share it
        market = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1.0))
        assert market.decision is not None
        assert broker.quotes == 2  # no band to check: the context reads its own
    finally:
        desk.close()


@pytest.mark.parametrize("peer", ["SPX", "BTCUSD", "EURUSD"])
def test_the_longest_window_settings_allow_is_computed_for_any_two_markets(peer: str) -> None:
    # A window the bars read cannot fill made every correlation unknown, which the gate
    # once skipped. Settings stop at MAX_CORRELATION_WINDOW, and the gate reads enough bars
    # for it even between a 7-day market (crypto) and a 5-day one (an index).
    from tradecrew.config import MAX_CORRELATION_WINDOW, CorrelationComponent

    with pytest.raises(ValueError, match="less than or equal to"):
        CorrelationComponent(window=MAX_CORRELATION_WINDOW + 1)
    found = MarketFacts("sample").correlations("NDX", [peer], MAX_CORRELATION_WINDOW, T0)
    assert peer in found and -1.0 <= found[peer] <= 1.0


def _calendar(path: Path, *rows: str) -> Path:
    path.write_text("time,currency,impact,title\n" + "".join(f"{r}\n" for r in rows))
    return path


@pytest.mark.parametrize("broken", ["typo", "missing"])
def test_an_unreadable_calendar_refuses_new_risk_at_the_gate_but_not_a_reduction(
    tmp_path: Path, broken: str
) -> None:
    # The gate once read a calendar it could not parse as "no events": one bad row turned
    # the event blackout off while `analyze` reported the error.
    settings = make_settings(tmp_path)
    desk = build_desk(tmp_path, settings, clock=Clock())
    try:
        held = desk.propose(ProposalRequest(symbol="EURUSD", side=Side.BUY, quantity=2000.0))
        desk.approve(held.proposal_id)
        bad = tmp_path / "calendar.csv"
        if broken == "typo":
            _calendar(
                bad, "2025-03-12T15:00:00Z,USD,high,Payrolls", "2025-13-45T00:00:00Z,USD,high,x"
            )
        settings.components.calendar.file = bad
        more = desk.propose(ProposalRequest(symbol="EURUSD", side=Side.BUY, quantity=1000.0))
        assert more.decision is not None and not more.decision.approved
        check = next(c for c in more.decision.checks if c.name == "blackout")
        assert not check.passed and "calendar could not be read" in check.reason
        assert "calendar.csv" in check.reason
        assert "TRADECREW_COMPONENTS__CALENDAR__ENABLED=false" in check.reason
        less = desk.propose(ProposalRequest(symbol="EURUSD", side=Side.SELL, quantity=1000.0))
        assert less.decision is not None and less.decision.approved
        desk.approve(less.proposal_id)
        # Off in the environment, the component no longer holds anything up.
        settings.components.calendar.enabled = False
        again = desk.propose(ProposalRequest(symbol="EURUSD", side=Side.BUY, quantity=1000.0))
        assert again.decision is not None and again.decision.approved
    finally:
        desk.close()
