"""The MT5 adapter against a fake MetaTrader5 module: requests, retcodes, look-up by comment."""

from __future__ import annotations

import pytest

from tests.brokers.fake_mt5 import FakeMT5
from tradecrew.brokers import (
    Broker,
    BrokerError,
    BrokerUnavailable,
    NotSupported,
    OrderOutcomeUnknown,
    OrderRejected,
)
from tradecrew.brokers.base import LiveTradingRefused
from tradecrew.brokers.mt5 import Mt5Broker, short_id
from tradecrew.brokers.mt5_constants import Mt5OrderType, Retcode, TradeAction
from tradecrew.config import BrokerSettings, Settings
from tradecrew.models import AccountMode, Order, OrderStatus, OrderType, Side, TimeInForce


def make(fake: FakeMT5 | None = None, **kw) -> tuple[Mt5Broker, FakeMT5]:
    fake = fake or FakeMT5()
    settings = kw.pop("settings", Settings(broker=BrokerSettings()))
    return Mt5Broker(fake, settings=settings, backoff=0.0, **kw), fake


def order(cid: str, side: Side = Side.BUY, qty: float = 1.0, symbol: str = "XAUUSD", **kw) -> Order:
    return Order(client_order_id=cid, symbol=symbol, side=side, quantity=qty, **kw)


def test_mt5_broker_speaks_the_protocol_on_a_demo_account() -> None:
    broker, _ = make()
    assert isinstance(broker, Broker)
    assert broker.mode is AccountMode.PAPER


def test_market_order_sends_lots_with_comment_magic_and_far_side_price() -> None:
    broker, fake = make()
    placed = broker.submit(order("desk-cid-0001", qty=250, stop_loss=2250.0, take_profit=2400))
    req = fake.requests[0]
    assert req["action"] == TradeAction.DEAL == 1
    assert req["type"] == Mt5OrderType.BUY == 0
    assert req["volume"] == pytest.approx(2.5)  # 250 oz / 100 oz per lot
    assert req["price"] == 2300.5  # the ask
    assert req["comment"] == short_id("desk-cid-0001") and len(req["comment"]) <= 31
    assert (req["magic"], req["deviation"], req["sl"], req["tp"]) == (
        broker.magic,
        20,
        2250.0,
        2400,
    )
    assert req["type_filling"] == 1  # the symbol allows IOC
    assert placed.status is OrderStatus.FILLED
    assert placed.filled_quantity == pytest.approx(250)
    assert placed.average_fill_price == 2300.5


@pytest.mark.parametrize(
    ("kind", "side", "prices", "mt_type", "fields"),
    [
        (OrderType.LIMIT, Side.BUY, {"limit_price": 2200.0}, 2, {"price": 2200.0}),
        (OrderType.LIMIT, Side.SELL, {"limit_price": 2400.0}, 3, {"price": 2400.0}),
        (OrderType.STOP, Side.BUY, {"stop_price": 2350.0}, 4, {"price": 2350.0}),
        (OrderType.STOP, Side.SELL, {"stop_price": 2250.0}, 5, {"price": 2250.0}),
        (
            OrderType.STOP_LIMIT,
            Side.BUY,
            {"stop_price": 2350.0, "limit_price": 2355.0},
            6,
            {"price": 2350.0, "stoplimit": 2355.0},
        ),
        (
            OrderType.STOP_LIMIT,
            Side.SELL,
            {"stop_price": 2250.0, "limit_price": 2245.0},
            7,
            {"price": 2250.0, "stoplimit": 2245.0},
        ),
    ],
)
def test_pending_orders_map_to_mt5_types(kind, side, prices, mt_type, fields) -> None:
    broker, fake = make()
    placed = broker.submit(
        order("p", side, order_type=kind, time_in_force=TimeInForce.DAY, **prices)
    )
    req = fake.requests[0]
    assert (req["action"], req["type"], req["type_time"]) == (5, mt_type, 1)
    assert {k: req[k] for k in fields} == fields
    assert placed.status is OrderStatus.ACCEPTED
    (listed,) = broker.orders(open_only=True)
    assert (listed.client_order_id, listed.order_type, listed.side) == ("p", kind, side)
    assert listed.quantity == pytest.approx(1.0)


