"""The Alpaca adapter with the real alpaca-py client against a fake Alpaca server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.brokers.fake_alpaca import FakeAlpaca
from tradecrew.brokers import (
    Broker,
    BrokerError,
    BrokerUnavailable,
    LiveTradingRefused,
    NotSupported,
    OrderOutcomeUnknown,
    OrderRejected,
    UnknownOrder,
)
from tradecrew.brokers.alpaca import PAPER_URL, AlpacaBroker, endpoint_mode
from tradecrew.brokers.alpaca_mapping import map_status, to_alpaca_symbol
from tradecrew.config import BrokerSettings, Settings
from tradecrew.models import AccountMode, Order, OrderStatus, OrderType, Side, TimeInForce

CANARY_KEY = "PKCANARY0123456789AB"
CANARY_SECRET = "canary-secret-Zq9xW2vLk8Jh"


@pytest.fixture
def server() -> Iterator[FakeAlpaca]:
    srv = FakeAlpaca(CANARY_KEY, CANARY_SECRET).start()
    srv.quotes["BTC/USD"] = (60_000.0, 60_010.0)
    yield srv
    srv.stop()


def settings(**broker: object) -> Settings:
    return Settings(broker=BrokerSettings(**broker))


def armed() -> Settings:
    """The first live opt-in; tests pass ``live=True``, the second, next to it."""
    return settings(live_trading=True)


@pytest.fixture
def paper_host(server: FakeAlpaca, monkeypatch: pytest.MonkeyPatch) -> FakeAlpaca:
    """Alpaca's paper endpoint answered by the fake, without the network: requests to
    https://paper-api.alpaca.markets are sent to the fake's 127.0.0.1 address instead."""
    from requests.adapters import HTTPAdapter

    original = HTTPAdapter.send

    def send(self: HTTPAdapter, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        if request.url.startswith(PAPER_URL + "/"):
            request.url = server.url + request.url[len(PAPER_URL) :]
        return original(self, request, *args, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    return server


@pytest.fixture
def broker(server: FakeAlpaca) -> AlpacaBroker:
    # The fake's 127.0.0.1 address is not Alpaca's paper endpoint, so it counts as live.
    return AlpacaBroker(
        armed(),
        live=True,
        api_key=CANARY_KEY,
        secret_key=CANARY_SECRET,
        trading_url=server.url,
        data_url=server.url,
        timeout=0.5,
        read_attempts=4,
        backoff=0.01,
    )


def order(cid: str, side: Side = Side.BUY, qty: float = 5, symbol: str = "AAPL", **kw) -> Order:
    return Order(client_order_id=cid, symbol=symbol, side=side, quantity=qty, broker="alpaca", **kw)


def test_alpaca_broker_speaks_the_broker_protocol_in_paper_mode(paper_host: FakeAlpaca) -> None:
    paper = AlpacaBroker(settings(), api_key=CANARY_KEY, secret_key=CANARY_SECRET, backoff=0.01)
    assert isinstance(paper, Broker)
    assert paper.mode is AccountMode.PAPER
    assert paper.account().mode is AccountMode.PAPER
    assert ("GET", "/v2/account") in paper_host.log  # the account itself was asked


@pytest.mark.parametrize(
    ("url", "mode"),
    [
        ("https://paper-api.alpaca.markets", AccountMode.PAPER),
        ("https://paper-api.alpaca.markets/", AccountMode.PAPER),
        ("HTTPS://Paper-API.alpaca.markets", AccountMode.PAPER),
        ("https://paper-api.alpaca.markets:443", AccountMode.PAPER),
        ("https://api.alpaca.markets", AccountMode.LIVE),
        ("http://paper-api.alpaca.markets", AccountMode.LIVE),
        ("https://paper-api.alpaca.markets.example.com", AccountMode.LIVE),
        ("https://paper-api.alpaca.markets:8443", AccountMode.LIVE),
        ("https://paper-api.alpaca.markets@api.alpaca.markets", AccountMode.LIVE),
        ("https://user@paper-api.alpaca.markets", AccountMode.LIVE),
        ("https://paper-api.alpaca.markets/proxy", AccountMode.LIVE),
        ("http://127.0.0.1:8080", AccountMode.LIVE),
        ("https://paper-api.alpaca.markets:notaport", AccountMode.LIVE),
        ("", AccountMode.LIVE),
    ],
)
def test_only_the_known_paper_endpoint_is_paper(url: str, mode: AccountMode) -> None:
    assert endpoint_mode(url) is mode


@pytest.mark.parametrize(
    "url", ["https://api.alpaca.markets", "http://127.0.0.1:9", "https://alpaca.example.com"]
)
def test_live_or_unknown_endpoint_refuses_to_start_without_both_opt_ins(url: str) -> None:
    for cfg, live in ((settings(), False), (settings(), True), (armed(), False)):
        with pytest.raises(BrokerError) as info:
            AlpacaBroker(cfg, live=live, api_key="k", secret_key="s", trading_url=url)
        assert "TRADECREW_BROKER__LIVE_TRADING=true" in str(info.value)
        assert "\n" not in str(info.value)
    assert AlpacaBroker(armed(), live=True, api_key="k", secret_key="s", trading_url=url).mode is (
        AccountMode.LIVE
    )


def test_auto_approve_paper_cannot_label_the_live_endpoint_paper() -> None:
    cfg = settings(alpaca_base_url="https://api.alpaca.markets", auto_approve_paper=True)
    with pytest.raises(LiveTradingRefused, match="live account"):
        AlpacaBroker(cfg, api_key="k", secret_key="s")
    opted_in = settings(
        alpaca_base_url="https://api.alpaca.markets", auto_approve_paper=True, live_trading=True
    )
    assert AlpacaBroker(opted_in, live=True, api_key="k", secret_key="s").mode is AccountMode.LIVE


def test_live_account_behind_the_paper_endpoint_refuses_to_start(paper_host: FakeAlpaca) -> None:
    paper_host.account_number = "312345678"  # not "PA...": a real-money account
    with pytest.raises(LiveTradingRefused, match="312345678 is a live account"):
        AlpacaBroker(settings(), api_key=CANARY_KEY, secret_key=CANARY_SECRET, backoff=0.01)
    opted_in = AlpacaBroker(
        armed(), live=True, trading_url=PAPER_URL, api_key=CANARY_KEY, secret_key=CANARY_SECRET
    )
    assert opted_in.mode is AccountMode.LIVE


def test_live_account_found_later_behind_the_paper_endpoint_stops_the_adapter(
    paper_host: FakeAlpaca,
) -> None:
    paper_host.fail_next(2, 503, method="GET", path="/v2/account")  # unreadable at start
    b = AlpacaBroker(
        settings(), api_key=CANARY_KEY, secret_key=CANARY_SECRET, read_attempts=2, backoff=0.01
    )
    assert b.mode is AccountMode.PAPER  # by the endpoint, until the account says otherwise
    paper_host.account_number = "312345678"
    with pytest.raises(LiveTradingRefused, match="restart"):
        b.account()
    assert b.mode is AccountMode.LIVE
    with pytest.raises(LiveTradingRefused):
        b.submit(order("c-after"))
    with pytest.raises(LiveTradingRefused):
        b.positions()
    assert paper_host.order_posts() == 0


def test_market_order_is_placed_and_mapped_back(broker: AlpacaBroker, server: FakeAlpaca) -> None:
    sent = order("c-mkt")
    placed = broker.submit(sent)
    assert placed.status is OrderStatus.FILLED
    assert placed.id == sent.id  # the desk's id survives the round trip
    assert placed.broker_order_id in server.orders
    assert placed.average_fill_price == pytest.approx(190.1)
    assert [p.quantity for p in broker.positions()] == [5]
    fills = broker.fills()
    assert [(f.client_order_id, f.quantity, f.order_id) for f in fills] == [("c-mkt", 5, sent.id)]


def test_limit_order_rests_and_can_be_cancelled(broker: AlpacaBroker, server: FakeAlpaca) -> None:
    placed = broker.submit(
        order("c-lim", order_type=OrderType.LIMIT, limit_price=150.0, time_in_force=TimeInForce.DAY)
    )
    assert placed.status is OrderStatus.ACCEPTED
    assert server.orders[placed.broker_order_id]["limit_price"] == "150.0"
    assert [o.client_order_id for o in broker.orders(open_only=True)] == ["c-lim"]
    broker.cancel("c-lim")
    assert broker.get_order_by_client_id("c-lim").status is OrderStatus.CANCELLED
    with pytest.raises(OrderRejected, match="cannot be cancelled"):
        broker.cancel(placed.broker_order_id)
    with pytest.raises(UnknownOrder):
        broker.cancel("no-such-client-id")


def test_bracket_order_carries_both_legs(broker: AlpacaBroker, server: FakeAlpaca) -> None:
    placed = broker.submit(
        order(
            "c-brk",
            order_type=OrderType.LIMIT,
            limit_price=180.0,
            stop_loss=170.0,
            take_profit=200.0,
        )
    )
    raw = server.orders[placed.broker_order_id]
    assert raw["order_class"] == "bracket"
    assert (placed.stop_loss, placed.take_profit) == (170.0, 200.0)
    oto = broker.submit(
        order("c-oto", order_type=OrderType.LIMIT, limit_price=180.0, stop_loss=170.0)
    )
    assert server.orders[oto.broker_order_id]["order_class"] == "oto"


def test_same_client_id_twice_leaves_one_order_at_the_server(
    broker: AlpacaBroker, server: FakeAlpaca
) -> None:
    first = broker.submit(order("c-dup"))
    again = broker.submit(order("c-dup"))
    assert again.broker_order_id == first.broker_order_id
    assert len(server.orders) == 1


def test_timeout_during_post_is_resolved_by_lookup_with_exactly_one_order(
    broker: AlpacaBroker, server: FakeAlpaca
) -> None:
    server.delay_next(1.5)  # the order is created, the response arrives too late
    placed = broker.submit(order("c-slow"))
    assert placed.client_order_id == "c-slow"
    assert placed.status is OrderStatus.FILLED
    assert len(server.orders) == 1
    assert server.order_posts() == 1  # found by the look-up: never resent


@pytest.mark.parametrize("created", [True, False])
def test_500_on_post_looks_up_then_leaves_at_most_one_order(
    broker: AlpacaBroker, server: FakeAlpaca, created: bool
) -> None:
    server.fail_next(1, 500, method="POST", path="/v2/orders", process=created)
    placed = broker.submit(order("c-500"))
    assert placed.client_order_id == "c-500"
    assert len(server.orders) == 1
    assert server.order_posts() == (1 if created else 2)
    lookups = [p for m, p in server.log if p == "/v2/orders:by_client_order_id"]
    assert lookups, "the adapter must look the order up before resending"


@pytest.mark.parametrize("status", [429, 504])
def test_sdk_never_resends_a_post_on_its_own(
    broker: AlpacaBroker, server: FakeAlpaca, status: int
) -> None:
    server.fail_next(1, status, method="POST", path="/v2/orders")
    broker.submit(order("c-rl"))
    i = server.log.index(("POST", "/v2/orders"))
    assert server.log[i + 1] == ("GET", "/v2/orders:by_client_order_id")
    assert len(server.orders) == 1


def test_unknown_outcome_when_the_lookup_also_fails(
    broker: AlpacaBroker, server: FakeAlpaca
) -> None:
    server.fail_next(1, 500, method="POST", path="/v2/orders", process=True)
    server.fail_next(10, 503, method="GET", path="/v2/orders:by_client_order_id")
    with pytest.raises(OrderOutcomeUnknown) as info:
        broker.submit(order("c-lost"))
    assert info.value.client_order_id == "c-lost"
    assert server.order_posts() == 1  # never resent without a confirmed absence


def test_422_rejection_carries_the_servers_message(
    broker: AlpacaBroker, server: FakeAlpaca
) -> None:
    server.reject_next(422, 40010001, "qty must be > 0 for this asset")
    with pytest.raises(OrderRejected, match="qty must be > 0") as info:
        broker.submit(order("c-bad"))
    assert info.value.code == 40010001
    server.reject_next(403, 40310000, "insufficient buying power")
    with pytest.raises(OrderRejected, match="insufficient buying power"):
        broker.submit(order("c-poor"))
    assert server.orders == {}


@pytest.mark.parametrize("status", [500, 503, 429])
def test_reads_are_retried_on_transient_errors(
    broker: AlpacaBroker, server: FakeAlpaca, status: int
) -> None:
    server.fail_next(2, status, method="GET", path="/v2/account")
    acct = broker.account()
    assert acct.account_id == "PA3FAKE"
    assert acct.equity == pytest.approx(100_000)
    assert server.log.count(("GET", "/v2/account")) == 3


def test_reads_give_up_as_unavailable_after_the_attempts(
    broker: AlpacaBroker, server: FakeAlpaca
) -> None:
    server.fail_next(10, 503, method="GET", path="/v2/positions")
    with pytest.raises(BrokerUnavailable):
        broker.positions()
    assert server.log.count(("GET", "/v2/positions")) == 4


def test_quotes_for_stocks_and_crypto(broker: AlpacaBroker) -> None:
    q = broker.quote("AAPL")
    assert (q.bid, q.ask, q.source) == (189.9, 190.1, "alpaca")
    c = broker.quote("BTCUSD")
    assert (c.symbol, c.bid) == ("BTCUSD", 60_000.0)


def test_crypto_orders_use_the_slash_symbol(broker: AlpacaBroker, server: FakeAlpaca) -> None:
    placed = broker.submit(order("c-btc", symbol="BTCUSD", qty=0.01))
    assert server.orders[placed.broker_order_id]["symbol"] == "BTC/USD"
    assert placed.symbol == "BTCUSD"
    with pytest.raises(NotSupported, match="gtc or ioc"):
        broker.submit(order("c-btc2", symbol="BTCUSD", qty=0.01, time_in_force=TimeInForce.DAY))


def test_cancel_all_by_symbol(broker: AlpacaBroker) -> None:
    for i in range(2):
        broker.submit(order(f"a{i}", order_type=OrderType.LIMIT, limit_price=100.0 + i))
    broker.submit(
        order("b0", symbol="BTCUSD", qty=0.01, order_type=OrderType.LIMIT, limit_price=1.0)
    )
    assert broker.cancel_all("AAPL") == 2
    assert [o.client_order_id for o in broker.orders(open_only=True)] == ["b0"]
    assert broker.cancel_all() == 1


@pytest.mark.parametrize("symbol", ["XAUUSD", "EURUSD", "SPX", "not a symbol"])
def test_symbols_alpaca_does_not_trade_are_not_supported(
    broker: AlpacaBroker, server: FakeAlpaca, symbol: str
) -> None:
    with pytest.raises(NotSupported):
        broker.submit(order("c-x", symbol=symbol, qty=1))
    assert server.order_posts() == 0


def test_symbol_mapping() -> None:
    assert to_alpaca_symbol("btcusd") == "BTC/USD"
    assert to_alpaca_symbol("ETH") == "ETH/USD"
    assert to_alpaca_symbol("GOOG") == "GOOG"
    assert to_alpaca_symbol("BRK.B") == "BRK.B"


@pytest.mark.parametrize(
    ("status", "filled", "ours"),
    [
        ("pending_new", 0, OrderStatus.SUBMITTED),
        ("new", 0, OrderStatus.ACCEPTED),
        ("accepted", 0, OrderStatus.ACCEPTED),
        ("new", 2, OrderStatus.PARTIALLY_FILLED),
        ("partially_filled", 2, OrderStatus.PARTIALLY_FILLED),
        ("filled", 5, OrderStatus.FILLED),
        ("canceled", 0, OrderStatus.CANCELLED),
        ("expired", 0, OrderStatus.EXPIRED),
        ("rejected", 0, OrderStatus.REJECTED),
        ("done_for_day", 0, OrderStatus.ACCEPTED),
    ],
)
def test_alpaca_statuses_map_onto_the_order_lifecycle(
    status: str, filled: float, ours: OrderStatus
) -> None:
    assert map_status(status, filled) is ours


def test_secrets_never_appear_in_errors_or_logs(
    server: FakeAlpaca, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = AlpacaBroker(
        armed(),
        live=True,
        api_key=CANARY_KEY,
        secret_key=CANARY_SECRET + "x",
        trading_url=server.url,
        data_url=server.url,
        backoff=0.01,
    )
    with pytest.raises(BrokerError) as info:
        wrong.account()
    server.fail_next(1, 500, method="POST", path="/v2/orders")
    server.fail_next(5, 500, method="GET", path="/v2/orders:by_client_order_id")
    with pytest.raises(OrderOutcomeUnknown) as lost:
        AlpacaBroker(
            armed(),
            live=True,
            api_key=CANARY_KEY,
            secret_key=CANARY_SECRET,
            trading_url=server.url,
            backoff=0.01,
        ).submit(order("c-s"))
    text = " ".join([str(info.value), repr(info.value), str(lost.value), caplog.text, repr(wrong)])
    for secret in (CANARY_KEY, CANARY_SECRET):
        assert secret not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_keys_come_from_the_standard_alpaca_variables(
    server: FakeAlpaca, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", CANARY_KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", CANARY_SECRET)
    b = AlpacaBroker(armed(), live=True, trading_url=server.url)
    assert b.account().account_id == "PA3FAKE"


def test_keys_come_from_tradecrew_settings(server: FakeAlpaca, monkeypatch) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_API_KEY", CANARY_KEY)
    monkeypatch.setenv("TRADECREW_BROKER__ALPACA_SECRET_KEY", CANARY_SECRET)
    monkeypatch.setenv("TRADECREW_BROKER__LIVE_TRADING", "true")
    b = AlpacaBroker(Settings(), live=True, trading_url=server.url)
    assert b.account().account_id == "PA3FAKE"


def test_missing_keys_are_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("APCA_API_KEY_ID", "APCA_API_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(BrokerError, match="keys missing"):
        AlpacaBroker(settings())


def test_live_needs_both_the_setting_and_the_explicit_flag(paper_host: FakeAlpaca) -> None:
    with pytest.raises(BrokerError, match="live trading is off"):
        AlpacaBroker(settings(), live=True, api_key="k", secret_key="s")
    keys = {"api_key": CANARY_KEY, "secret_key": CANARY_SECRET}
    # Opted in but on the paper endpoint with a paper account: still paper, by the venue.
    assert AlpacaBroker(armed(), **keys).mode is AccountMode.PAPER
    assert AlpacaBroker(armed(), live=True, **keys).mode is AccountMode.LIVE  # live endpoint


def test_unreachable_server_is_unavailable_and_nothing_is_assumed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    b = AlpacaBroker(
        armed(),
        live=True,
        api_key="k",
        secret_key="s",
        trading_url="http://127.0.0.1:9",
        timeout=0.5,
        read_attempts=2,
        backoff=0.01,
    )
    with pytest.raises(BrokerUnavailable):
        b.account()
    with pytest.raises(BrokerUnavailable):
        b.submit(order("c-down"))


def test_fills_since_requires_an_aware_time(broker: AlpacaBroker) -> None:
    with pytest.raises(ValueError, match="timezone"):
        broker.fills(since=datetime(2024, 1, 1))
    assert broker.fills(since=datetime.now(UTC) - timedelta(days=1)) == []


def test_a_servers_message_is_one_plain_capped_line_without_the_keys(
    broker: AlpacaBroker, server: FakeAlpaca
) -> None:
    # Escapes, a forged second line, the key echoed back split by an escape, 100 KB of it.
    split_key = CANARY_KEY[:6] + "\x1b[0m" + CANARY_KEY[6:]
    hostile = "no\nerror: forged line\r\x1b]0;TITLE\x07\x1b[2J\u202ekey=" + split_key
    hostile += "Z" * 100_000
    server.reject_next(403, 40310000, hostile, method="GET", path="/v2/account")
    with pytest.raises(BrokerError) as read:
        broker.account()
    server.reject_next(422, 40010001, hostile)
    with pytest.raises(OrderRejected) as placed:
        broker.submit(order("c-hostile"))
    for text in (str(read.value), str(placed.value)):
        assert text.isprintable() and len(text) < 400 and text.endswith("…")
        assert "no error: forged line" in text and "TITLE" not in text
        assert CANARY_KEY not in text and "key=***" in text
