"""The server's desk opens on first use and is reconciled again while it runs."""

from __future__ import annotations

import time
from pathlib import Path

from tradecrew.brokers import PaperBroker
from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.ledger import Ledger
from tradecrew.mcp_server.lazy import LazyDesk
from tradecrew.models import Order, Side


def test_desk_opens_on_first_use_and_adopts_external_orders_later(tmp_path: Path):
    settings = Settings(home=tmp_path)
    opened: list[Desk] = []

    def factory() -> Desk:
        desk = Desk(
            Ledger(f"sqlite:///{tmp_path / 'l.db'}"),
            PaperBroker(tmp_path / "p.db", settings=settings.broker),
            settings,
        )
        opened.append(desk)
        return desk

    lazy = LazyDesk(factory, every=0.05)
    assert opened == []
    assert lazy.mode.value == "paper" and len(opened) == 1
    # an order placed at the venue behind the desk's back (another tool, a person)
    venue = PaperBroker(tmp_path / "p.db", settings=settings.broker)
    venue.submit(Order(client_order_id="outside-1", symbol="XAUUSD", side=Side.BUY, quantity=1.0))
    time.sleep(0.1)
    orders = lazy.orders()
    assert [o.client_order_id for o in orders] == ["outside-1"] and orders[0].external
    assert len(opened) == 1
    lazy.close()


def _foreign_order_with_a_long_client_id(home: Path) -> None:
    """An order placed at the venue by another tool under a 100-character client id (Alpaca
    accepts 128; the ledger holds 64)."""
    settings = Settings(home=home)
    settings.ensure_home()
    venue = PaperBroker(home / "paper.db", settings=settings.broker)
    venue.submit(Order(client_order_id="x" * 100, symbol="EURUSD", side=Side.SELL, quantity=5000))


def test_an_order_the_ledger_cannot_record_does_not_stop_the_kill_switch(tmp_path: Path):
    import anyio

    from tests.mcp_server.mcp_client import mcp_session, payload

    home = tmp_path / "home"
    _foreign_order_with_a_long_client_id(home)

    async def main():  # type: ignore[no-untyped-def]
        async with mcp_session(home) as s:
            halt = await s.call_tool("set_kill_switch", {"enabled": True, "reason": "crash"})
            status = await s.call_tool("get_risk_status", {})
            return payload(halt), payload(status)

    halt, status = anyio.run(main)
    assert halt["trading_state"] == "halted" and status["kill_switch"] is True


class _Garbled(PaperBroker):
    """A venue whose position report cannot be read while ``garbled`` is set."""

    garbled = False

    def positions(self):  # type: ignore[no-untyped-def]
        if self.garbled:
            raise RuntimeError("position report garbled")
        return super().positions()


def test_a_periodic_reconcile_that_fails_never_fails_the_call_it_came_due_on(tmp_path: Path):
    settings = Settings(home=tmp_path)
    venue = _Garbled(tmp_path / "p.db", settings=settings.broker)
    lazy = LazyDesk(
        lambda: Desk(Ledger(f"sqlite:///{tmp_path / 'l.db'}"), venue, settings), every=0.05
    )
    assert lazy.ledger.get_trading_state().state.value == "active"  # opened, reconciled later
    venue.garbled = True
    time.sleep(0.1)
    state = lazy.ledger.get_trading_state()  # the reconcile that came due here failed
    assert state.state.value == "reducing" and "position report garbled" in state.reason
    lazy.close()