def test_timeout_after_execution_is_found_by_comment_and_not_resent() -> None:
    broker, fake = make()
    fake.script = ["timeout_after"]
    placed = broker.submit(order("lost-reply"))
    assert len(fake.requests) == 1
    assert placed.client_order_id == "lost-reply"
    assert placed.status is OrderStatus.FILLED
    assert len(fake.positions) == 1


@pytest.mark.parametrize("failure", ["none", "raise"])
def test_dropped_bridge_before_execution_resends_once_with_the_same_comment(failure) -> None:
    broker, fake = make()
    fake.script = [failure]
    placed = broker.submit(order("dropped"))
    assert len(fake.requests) == 2
    assert fake.requests[0]["comment"] == fake.requests[1]["comment"] == short_id("dropped")
    assert placed.status is OrderStatus.FILLED
    assert len(fake.positions) == 1


def test_outcome_stays_unknown_when_the_terminal_cannot_be_asked() -> None:
    broker, fake = make()
    fake.script = ["timeout_after"]
    original = fake.orders_get
    fake.orders_get = lambda **_: fake._fail()  # the look-up cannot reach the terminal
    with pytest.raises(OrderOutcomeUnknown):
        broker.submit(order("in-doubt"))
    assert len(fake.requests) == 1
    fake.orders_get = original
    assert broker.get_order_by_client_id("in-doubt").status is OrderStatus.FILLED


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (10006, "REJECT"),
        (10014, "INVALID_VOLUME"),
        (10019, "NO_MONEY"),
        (10018, "MARKET_CLOSED"),
        (10021, "PRICE_OFF"),
    ],
)
def test_rejecting_retcodes_become_order_rejected(code: int, name: str) -> None:
    broker, fake = make()
    fake.script = [f"retcode:{code}"]
    with pytest.raises(OrderRejected, match=name) as info:
        broker.submit(order("r"))
    assert info.value.code == code
    assert len(fake.requests) == 1


def test_retcode_values_match_the_mql5_reference() -> None:
    assert (Retcode.DONE, Retcode.PLACED, Retcode.DONE_PARTIAL) == (10009, 10008, 10010)
    assert (Retcode.REJECT, Retcode.TIMEOUT, Retcode.CONNECTION) == (10006, 10012, 10031)
    assert (TradeAction.DEAL, TradeAction.PENDING, TradeAction.SLTP, TradeAction.REMOVE) == (
        1,
        5,
        6,
        8,
    )


def test_units_off_the_lot_step_are_rejected_before_sending() -> None:
    broker, fake = make()
    with pytest.raises(OrderRejected, match="step"):
        broker.submit(order("x", qty=0.5))  # 0.005 lots
    with pytest.raises(OrderRejected, match="outside"):
        broker.submit(order("y", symbol="EURUSD", qty=100_000_000))
    assert fake.requests == []


def test_forex_units_convert_to_lots() -> None:
    broker, fake = make()
    broker.submit(order("fx", Side.SELL, 150_000, symbol="EURUSD"))
    assert fake.requests[0]["volume"] == pytest.approx(1.5)
    assert fake.requests[0]["price"] == 1.0850  # the bid
    assert fake.requests[0]["type_filling"] == 0  # the symbol allows FOK only
    assert broker.positions()[0].quantity == pytest.approx(-150_000)


def test_symbol_map_translates_both_ways() -> None:
    broker, fake = make(symbol_map={"XAUUSD": "GOLD.m"})
    broker.submit(order("g"))
    assert fake.requests[0]["symbol"] == "GOLD.m"
    assert broker.positions()[0].symbol == "XAUUSD"
    assert broker.fills()[0].symbol == "XAUUSD"


