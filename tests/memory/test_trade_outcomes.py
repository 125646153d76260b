"""Closed trades are remembered once, with P&L, regimes and component calls; the next crew
run on the symbol sees them; an LLM desk adds a reflection."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.brokers.csv_feed import Feed
from tests.desk.helpers import build_desk
from tests.fakes.llm_server import ScriptedLLMServer, answer
from tradecrew.agents import run_crew
from tradecrew.config import LLMSettings, MemorySettings, Settings
from tradecrew.desk import Desk, trade_memory
from tradecrew.desk.trade_outcomes import closed_trades, component_verdicts
from tradecrew.ledger import Ledger
from tradecrew.memory import DeskMemory, MemoryKind
from tradecrew.models import Fill, Order, OrderType, ProposalRequest, Side

T = datetime(2026, 1, 5, tzinfo=UTC)
COMPONENTS = {"regime": 0.3, "momentum": -0.2, "sentiment": 0.0}


def _desk(home: Path, feed: Feed, **llm: str) -> Desk:
    settings = Settings(
        home=home,
        data_source=feed.source,
        memory=MemorySettings(embedding="hashing"),
        llm=LLMSettings(**llm),
    )
    return build_desk(home, settings, source=feed.source)


def _stopped_out_trade(desk: Desk, feed: Feed) -> str:
    """A crew-like long AAPL limit that fills, then hits its stop loss on the paper venue."""
    outcome = desk.propose(
        ProposalRequest(
            symbol="AAPL",
            side="buy",
            quantity=10,
            order_type=OrderType.LIMIT,
            limit_price=97.0,
            stop_loss=93.0,
            take_profit=110.0,
            evidence={"regime": "trending_bull", "components": COMPONENTS},
        )
    )
    desk.approve(outcome.proposal_id, actor="alice", channel="cli")
    feed.add(99, 99.5, 96, 98)
    desk.reconcile()
    feed.add(98, 98.5, 95, 95.5)
    feed.add(95, 95.2, 91, 92)  # through the stop at 93
    desk.reconcile()
    return outcome.proposal_id


@pytest.fixture(autouse=True)
def _fresh_process_cache() -> None:
    trade_memory._REMEMBERED.clear()


def crash(home: Path) -> None:
    """A new process that also lost the list of trades it had finished (a crash right after
    writing to memory): memory alone must then keep each trade once."""
    trade_memory._REMEMBERED.clear()
    (home / "memory" / trade_memory.SEEN_FILE).unlink(missing_ok=True)


def test_a_stopped_out_paper_trade_is_remembered_once_and_the_next_run_sees_it(
    tmp_path: Path, tradecrew_home: Path
) -> None:
    feed = Feed(tmp_path)
    desk = _desk(tradecrew_home, feed)
    pid = _stopped_out_trade(desk, feed)
    memory = DeskMemory.from_settings(desk.settings)
    (item,) = memory.past_outcomes("AAPL")
    assert item.kind is MemoryKind.OUTCOME and item.metadata["proposal_id"] == pid
    assert item.metadata["pnl"] < 0 and item.metadata["exit_reason"] == "stop loss"
    assert item.regime == "trending_bull" and item.metadata["holding_seconds"] > 0
    # The price fell: the regime vote (long) was wrong, momentum (short) right.
    assert item.metadata["right"] == "momentum" and item.metadata["wrong"] == "regime"
    assert "Closed long 10 AAPL: loss" in item.text and "abstained: sentiment" in item.text

    # Reconciling again, after a restart, and after a crash that lost the list of finished
    # trades, adds nothing.
    desk.reconcile()
    desk.close()
    seen = (tradecrew_home / "memory" / trade_memory.SEEN_FILE).read_text().split()
    assert seen == [item.metadata["trade_id"]]
    for restart in (trade_memory._REMEMBERED.clear, lambda: crash(tradecrew_home)):
        restart()
        again = _desk(tradecrew_home, feed)
        again.reconcile()
        again.close()
    assert memory.count(MemoryKind.OUTCOME) == 1

    # The venue's feed holds only the few bars of this trade: the run analyses the sample's.
    sample = desk.settings.model_copy(update={"data_source": "sample"})
    run = run_crew(["AAPL"], dry_run=True, settings=sample)
    assert run.mode == "deterministic"
    (seen,) = [m for m in run.inputs.memories["AAPL"] if m.startswith("[outcome")]
    assert "Closed long 10 AAPL: loss" in seen and "stop loss" in seen
    assert run.outcomes[0].status == "ok", run.outcomes[0].message
    assert "Memory: [outcome" in run.outcomes[0].report


def test_an_llm_desk_writes_one_reflection_per_closed_trade(
    tmp_path: Path, tradecrew_home: Path
) -> None:
    feed = Feed(tmp_path)
    lesson = {"expected": "a bounce", "happened": "a breakdown", "lesson": "wait for the close"}
    with ScriptedLLMServer([answer(lesson)]) as srv:
        desk = _desk(tradecrew_home, feed, model="scripted-model", base_url=srv.base_url)
        _stopped_out_trade(desk, feed)
        crash(tradecrew_home)
        desk.reconcile()  # a second look asks the model nothing more
        desk.close()
        asked = len(srv.requests)
    assert asked == 1 and "Closed long 10 AAPL" in str(srv.requests[0])
    memory = DeskMemory.from_settings(desk.settings)
    (reflection,) = [i for i in memory.past_outcomes("AAPL") if i.kind is MemoryKind.REFLECTION]
    assert "Lesson: wait for the close" in reflection.text and reflection.metadata["pnl"] < 0


def test_a_model_outage_keeps_the_outcome_and_reflects_later(
    tmp_path: Path, tradecrew_home: Path
) -> None:
    feed = Feed(tmp_path)
    desk = _desk(tradecrew_home, feed, model="m", base_url="http://127.0.0.1:9/v1")
    _stopped_out_trade(desk, feed)
    desk.close()
    memory = DeskMemory.from_settings(desk.settings)
    assert memory.count(MemoryKind.OUTCOME) == 1 and memory.count(MemoryKind.REFLECTION) == 0
    lesson = {"expected": "up", "happened": "down", "lesson": "respect the stop"}
    assert not (tradecrew_home / "memory" / trade_memory.SEEN_FILE).read_text().strip()
    with ScriptedLLMServer([answer(lesson)]) as srv:
        trade_memory._REMEMBERED.clear()
        back = _desk(tradecrew_home, feed, model="m", base_url=srv.base_url)
        back.reconcile()
        back.close()
    assert memory.count(MemoryKind.OUTCOME) == 1 and memory.count(MemoryKind.REFLECTION) == 1


def _fill(fid: str, side: Side, qty: float, price: float, hours: int, order: str = "o1") -> Fill:
    return Fill(
        id=fid,
        order_id=order,
        client_order_id=order,
        symbol="EURUSD",
        side=side,
        quantity=qty,
        price=price,
        commission=1.0,
        timestamp=T + timedelta(hours=hours),
    )


def test_round_trips_are_rebuilt_from_fills_including_flips_and_scaling() -> None:
    orders = {
        "o1": Order(
            id="o1",
            client_order_id="c1",
            proposal_id="prp_1",
            symbol="EURUSD",
            side=Side.BUY,
            quantity=1,
        )
    }
    fills = [
        _fill("f1", Side.BUY, 1000, 1.10, 0),
        _fill("f2", Side.BUY, 1000, 1.12, 1),  # scale in
        _fill("f3", Side.SELL, 3000, 1.15, 5, "o2"),  # close 2000 and open a 1000 short
        _fill("f4", Side.BUY, 1000, 1.14, 8, "o3"),
    ]
    first, second = closed_trades(fills, orders)
    assert (first.trade_id, first.side, first.quantity) == ("trade_f1", "long", 2000)
    assert first.entry_price == pytest.approx(1.11) and first.proposal_id == "prp_1"
    assert first.pnl == pytest.approx(2000 * 0.04 - 2 - 2000 / 3000)
    assert first.holding_seconds == 5 * 3600
    assert (second.trade_id, second.side, second.quantity) == ("trade_f3", "short", 1000)
    assert second.pnl == pytest.approx(1000 * 0.01 - 1000 / 3000 - 1)
    assert closed_trades(fills[:3], orders)[0].trade_id == "trade_f1"  # open short: not closed
    assert len(closed_trades(fills[:3], orders)) == 1


def test_component_calls_against_the_realised_move() -> None:
    assert component_verdicts({"a": 0.2, "b": -0.1, "c": 0.0}, 1.0) == {
        "a": "right",
        "b": "wrong",
        "c": "abstained",
    }
    assert set(component_verdicts({"a": 0.2}, 0.0).values()) == {"abstained"}


def test_a_backtest_remembers_its_round_trips_only_when_asked_and_once(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from tradecrew.cli import app

    monkeypatch.setenv("TRADECREW_MEMORY__EMBEDDING", "hashing")
    args = ["backtest", "SPX", "--from", "2015-01-01", "--to", "2017-12-31", "--json"]
    runner = CliRunner()
    plain = runner.invoke(app, args)
    assert plain.exit_code == 0, plain.output
    memory = DeskMemory.from_settings(Settings(home=tradecrew_home))
    assert memory.count(MemoryKind.OUTCOME) == 0
    trades = json.loads(plain.stdout)["trade_list"]
    assert trades
    for _ in range(2):
        out = runner.invoke(app, [*args, "--remember"])
        assert out.exit_code == 0, out.output
    assert memory.count(MemoryKind.OUTCOME) == len(trades)
    (latest,) = memory.past_outcomes("SPX", k=1)
    assert latest.metadata["venue"] == "backtest" and "backtest sma_cross" in latest.text
    assert latest.regime in {"trending_bull", "trending_bear", "ranging", "volatile"}
    assert latest.metadata["regime_exit"] in {
        "trending_bull",
        "trending_bear",
        "ranging",
        "volatile",
    }


def test_a_live_round_trip_booked_by_the_broker_is_remembered(tradecrew_home: Path) -> None:
    from tests.brokers.fake_alpaca import FakeAlpaca
    from tradecrew.brokers.alpaca import AlpacaBroker
    from tradecrew.config import BrokerSettings

    srv = FakeAlpaca("PKLIVEMEM0123", "live-mem-secret").start()
    srv.quotes["BTC/USD"] = (60_000.0, 60_010.0)
    settings = Settings(
        home=tradecrew_home,
        memory=MemorySettings(embedding="hashing"),
        broker=BrokerSettings(live_trading=True),
    )
    settings.ensure_home()
    broker = AlpacaBroker(
        settings,
        live=True,  # the fake's 127.0.0.1 is not Alpaca's paper endpoint: a live account
        api_key="PKLIVEMEM0123",
        secret_key="live-mem-secret",
        trading_url=srv.url,
        data_url=srv.url,
        timeout=2.0,
        backoff=0.01,
    )
    desk = Desk(Ledger(f"sqlite:///{tradecrew_home / 'l.db'}"), broker, settings)
    try:
        for side in ("buy", "sell"):
            if side == "sell":
                srv.quotes["BTC/USD"] = (61_000.0, 61_010.0)
            out = desk.propose(ProposalRequest(symbol="BTCUSD", side=side, quantity=0.01))
            assert not out.reasons, out.reasons
            desk.approve(out.proposal_id, actor="alice", channel="cli")  # a person, live
        desk.reconcile()
    finally:
        desk.close()
        srv.stop()
    (item,) = DeskMemory.from_settings(settings).past_outcomes("BTCUSD")
    assert (
        item.metadata["venue"] == "alpaca live" and item.metadata["exit_reason"] == "closing order"
    )
    assert item.metadata["pnl"] == pytest.approx(0.01 * (61_000.0 - 60_010.0), abs=0.5)
