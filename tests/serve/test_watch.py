"""The risk watch on a real ledger and paper venue: it escalates through the desk's state
machine, says why, never relaxes a state, and never undoes a halt committed meanwhile."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.brokers.csv_feed import Feed
from tests.serve.conftest import buy
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.models import (
    Account,
    AccountMode,
    OrderStatus,
    Position,
    ProposalRequest,
    ProposalStatus,
    Quote,
    TradingState,
    utcnow,
)
from tradecrew.serve.assess import Finding
from tradecrew.serve.jobs import Jobs
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.serve.quotes import QuoteBook
from tradecrew.serve.watch import ACTOR, Watcher


def _jobs(desk: Desk, log: Any) -> Jobs:
    return Jobs(desk, DeskMetrics(), log, ["AAPL"])


def _drop_to(feed: Feed, desk: Desk, loss: float) -> None:
    """A new bar whose close makes the position lose ``loss`` of 100,000."""
    (pos,) = desk.broker.positions()
    close = pos.average_price - loss * 100_000 / pos.quantity
    feed.add(close + 1, close + 1, close - 1, close)


def test_a_daily_loss_past_the_limit_moves_the_desk_to_reducing_and_says_why(
    desk: Desk, feed: Feed, log: Any
) -> None:
    buy(desk)
    jobs = _jobs(desk, log)
    assert jobs.watcher.run().state is TradingState.ACTIVE
    _drop_to(feed, desk, 0.015)
    result = jobs.watcher.run()
    assert result.state is TradingState.REDUCING
    assert result.acted is not None and result.acted.kind == "daily_loss"
    record = desk.ledger.get_trading_state()
    assert record.state is TradingState.REDUCING and record.tripped_by == ACTOR
    assert "daily loss 1.50% reached the 1.00% limit" in record.reason
    assert jobs.metrics.trading_state._value.get() == 1
    # Looking again changes nothing: the trip is on record once.
    before = desk.ledger.audit_count()
    jobs.watcher.run()
    assert desk.ledger.audit_count() == before


def test_a_loss_twice_the_limit_halts_through_the_kill_switch_and_cancels_orders(
    desk: Desk, feed: Feed, log: Any
) -> None:
    buy(desk)
    buy(desk, 10, order_type="limit", limit_price=97.0)  # resting, to be cancelled
    assert [o.status for o in desk.orders(open_only=True)] == [OrderStatus.ACCEPTED]
    _drop_to(feed, desk, 0.025)
    result = _jobs(desk, log).watcher.run()
    assert result.state is TradingState.HALTED
    record = desk.ledger.get_trading_state()
    assert record.state is TradingState.HALTED and "trading halted" in record.reason
    assert desk.orders(open_only=True) == []


def test_the_watch_never_undoes_a_halt_committed_after_it_looked(desk: Desk, log: Any) -> None:
    jobs = _jobs(desk, log)
    # The watch read ACTIVE; before it writes, a person halts trading from the CLI.
    desk.set_kill_switch(True, "news spike", actor="cli", channel="cli")
    finding = Finding("daily_loss", TradingState.REDUCING, "risk watch: daily loss")
    assert jobs.watcher._act(finding, TradingState.ACTIVE) is None
    assert desk.ledger.get_trading_state().state is TradingState.HALTED


def test_a_halted_desk_stays_halted_across_a_restart_of_the_watch(desk: Desk, log: Any) -> None:
    desk.set_kill_switch(True, "before the restart", actor="cli", channel="cli")
    jobs = _jobs(desk, log)  # a new daemon: its state is the ledger's
    jobs.watch()
    assert jobs.metrics.trading_state._value.get() == 2
    assert desk.ledger.get_trading_state().reason == "before the restart"


def test_order_and_decision_counters_follow_the_ledger(desk: Desk, log: Any) -> None:
    jobs = _jobs(desk, log)
    jobs.watch()  # the counters start here
    buy(desk)
    vetoed = desk.propose(ProposalRequest(symbol="AAPL", side="buy", quantity=1e9))  # a typo
    assert vetoed.status is ProposalStatus.VETOED
    jobs.watch()
    m = jobs.metrics
    assert m.orders.labels(status="filled")._value.get() == 1
    assert m.decisions.labels(decision="approved")._value.get() == 1
    assert m.decisions.labels(decision="vetoed")._value.get() == 1
    assert m.proposals_pending._value.get() == 0


class _LiveVenue:
    """A stand-in broker holding one BTCUSD position, its quotes from a live source."""

    name = "stand-in"
    mode = AccountMode.PAPER

    def account(self) -> Account:
        return Account(account_id="s", broker="stand-in", cash=1e5, equity=1e5, buying_power=1e5)

    def positions(self) -> list[Position]:
        return [Position(symbol="BTCUSD", quantity=0.1, average_price=60_000, market_price=60_000)]

    def orders(self, open_only: bool = False) -> list[Any]:
        return []


def test_a_held_symbol_whose_live_quote_went_stale_reduces_but_a_replayed_one_does_not(
    tmp_path: Path, log: Any
) -> None:
    settings = Settings(home=tmp_path, serve={"crew": {}})
    desk = Desk(Ledger(f"sqlite:///{tmp_path / 'l.db'}"), _LiveVenue(), settings)  # type: ignore[arg-type]
    try:
        quotes = QuoteBook()
        watcher = Watcher(desk, DeskMetrics(), quotes, log)
        old = utcnow() - timedelta(seconds=600)
        quote = Quote(symbol="BTCUSD", bid=1, ask=1, last=1, timestamp=old, source="sample")
        quotes.saw(quote, utcnow())  # replayed data: no live clock, never stale
        assert watcher.run().state is TradingState.ACTIVE
        quotes.saw(quote.model_copy(update={"source": "alpaca"}), utcnow())
        result = watcher.run()  # crypto trades around the clock: its market is open
        assert result.state is TradingState.REDUCING
        assert "quote for held BTCUSD is 600 s old" in desk.ledger.get_trading_state().reason
    finally:
        desk.close()