def test_fills_positions_and_account_are_mapped() -> None:
    broker, _ = make()
    sent = order("f1", qty=3.0)
    broker.submit(sent)
    (fill,) = broker.fills()
    assert (fill.client_order_id, fill.order_id) == ("f1", sent.id)
    assert (fill.quantity, fill.price, fill.commission) == (pytest.approx(3.0), 2300.5, 0.7)
    (pos,) = broker.positions()
    assert (pos.quantity, pos.average_price) == (pytest.approx(3.0), 2300.5)
    acct = broker.account()
    assert (acct.account_id, acct.cash, acct.equity, acct.buying_power) == (
        "555",
        10_000.0,
        10_050.0,
        9_000.0,
    )


def test_cancel_removes_a_pending_order_by_client_id() -> None:
    broker, fake = make()
    broker.submit(order("c", order_type=OrderType.LIMIT, limit_price=2000.0))
    broker.cancel("c")
    assert fake.requests[-1]["action"] == TradeAction.REMOVE
    assert broker.get_order_by_client_id("c").status is OrderStatus.CANCELLED
    with pytest.raises(OrderRejected, match="cancelled"):
        broker.cancel("c")


def test_cancel_all_by_symbol() -> None:
    broker, _ = make()
    broker.submit(order("a", order_type=OrderType.LIMIT, limit_price=2000.0))
    broker.submit(
        order("b", symbol="EURUSD", qty=1000, order_type=OrderType.LIMIT, limit_price=1.0)
    )
    assert broker.cancel_all("XAUUSD") == 1
    assert [o.client_order_id for o in broker.orders(open_only=True)] == ["b"]


def test_pending_orders_refuse_ioc() -> None:
    broker, fake = make()
    with pytest.raises(NotSupported):
        broker.submit(
            order("i", order_type=OrderType.LIMIT, limit_price=1.0, time_in_force=TimeInForce.IOC)
        )
    assert fake.requests == []


def test_real_accounts_need_both_opt_ins() -> None:
    with pytest.raises(BrokerError, match="real"):
        make(FakeMT5(trade_mode=2))
    with pytest.raises(BrokerError, match="real"):
        make(FakeMT5(trade_mode=2), live=True)
    armed = Settings(broker=BrokerSettings(live_trading=True))
    broker, _ = make(FakeMT5(trade_mode=2), live=True, settings=armed)
    assert broker.mode is AccountMode.LIVE


@pytest.mark.parametrize(
    ("trade_mode", "mode"),
    [(0, AccountMode.PAPER), (1, AccountMode.PAPER), (2, AccountMode.LIVE), (3, AccountMode.LIVE)],
)
def test_mode_comes_from_the_terminals_trade_mode_and_unknown_is_live(
    trade_mode: int, mode: AccountMode
) -> None:
    armed = Settings(broker=BrokerSettings(live_trading=True))
    assert make(FakeMT5(trade_mode=trade_mode), live=True, settings=armed)[0].mode is mode
    if mode is AccountMode.LIVE:
        with pytest.raises(LiveTradingRefused, match="TRADECREW_BROKER__LIVE_TRADING=true"):
            make(FakeMT5(trade_mode=trade_mode))
    else:
        assert make(FakeMT5(trade_mode=trade_mode))[0].mode is AccountMode.PAPER


def test_terminal_switched_to_a_real_account_stops_the_adapter() -> None:
    broker, fake = make(FakeMT5(trade_mode=0))
    fake.trade_mode = 2  # the user logged the terminal into a real account meanwhile
    with pytest.raises(LiveTradingRefused, match="switched"):
        broker.account()
    with pytest.raises(LiveTradingRefused, match="switched"):
        broker.submit(order("c-switched"))
    assert fake.requests == []


def test_unreachable_terminal_is_unavailable() -> None:
    fake = FakeMT5()
    fake.down = True
    with pytest.raises(BrokerUnavailable, match="IPC"):
        make(fake)


def test_a_refused_bridge_host_is_a_broker_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "MetaTrader5", None)  # as off Windows: the bridge is tried
    with pytest.raises(BrokerError, match="loopback"):
        Mt5Broker(settings=Settings(broker=BrokerSettings()), host="10.0.0.5", port=18812)


def test_short_ids_are_deterministic_and_fit_the_comment() -> None:
    assert short_id("abc") == short_id("abc") != short_id("abd")
    assert len(short_id("x" * 200)) <= 31
