"""Reconciliation: fills recorded once, external orders tagged, mismatches stop growth."""

from __future__ import annotations

from pathlib import Path

from tradecrew.brokers import PaperBroker
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.models import Order, Position, ProposalRequest, Side, TradingState


def _desk(home: Path, broker: PaperBroker | None = None) -> Desk:
    settings = Settings(home=home)
    venue = broker or PaperBroker(home / "p.db", settings=settings.broker)
    return Desk(Ledger(f"sqlite:///{home / 'l.db'}"), venue, settings)


def test_external_orders_and_their_fills_are_recorded_once(tmp_path: Path):
    desk = _desk(tmp_path)
    venue = PaperBroker(tmp_path / "p.db", settings=desk.settings.broker)
    venue.submit(Order(client_order_id="manual-1", symbol="EURUSD", side=Side.SELL, quantity=5000))
    first = desk.reconcile()
    second = desk.reconcile()
    assert len(first.external_orders) == 1 and first.fills_recorded == 1
    assert second.external_orders == [] and second.fills_recorded == 0
    (order,) = desk.orders()
    assert order.external and order.status.value == "filled" and order.filled_quantity == 5000
    assert {p.symbol: p.quantity for p in desk.ledger.positions("paper")} == {"EURUSD": -5000}
    assert first.position_mismatches == {} and not first.switched_to_reducing


class _TransferredIn(PaperBroker):
    """A venue that reports a position the desk has no order or fill for."""

    def positions(self) -> list[Position]:
        return [
            *super().positions(),
            Position(symbol="BTCUSD", quantity=0.5, average_price=60_000.0),
        ]


def test_an_unexplained_position_switches_the_desk_to_reducing(tmp_path: Path):
    settings = Settings(home=tmp_path)
    desk = _desk(tmp_path, _TransferredIn(tmp_path / "p.db", settings=settings.broker))
    report = desk.reconcile()
    assert report.position_mismatches == {"BTCUSD": (0.0, 0.5)}
    assert report.switched_to_reducing
    state = desk.ledger.get_trading_state()
    assert state.state is TradingState.REDUCING and "BTCUSD" in state.reason
    grow = desk.propose(ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=1))
    assert grow.status.value == "vetoed"
    # a restart does not clear it: only a human does
    again = _desk(tmp_path, _TransferredIn(tmp_path / "p.db", settings=settings.broker))
    assert again.ledger.get_trading_state().state is TradingState.REDUCING
