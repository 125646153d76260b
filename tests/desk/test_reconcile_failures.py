"""Reconciliation that meets what the ledger cannot hold, or fails outright, never keeps the
desk shut: the foreign order is reported, a failure makes the desk REDUCING, and the kill
switch still works."""

from __future__ import annotations

from pathlib import Path

from tradecrew.brokers import BrokerError, PaperBroker
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.desk.reconcile import reconcile_safely
from tradecrew.ledger import Ledger
from tradecrew.models import Order, OrderType, Position, Side, TradingState

LONG_ID = "x" * 100  # Alpaca accepts client order ids up to 128 characters


def _desk(home: Path, broker: PaperBroker | None = None) -> Desk:
    settings = Settings(home=home)
    venue = broker or PaperBroker(home / "p.db", settings=settings.broker)
    return Desk(Ledger(f"sqlite:///{home / 'l.db'}"), venue, settings)


def test_a_foreign_order_with_a_long_client_id_is_reported_and_the_others_adopted(
    tmp_path: Path,
) -> None:
    desk = _desk(tmp_path)
    venue = PaperBroker(tmp_path / "p.db", settings=desk.settings.broker)
    venue.submit(Order(client_order_id=LONG_ID, symbol="EURUSD", side=Side.SELL, quantity=5000))
    venue.submit(
        Order(
            client_order_id="manual-2",
            symbol="XAUUSD",
            side=Side.BUY,
            quantity=1,
            order_type=OrderType.LIMIT,
            limit_price=100,
        )
    )
    report = desk.reconcile()  # raised "client_order_id must be 1 to 64 characters" before
    (unrecorded,) = report.unrecorded_orders
    assert "100 characters" in unrecorded and "sell EURUSD" in unrecorded
    assert LONG_ID not in report.message  # the venue's id names it, not anyone's text
    assert [o.client_order_id for o in desk.orders()] == ["manual-2"]
    assert report.external_orders == [desk.orders()[0].id]
    # Its fill is not in the ledger: the position comparison sees it and stops growth.
    assert report.position_mismatches == {"EURUSD": (0.0, -5000.0)}
    assert desk.ledger.get_trading_state().state is TradingState.REDUCING
    again = desk.reconcile()  # reported again, never stored, never raises
    assert len(again.unrecorded_orders) == 1 and len(desk.orders()) == 1


class _Garbled(PaperBroker):
    """A venue whose position report the desk cannot read (until ``garbled`` is cleared)."""

    garbled = True

    def positions(self) -> list[Position]:
        if self.garbled:
            raise RuntimeError("position report garbled")
        return super().positions()


class _Down(PaperBroker):
    def positions(self) -> list[Position]:
        raise BrokerError("venue unreachable")


def test_a_failed_reconcile_makes_the_desk_reducing_and_halting_still_works(
    tmp_path: Path,
) -> None:
    settings = Settings(home=tmp_path)
    venue = _Garbled(tmp_path / "p.db", settings=settings.broker)
    desk = _desk(tmp_path, venue)
    report = reconcile_safely(desk)
    assert "position report garbled" in report.failed and report.switched_to_reducing
    state = desk.ledger.get_trading_state()
    assert state.state is TradingState.REDUCING and "reconciliation failed" in state.reason
    venue.garbled = False  # the status the kill switch answers with reads positions
    halted = desk.set_kill_switch(True, "stop", actor="cli", channel="cli")
    assert halted.trading_state is TradingState.HALTED


def test_an_unreachable_broker_is_reported_and_changes_no_state(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    desk = _desk(tmp_path, _Down(tmp_path / "p.db", settings=settings.broker))
    report = reconcile_safely(desk)
    assert "venue unreachable" in report.failed and not report.switched_to_reducing
    assert desk.ledger.get_trading_state().state is TradingState.ACTIVE
