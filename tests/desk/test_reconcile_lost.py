"""An order at the broker under the desk's own client id that the ledger does not know was
placed by the desk and lost from the ledger: reconciliation says so and moves to REDUCING."""

from __future__ import annotations

from pathlib import Path

from tradecrew.brokers import PaperBroker
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.desk.gate import client_order_id
from tradecrew.ledger import Ledger
from tradecrew.models import Order, Side, TradingState


def _desk(home: Path) -> Desk:
    settings = Settings(home=home)
    venue = PaperBroker(home / "p.db", settings=settings.broker)
    return Desk(Ledger(f"sqlite:///{home / 'l.db'}"), venue, settings)


def test_a_desk_order_the_ledger_lost_moves_the_desk_to_reducing(tmp_path: Path) -> None:
    desk = _desk(tmp_path)
    try:
        lost = client_order_id("prp_0123456789abcdef")
        desk.broker.submit(
            Order(client_order_id=lost, symbol="EURUSD", side=Side.BUY, quantity=1000)
        )
        report = desk.reconcile()
        assert len(report.lost_orders) == 1 and lost in report.lost_orders[0]
        assert report.switched_to_reducing
        state = desk.ledger.get_trading_state()
        assert state.state is TradingState.REDUCING and lost in state.reason
        assert lost in report.message
        assert desk.reconcile().lost_orders == []  # adopted: said once
    finally:
        desk.close()


def test_someone_elses_order_is_adopted_without_alarm(tmp_path: Path) -> None:
    desk = _desk(tmp_path)
    try:
        desk.broker.submit(
            Order(client_order_id="manual-7", symbol="EURUSD", side=Side.BUY, quantity=1000)
        )
        report = desk.reconcile()
        assert report.lost_orders == [] and len(report.external_orders) == 1
        assert desk.ledger.get_trading_state().state is TradingState.ACTIVE
    finally:
        desk.close()
