"""The paper venue moves with its data source: refresh walks the new bars in time order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.brokers.csv_feed import Feed
from tradecrew.brokers import PaperBroker
from tradecrew.config import BrokerSettings
from tradecrew.models import Order, OrderStatus, OrderType, Side


def cfg(commission: float = 0.0, slippage: float = 0.0) -> BrokerSettings:
    return BrokerSettings(commission_bps=commission, slippage_bps=slippage, starting_cash=100_000)


def venue(path: Path | str, feed: Feed, **kw) -> PaperBroker:
    return PaperBroker(path, source=feed.source, settings=kw.pop("settings", cfg()), **kw)


def buy_limit(cid: str, price: float, qty: float = 10, **kw) -> Order:
    return Order(
        client_order_id=cid,
        symbol="AAPL",
        side=Side.BUY,
        quantity=qty,
        order_type=OrderType.LIMIT,
        limit_price=price,
        **kw,
    )


def test_a_limit_fills_when_later_bars_cross_it_and_a_stop_loss_closes_it(tmp_path: Path) -> None:
    feed = Feed(tmp_path)
    b = venue(tmp_path / "p.db", feed)
    placed = b.submit(buy_limit("e", 95.0, stop_loss=90.0, take_profit=120.0))
    assert placed.status is OrderStatus.ACCEPTED
    assert b.refresh() == []  # nothing new at the source: nothing moves
    feed.add(100, 100, 97, 98)
    assert b.refresh() == []
    crossed = feed.add(97, 98, 94, 96)
    (fill,) = b.refresh()
    assert (fill.client_order_id, fill.price, fill.quantity, fill.timestamp) == (
        "e",
        95.0,
        10,
        crossed,
    )
    legs = {o.client_order_id: o for o in b.orders(open_only=True)}
    assert set(legs) == {"e-sl", "e-tp"}
    assert legs["e-sl"].order_type is OrderType.STOP and legs["e-sl"].stop_price == 90.0
    assert legs["e-tp"].order_type is OrderType.LIMIT and legs["e-tp"].limit_price == 120.0
    (pos,) = b.positions()
    assert pos.quantity == 10 and pos.average_price == 95.0 and pos.market_price == 96.0

    feed.add(95, 96, 91, 92)
    assert b.refresh() == []
    (pos,) = b.positions()
    assert pos.unrealized_pnl == pytest.approx((92 - 95) * 10)  # marked to the market
    feed.add(89, 90, 85, 86)  # gaps through the stop
    (stop_fill,) = b.refresh()
    assert (stop_fill.client_order_id, stop_fill.side, stop_fill.price) == ("e-sl", Side.SELL, 89.0)
    assert b.positions() == []
    assert b.get_order_by_client_id("e-tp").status is OrderStatus.CANCELLED
    assert b.account().cash == pytest.approx(100_000 + (89 - 95) * 10)
    assert b.refresh() == []  # walked bars are never walked again
    b.close()


def test_bars_from_before_an_order_arrived_never_fill_it(tmp_path: Path) -> None:
    feed = Feed(tmp_path)
    b = venue(tmp_path / "p.db", feed)
    b.submit(buy_limit("early", 99.5))
    b.refresh()
    feed.add(100, 101, 99.5, 100)  # the venue has not looked yet when the next order arrives
    b.submit(buy_limit("late", 99.5))
    fills = b.refresh()
    assert [f.client_order_id for f in fills] == ["early"]
    assert b.get_order_by_client_id("late").status is OrderStatus.ACCEPTED
    b.close()


def test_a_market_entry_filled_on_arrival_is_protected_from_the_next_bar(tmp_path: Path) -> None:
    feed = Feed(tmp_path)
    b = venue(tmp_path / "p.db", feed)
    entry = b.submit(
        Order(client_order_id="m", symbol="AAPL", side=Side.BUY, quantity=10, stop_loss=97.0)
    )
    assert entry.status is OrderStatus.FILLED
    assert b.get_order_by_client_id("m-sl").status is OrderStatus.ACCEPTED
    feed.add(99, 99.5, 96, 96.5)
    (fill,) = b.refresh()
    assert (fill.client_order_id, fill.price) == ("m-sl", 97.0)
    assert b.positions() == []
    b.close()


def test_a_symbol_the_source_does_not_have_waits_while_others_move(tmp_path: Path) -> None:
    feed = Feed(tmp_path)
    b = venue(tmp_path / "p.db", feed)
    b.submit(buy_limit("e", 95.0))
    b.submit(
        Order(
            client_order_id="g",
            symbol="XAUUSD",
            side=Side.BUY,
            quantity=1,
            order_type=OrderType.LIMIT,
            limit_price=1.0,
        )
    )
    b.refresh()
    feed.add(97, 98, 94, 96)
    assert [f.client_order_id for f in b.refresh()] == ["e"]
    assert b.get_order_by_client_id("g").status is OrderStatus.ACCEPTED
    b.close()


def test_the_sample_world_stands_still(tmp_path: Path) -> None:
    b = PaperBroker(tmp_path / "p.db", source="sample", settings=cfg())
    b.submit(
        Order(
            client_order_id="s",
            symbol="XAUUSD",
            side=Side.BUY,
            quantity=1,
            order_type=OrderType.LIMIT,
            limit_price=1.0,
        )
    )
    before = b.account()
    assert b.refresh() == [] and b.refresh() == []
    assert b.get_order_by_client_id("s").status is OrderStatus.ACCEPTED
    assert b.account().equity == before.equity
    b.close()


def test_the_default_source_is_the_desks_setting(tradecrew_home, monkeypatch, tmp_path) -> None:
    from tradecrew.brokers import make_broker
    from tradecrew.config import get_settings

    feed = Feed(tmp_path)
    monkeypatch.setenv("TRADECREW_DATA_SOURCE", feed.source)
    get_settings.cache_clear()
    b = make_broker("paper")
    assert b.quote("AAPL").source.startswith("csv")
    b.close()


def test_two_venues_on_one_book_walk_each_bar_once(tmp_path: Path) -> None:
    """A second process that read the clock before the first walked the bars finds the
    clock moved in its transaction and applies nothing."""
    feed = Feed(tmp_path)
    first, second = venue(tmp_path / "p.db", feed), venue(tmp_path / "p.db", feed)
    first.submit(buy_limit("e", 95.0))
    first.refresh()
    feed.add(97, 98, 94, 96, v=30)  # a tenth of its volume: 3 of the 10 can fill
    real = second._feed.bars_after

    def racing(symbol, after):
        tapes = real(symbol, after)
        assert len(first.refresh()) == 1  # the other process walks them meanwhile
        return tapes

    second._feed.bars_after = racing
    assert second.refresh() == []
    assert [f.quantity for f in first.fills()] == [3]
    assert first.positions()[0].quantity == 3
    first.close()
    second.close()


def test_a_book_from_before_the_market_clock_opens_and_moves(tmp_path: Path) -> None:
    feed = Feed(tmp_path)
    path = tmp_path / "old.db"
    venue(path, feed).close()
    con = sqlite3.connect(path)
    for column in ("market_time", "parent_id", "oco_group", "leg"):
        con.execute(f"ALTER TABLE paper_orders DROP COLUMN {column}")
    con.execute("DROP TABLE paper_market_clock")
    con.commit()
    con.close()
    b = venue(path, feed)
    b.submit(buy_limit("e", 95.0))
    b.refresh()
    feed.add(97, 98, 94, 96)
    assert [f.price for f in b.refresh()] == [95.0]
    b.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    moves=st.lists(st.floats(0.9, 1.1), min_size=1, max_size=8),
    orders=st.lists(
        st.tuples(st.sampled_from([Side.BUY, Side.SELL]), st.floats(85, 115), st.booleans()),
        min_size=1,
        max_size=4,
    ),
)
def test_cash_and_positions_are_conserved_net_of_commissions(tmp_path_factory, moves, orders):
    folder = tmp_path_factory.mktemp("feed")
    feed = Feed(folder)
    b = venue(":memory:", feed, settings=cfg(commission=5, slippage=10))
    for k, (side, price, bracketed) in enumerate(orders):
        kind = OrderType.LIMIT if k % 2 == 0 else OrderType.STOP
        sl = price * (0.95 if side is Side.BUY else 1.05) if bracketed else None
        tp = price * (1.05 if side is Side.BUY else 0.95) if bracketed else None
        b.submit(
            Order(
                client_order_id=f"o{k}",
                symbol="AAPL",
                side=side,
                quantity=5,
                order_type=kind,
                limit_price=price if kind is OrderType.LIMIT else None,
                stop_price=price if kind is OrderType.STOP else None,
                stop_loss=sl,
                take_profit=tp,
            )
        )
    b.refresh()
    close = 100.0
    for m in moves:
        o, close = close, close * m
        feed.add(o, max(o, close) * 1.01, min(o, close) * 0.99, close)
    b.refresh()
    fills = b.fills()
    flow = sum(f.side.sign * f.quantity * f.price + f.commission for f in fills)
    held = sum(f.side.sign * f.quantity for f in fills)
    assert b.account().cash == pytest.approx(100_000 - flow)
    assert sum(p.quantity for p in b.positions()) == pytest.approx(held)
    b.close()
