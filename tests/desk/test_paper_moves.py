"""Through the desk: an approved limit on paper fills when the market reaches it, and its
stop-loss closes the position when the market falls through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.brokers.csv_feed import Feed
from tests.desk.helpers import build_desk
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.models import OrderStatus, OrderType, ProposalRequest, ProposalStatus, Side


def _desk(home: Path, feed: Feed) -> Desk:
    return build_desk(home, Settings(home=home, data_source=feed.source), source=feed.source)


def test_an_approved_limit_fills_when_crossed_and_its_stop_loss_closes_it(tmp_path: Path) -> None:
    feed = Feed(tmp_path)
    desk = _desk(tmp_path, feed)
    outcome = desk.propose(
        ProposalRequest(
            symbol="AAPL",
            side="buy",
            quantity=10,
            order_type=OrderType.LIMIT,
            limit_price=97.0,
            stop_loss=93.0,
            take_profit=110.0,
        )
    )
    assert outcome.status is ProposalStatus.PENDING, outcome.reasons
    sent = desk.approve(outcome.proposal_id, actor="alice", channel="cli")
    assert sent.order is not None and sent.order.status is OrderStatus.ACCEPTED
    assert desk.broker.positions() == []

    desk.reconcile()  # the market has not moved yet
    assert desk.ledger.positions("paper") == []
    feed.add(99, 99.5, 96, 98)
    report = desk.reconcile()
    assert report.fills_recorded >= 1 and report.position_mismatches == {}
    # The venue's own legs of a desk order are not reported as orders someone else placed.
    assert len(report.bracket_legs) == 2 and report.external_orders == []
    (pos,) = desk.broker.positions()
    assert (pos.symbol, pos.quantity, pos.average_price) == ("AAPL", 10, 97.0)
    assert {p.symbol: p.quantity for p in desk.ledger.positions("paper")} == {"AAPL": 10}
    assert desk.get(outcome.proposal_id).order.status is OrderStatus.FILLED
    legs = {o.client_order_id.rsplit("-", 1)[1]: o for o in desk.orders(open_only=True)}
    assert set(legs) == {"sl", "tp"} and all(o.external for o in legs.values())

    feed.add(98, 98.5, 95, 95.5)
    feed.add(95, 95.2, 91, 92)  # falls through the stop at 93
    report = desk.reconcile()
    assert report.position_mismatches == {} and not report.switched_to_reducing
    assert desk.broker.positions() == []
    assert {p.symbol: p.quantity for p in desk.ledger.positions("paper")} in ({}, {"AAPL": 0})
    by_leg = {o.client_order_id.rsplit("-", 1)[1]: o for o in desk.orders() if o.external}
    slipped = 93.0 * (1 - desk.settings.broker.slippage_bps / 10_000)  # a stop pays slippage
    assert by_leg["sl"].status is OrderStatus.FILLED
    assert by_leg["sl"].average_fill_price == pytest.approx(slipped)
    assert by_leg["sl"].side is Side.SELL
    assert by_leg["tp"].status is OrderStatus.CANCELLED
    account = desk.broker.account()
    assert account.cash == pytest.approx(100_000 + (slipped - 97.0) * 10 - _costs(desk))
    desk.close()


def _costs(desk: Desk) -> float:
    return sum(f.commission for f in desk.broker.fills())


def test_the_cli_sees_a_resting_limit_fill_once_the_source_crosses_it(
    tradecrew_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from tradecrew.cli import app
    from tradecrew.config import get_settings

    feed = Feed(tmp_path)
    monkeypatch.setenv("TRADECREW_DATA_SOURCE", feed.source)
    get_settings.cache_clear()
    runner = CliRunner()

    def cli(*args: str) -> str:
        out = runner.invoke(app, list(args))
        assert out.exit_code == 0, out.output
        return out.stdout

    proposal = json.loads(cli("propose", "AAPL", "buy", "5", "--limit", "96", "--json"))
    cli("proposals", "approve", proposal["proposal_id"])
    assert json.loads(cli("positions", "--json")) == []
    feed.add(98, 99, 95.5, 97)
    positions = json.loads(cli("positions", "--json"))
    assert [(p["symbol"], p["quantity"], p["average_price"]) for p in positions] == [
        ("AAPL", 5, 96.0)
    ]
    (order,) = json.loads(cli("orders", "--json"))
    assert order["status"] == "filled" and order["average_fill_price"] == 96.0
