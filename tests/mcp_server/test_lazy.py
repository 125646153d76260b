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
