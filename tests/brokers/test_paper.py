"""The paper venue: fill prices, resting orders, partial fills, persistence, idempotency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrew.brokers import Broker, BrokerUnavailable, OrderRejected, PaperBroker, UnknownOrder
from tradecrew.config import BrokerSettings
from tradecrew.models import (
    AccountMode,
    Bar,
    Order,
    OrderStatus,
    OrderType,
    Quote,
    Side,
    TimeInForce,
)

T0 = datetime(2024, 3, 4, 14, 0, tzinfo=UTC)


class Prices:
    """A settable quote source, the way a live feed would move."""

    def __init__(self, bid: float = 99.0, ask: float = 101.0) -> None:
        self.bid, self.ask = bid, ask

    def __call__(self, symbol: str) -> Quote:
        return Quote(symbol=symbol, bid=self.bid, ask=self.ask, last=self.bid, timestamp=T0)


def cfg(slippage: float = 0.0, commission: float = 0.0, cash: float = 100_000.0):
    return BrokerSettings(slippage_bps=slippage, commission_bps=commission, starting_cash=cash)


def order(cid: str, side: Side = Side.BUY, qty: float = 10, symbol: str = "AAPL", **kw) -> Order:
    return Order(client_order_id=cid, symbol=symbol, side=side, quantity=qty, **kw)


def bar(o: float, h: float, low: float, c: float, v: float = 0.0, t: datetime = T0) -> Bar:
    return Bar(timestamp=t, open=o, high=h, low=low, close=c, volume=v)


@pytest.fixture
def prices() -> Prices:
    return Prices()


@pytest.fixture
def broker(prices: Prices) -> PaperBroker:
    b = PaperBroker(":memory:", quote_fn=prices, settings=cfg(), clock=lambda: T0)
    yield b
    b.close()


def test_paper_broker_speaks_the_broker_protocol(broker: PaperBroker) -> None:
    assert isinstance(broker, Broker)
    assert broker.mode is AccountMode.PAPER


def test_market_orders_fill_at_the_far_side_plus_slippage_with_commission_on_notional(
    prices: Prices,
) -> None:
    b = PaperBroker(":memory:", quote_fn=prices, settings=cfg(slippage=10, commission=5))
    buy = b.submit(order("b1", Side.BUY, 10))
    assert buy.status is OrderStatus.FILLED
    buy_px = 101.0 * 1.001  # ask plus 10 bps
    assert buy.average_fill_price == pytest.approx(buy_px, rel=1e-12)
    sell = b.submit(order("s1", Side.SELL, 4))
    sell_px = 99.0 * 0.999  # bid minus 10 bps
    assert sell.average_fill_price == pytest.approx(sell_px, rel=1e-12)

    fills = b.fills()
    assert [f.commission for f in fills] == pytest.approx(
        [10 * buy_px * 0.0005, 4 * sell_px * 0.0005], rel=1e-12
    )
    expected_cash = 100_000 - 10 * buy_px * 1.0005 + 4 * sell_px * 0.9995
    assert b.account().cash == pytest.approx(expected_cash, rel=1e-12)


def test_limit_buy_rests_until_a_bar_trades_through_it_and_fills_at_the_limit(
    broker: PaperBroker,
) -> None:
    o = broker.submit(order("l1", qty=5, order_type=OrderType.LIMIT, limit_price=95.0))
    assert o.status is OrderStatus.ACCEPTED  # ask 101 is above the limit
    assert broker.process_market("AAPL", bar(98, 99, 96, 97)) == []
    fills = broker.process_market("AAPL", bar(97, 98, 94, 96))
    assert [(f.quantity, f.price) for f in fills] == [(5, 95.0)]
    assert broker.get_order_by_client_id("l1").status is OrderStatus.FILLED


def test_limit_fills_at_the_better_open_when_the_bar_gaps_through(broker: PaperBroker) -> None:
    broker.submit(order("l1", Side.SELL, 0 + 5, order_type=OrderType.LIMIT, limit_price=105.0))
    broker.submit(order("l2", Side.BUY, 5, order_type=OrderType.LIMIT, limit_price=95.0))
    fills = broker.process_market("AAPL", bar(108, 109, 107, 108))
    assert [(f.client_order_id, f.price) for f in fills] == [("l1", 108.0)]
    fills = broker.process_market("AAPL", bar(92, 93, 91, 92))
    assert [(f.client_order_id, f.price) for f in fills] == [("l2", 92.0)]


def test_stop_buy_triggers_when_the_high_crosses_and_pays_slippage(prices: Prices) -> None:
    b = PaperBroker(":memory:", quote_fn=prices, settings=cfg(slippage=20))
    b.submit(order("st", qty=3, order_type=OrderType.STOP, stop_price=110.0))
    assert b.process_market("AAPL", bar(104, 109.9, 103, 109)) == []
    fills = b.process_market("AAPL", bar(108, 112, 107, 111))
    assert fills[0].price == pytest.approx(110.0 * 1.002, rel=1e-12)
    prices.bid, prices.ask = 105.0, 106.0  # above the sell stop, so it rests
    b.submit(order("st2", Side.SELL, 3, order_type=OrderType.STOP, stop_price=100.0))
    fills = b.process_market("AAPL", bar(95, 96, 94, 95))  # gaps through: fills at the open
    assert fills[0].price == pytest.approx(95.0 * 0.998, rel=1e-12)


def test_stop_limit_triggers_then_only_fills_within_its_limit(broker: PaperBroker) -> None:
    broker.submit(
        order("sl", qty=2, order_type=OrderType.STOP_LIMIT, stop_price=110.0, limit_price=111.0)
    )
    # triggered by a gap to 113 but never back to 111: no fill, yet it is now a live limit
    assert broker.process_market("AAPL", bar(113, 115, 112, 114)) == []
    fills = broker.process_market("AAPL", bar(112, 113, 110.5, 111))
    assert [(f.quantity, f.price) for f in fills] == [(2, 111.0)]


def test_bar_driven_market_order_fills_at_the_next_bar_open() -> None:
    b = PaperBroker(":memory:", quote_fn=None, settings=cfg(slippage=5), participation_rate=None)
    o = b.submit(order("m1", qty=7))
    assert o.status is OrderStatus.ACCEPTED
    fills = b.on_bar("AAPL", bar(50, 52, 49, 51))
    assert fills[0].price == pytest.approx(50 * 1.0005, rel=1e-12)
    assert b.positions()[0].market_price == 51  # marked at the bar's close


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.integers(min_value=1, max_value=500),
    volumes=st.lists(st.integers(min_value=0, max_value=2_000), min_size=1, max_size=12),
)
def test_partial_fills_never_exceed_the_order_or_the_participation_cap(
    steps: int, volumes: list[int]
) -> None:
    b = PaperBroker(":memory:", quote_fn=None, settings=cfg(), participation_rate=0.1)
    qty = round(steps * 0.01, 2)  # gold trades in 0.01 oz steps
    b.submit(order("g", symbol="XAUUSD", qty=qty))
    total = 0.0
    for i, vol in enumerate(volumes):
        fills = b.on_bar("XAUUSD", bar(2000, 2001, 1999, 2000, v=vol, t=T0 + timedelta(hours=i)))
        for f in fills:
            cap = vol * 0.1 if vol > 0 else float("inf")
            assert f.quantity <= cap + 1e-9
            total += f.quantity
    assert total <= qty + 1e-9
    o = b.get_order_by_client_id("g")
    assert o.filled_quantity == pytest.approx(total, abs=1e-9)
    assert (o.status is OrderStatus.FILLED) == (abs(total - qty) < 1e-9)
    if o.status is OrderStatus.FILLED:
        assert o.filled_quantity == qty
        assert b.positions()[0].quantity == qty


def test_restarted_venue_keeps_orders_positions_and_cash(tmp_path: Path, prices: Prices) -> None:
    path = tmp_path / "paper.db"
    first = PaperBroker(path, quote_fn=prices, settings=cfg(commission=1))
    first.submit(order("b1", qty=10))
    first.submit(order("l1", Side.SELL, 4, order_type=OrderType.LIMIT, limit_price=120.0))
    cash, account_id = first.account().cash, first.account().account_id
    first.close()

    second = PaperBroker(path, quote_fn=prices, settings=cfg(commission=1))
    assert second.account().cash == cash
    assert second.account().account_id == account_id
    assert [p.quantity for p in second.positions()] == [10]
    assert [o.client_order_id for o in second.orders(open_only=True)] == ["l1"]
    fills = second.process_market("AAPL", bar(119, 121, 118, 120))
    assert [f.client_order_id for f in fills] == ["l1"]
    assert second.positions()[0].quantity == 6
    second.close()


def test_same_client_order_id_twice_returns_the_existing_order(broker: PaperBroker) -> None:
    first = broker.submit(order("dup", qty=10))
    again = broker.submit(order("dup", qty=10))
    assert again.broker_order_id == first.broker_order_id
    assert len(broker.orders()) == 1
    assert len(broker.fills()) == 1
    assert broker.positions()[0].quantity == 10


def test_reused_client_order_id_with_other_terms_is_rejected(broker: PaperBroker) -> None:
    broker.submit(order("dup", qty=10))
    with pytest.raises(OrderRejected, match="already used"):
        broker.submit(order("dup", qty=11))
    assert len(broker.orders()) == 1


@pytest.mark.parametrize(
    ("symbol", "qty", "reason"),
    [
        ("XAUUSD", 0.015, "step"),
        ("EURUSD", 1500, "step"),
        ("EURUSD", 500, "minimum"),
        ("BTCUSD", 0.00015, "step"),
        ("AAPL", 0.5, "minimum"),
        ("AAPL", 1.5, "step"),
        ("NOPE", 1, "unknown symbol"),
    ],
)
def test_quantities_off_the_instrument_grid_are_rejected_with_a_reason(
    broker: PaperBroker, symbol: str, qty: float, reason: str
) -> None:
    with pytest.raises(OrderRejected, match=reason):
        broker.submit(order("q", symbol=symbol, qty=qty))
    assert broker.orders() == []


@pytest.mark.parametrize(
    ("symbol", "qty"), [("XAUUSD", 0.01), ("XAUUSD", 1.37), ("BTCUSD", 0.0123), ("EURUSD", 2000)]
)
def test_multi_asset_quantities_on_the_grid_are_accepted(symbol: str, qty: float) -> None:
    b = PaperBroker(":memory:", quote_fn=Prices(1.08, 1.0802), settings=cfg())
    assert b.submit(order("q", symbol=symbol, qty=qty)).filled_quantity == qty


def test_order_prices_must_fit_the_order_type(broker: PaperBroker) -> None:
    with pytest.raises(OrderRejected, match="needs a limit_price"):
        broker.submit(order("p1", order_type=OrderType.LIMIT))
    with pytest.raises(OrderRejected, match="takes no stop_price"):
        broker.submit(order("p2", order_type=OrderType.LIMIT, limit_price=1.0, stop_price=2.0))
    with pytest.raises(OrderRejected, match="finite"):
        broker.submit(order("p3", order_type=OrderType.LIMIT, limit_price=float("nan")))


def test_cancel_removes_a_resting_order_and_refuses_a_filled_one(broker: PaperBroker) -> None:
    resting = broker.submit(order("l1", qty=1, order_type=OrderType.LIMIT, limit_price=50.0))
    filled = broker.submit(order("m1", qty=1))
    broker.cancel(resting.client_order_id)
    assert broker.get_order_by_client_id("l1").status is OrderStatus.CANCELLED
    broker.cancel(resting.broker_order_id)  # cancelling twice is harmless
    with pytest.raises(OrderRejected, match="filled"):
        broker.cancel(filled.id)
    with pytest.raises(UnknownOrder):
        broker.cancel("nope")
    assert broker.process_market("AAPL", bar(40, 41, 39, 40)) == []


def test_cancel_all_only_touches_open_orders_of_the_symbol(broker: PaperBroker) -> None:
    broker.submit(order("a", qty=1, order_type=OrderType.LIMIT, limit_price=50.0))
    broker.submit(order("b", qty=1, order_type=OrderType.LIMIT, limit_price=51.0))
    broker.submit(order("c", symbol="MSFT", qty=1, order_type=OrderType.LIMIT, limit_price=5.0))
    assert broker.cancel_all("AAPL") == 2
    assert [o.client_order_id for o in broker.orders(open_only=True)] == ["c"]
    assert broker.cancel_all() == 1


def test_realized_and_unrealized_pnl_follow_the_average_price(prices: Prices) -> None:
    b = PaperBroker(":memory:", quote_fn=prices, settings=cfg(commission=2))
    prices.bid, prices.ask = 99.0, 100.0
    b.submit(order("b1", qty=10))  # 10 @ 100
    prices.bid, prices.ask = 109.0, 110.0
    b.submit(order("b2", qty=10))  # 10 @ 110 -> average 105
    prices.bid, prices.ask = 120.0, 121.0
    b.submit(order("s1", Side.SELL, 5))  # 5 @ 120 realizes 5 * (120 - 105)
    pos = b.positions()[0]
    assert pos.average_price == pytest.approx(105.0)
    assert pos.realized_pnl == pytest.approx(75.0)
    assert pos.unrealized_pnl == pytest.approx(15 * (120.5 - 105.0))
    commissions = (1000 + 1100 + 600) * 0.0002
    acct = b.account()
    assert acct.equity == pytest.approx(100_000 + 75.0 + 15 * 15.5 - commissions)
    assert acct.realized_pnl_today == pytest.approx(75.0 - commissions)


def test_flipping_through_flat_opens_the_remainder_at_the_fill_price(prices: Prices) -> None:
    b = PaperBroker(":memory:", quote_fn=prices, settings=cfg())
    prices.bid, prices.ask = 100.0, 100.0
    b.submit(order("b1", qty=10))
    prices.bid, prices.ask = 90.0, 90.0
    b.submit(order("s1", Side.SELL, 15))
    pos = b.positions()[0]
    assert (pos.quantity, pos.average_price) == (-5, 90.0)
    assert pos.realized_pnl == pytest.approx(-100.0)
    prices.bid, prices.ask = 80.0, 80.0
    b.submit(order("b2", qty=5))
    assert b.positions() == []
    assert b.account().equity == pytest.approx(100_000 - 100 + 50)


def test_orders_beyond_buying_power_are_rejected(prices: Prices) -> None:
    b = PaperBroker(":memory:", quote_fn=prices, settings=cfg(cash=1_000))
    with pytest.raises(OrderRejected, match="buying power"):
        b.submit(order("big", qty=20))
    assert b.orders() == []
    levered = PaperBroker(":memory:", quote_fn=prices, settings=cfg(cash=1_000), leverage=5)
    assert levered.submit(order("big", qty=20)).status is OrderStatus.FILLED


def test_non_usd_quote_currency_is_converted_to_account_currency() -> None:
    quotes = {"USDJPY": (149.99, 150.01)}

    def fn(symbol: str) -> Quote:
        bid, ask = quotes[symbol]
        return Quote(symbol=symbol, bid=bid, ask=ask, last=bid, timestamp=T0)

    b = PaperBroker(":memory:", quote_fn=fn, settings=cfg(), leverage=10)
    b.submit(order("fx", symbol="USDJPY", qty=10_000))
    cash = b.account().cash
    # 10,000 USD bought for 1,500,100 JPY, worth 1,500,100 / 150 USD at the mid
    assert cash == pytest.approx(100_000 - 10_000 * 150.01 / 150.0)


def test_market_order_without_a_quote_is_not_placed() -> None:
    def broken(symbol: str) -> Quote:
        raise ConnectionError("feed down")

    b = PaperBroker(":memory:", quote_fn=broken, settings=cfg())
    with pytest.raises(BrokerUnavailable):
        b.submit(order("m"))
    assert b.orders() == []
    assert b.submit(order("l", order_type=OrderType.LIMIT, limit_price=1.0)).status is (
        OrderStatus.ACCEPTED
    )


def test_day_orders_expire_on_the_next_day_and_ioc_leaves_nothing_resting() -> None:
    b = PaperBroker(":memory:", quote_fn=None, settings=cfg(), clock=lambda: T0)
    b.submit(
        order(
            "d", qty=1, order_type=OrderType.LIMIT, limit_price=1.0, time_in_force=TimeInForce.DAY
        )
    )
    b.submit(
        order(
            "i", qty=1, order_type=OrderType.LIMIT, limit_price=1.0, time_in_force=TimeInForce.IOC
        )
    )
    b.on_bar("AAPL", bar(10, 11, 9, 10, t=T0))
    assert b.get_order_by_client_id("i").status is OrderStatus.CANCELLED
    assert b.get_order_by_client_id("d").status is OrderStatus.ACCEPTED
    b.on_bar("AAPL", bar(10, 11, 9, 10, t=T0 + timedelta(days=1)))
    assert b.get_order_by_client_id("d").status is OrderStatus.EXPIRED


def test_fok_cancels_when_the_bar_cannot_fill_it_all() -> None:
    b = PaperBroker(":memory:", quote_fn=None, settings=cfg(), participation_rate=0.1)
    b.submit(order("f", qty=50, time_in_force=TimeInForce.FOK))
    assert b.on_bar("AAPL", bar(10, 11, 9, 10, v=100)) == []
    assert b.get_order_by_client_id("f").status is OrderStatus.CANCELLED


def test_fills_since_filters_by_time(broker: PaperBroker) -> None:
    broker.submit(order("a", qty=1, order_type=OrderType.LIMIT, limit_price=50.0))
    broker.process_market("AAPL", bar(50, 51, 49, 50, t=T0 - timedelta(days=2)))
    broker.submit(order("b", qty=1))
    assert [f.client_order_id for f in broker.fills(since=T0 - timedelta(days=1))] == ["b"]
    with pytest.raises(ValueError, match="timezone"):
        broker.fills(since=datetime(2024, 1, 1))


@pytest.mark.parametrize(
    "bad",
    [
        {"open": 10, "high": 9, "low": 11, "close": 10},
        {"open": 12, "high": 11, "low": 9, "close": 10},
        {"open": float("nan"), "high": 11, "low": 9, "close": 10},
        {"open": 10, "high": 11, "low": 9, "close": 10, "volume": -1},
    ],
)
def test_inconsistent_bars_are_refused(broker: PaperBroker, bad: dict) -> None:
    with pytest.raises(ValueError):
        broker.process_market("AAPL", {"timestamp": T0, "volume": 0, **bad})


def test_bad_constructor_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="participation"):
        PaperBroker(":memory:", quote_fn=None, participation_rate=0)
    with pytest.raises(ValueError, match="leverage"):
        PaperBroker(":memory:", quote_fn=None, leverage=float("inf"))


def test_default_location_is_under_the_home(tradecrew_home: Path) -> None:
    b = PaperBroker(quote_fn=None)
    assert (tradecrew_home / "paper.db").is_file()
    b.close()


def test_order_fills_are_the_fills_of_that_order_only(tmp_path):
    from tradecrew.brokers import PaperBroker
    from tradecrew.models import Order, Side

    venue = PaperBroker(tmp_path / "p.db")
    for cid, qty in (("a-1", 1.0), ("b-1", 2.0), ("a-2", 3.0)):
        venue.submit(Order(client_order_id=cid, symbol="XAUUSD", side=Side.BUY, quantity=qty))
    assert [f.quantity for f in venue.order_fills("b-1")] == [2.0]
    assert venue.order_fills("nope") == []
    assert sorted(f.client_order_id for f in venue.fills()) == ["a-1", "a-2", "b-1"]
