"""Many symbols, few round trips: Alpaca's multi-symbol snapshots and bars feed the paper
venue's refresh in batches (one request per asset class), not one request per symbol."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import tradecrew.instruments
from tests.data.fake_alpaca_data import (
    CRYPTO_SNAPSHOTS,
    STOCK_BARS,
    STOCK_SNAPSHOTS,
    FakeAlpacaData,
    daily_bars,
    iso,
)
from tradecrew.config import get_settings
from tradecrew.models import Order, OrderStatus, OrderType, Side

KEY, SECRET = "PKBATCHKEY000111", "batch-secret-Zz9"
SYMBOLS = ["AAPL", "AMZN", "MSFT", "NVDA", "TSLA"]


@pytest.fixture
def server(tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAlpacaData]:
    srv = FakeAlpacaData(KEY, SECRET).start()
    for k, v in {
        "TRADECREW_DATA__ALPACA_DATA_URL": srv.url,
        "APCA_API_KEY_ID": KEY,
        "APCA_API_SECRET_KEY": SECRET,
        "TRADECREW_DATA__CACHE_TTL_SECONDS": '{"D1": 2}',
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(tradecrew.instruments, "_PROVIDED", {})
    get_settings.cache_clear()
    yield srv
    srv.stop()


def quote_at(srv: FakeAlpacaData, symbol: str, price: float, when: datetime) -> None:
    srv.set_quote(symbol, bid=price - 0.05, ask=price + 0.05, last=price)
    snap = srv.snapshots[symbol]
    snap["latestQuote"]["t"] = snap["latestTrade"]["t"] = iso(when)


def test_many_quotes_cost_one_request_per_asset_class(server: FakeAlpacaData) -> None:
    from tradecrew.data.alpaca import AlpacaProvider

    now = datetime.now(UTC)
    for i, sym in enumerate([*SYMBOLS, "BTC/USD"]):
        quote_at(server, sym, 100.0 + i, now)
    got = AlpacaProvider().quotes([*SYMBOLS, "BTCUSD", "ZZZZ"])
    assert sorted(got) == sorted([*SYMBOLS, "BTCUSD"])  # ZZZZ: no snapshot, absent
    assert got["AMZN"].last == 101.0 and got["BTCUSD"].source == "alpaca"
    stock = server.requests_to(STOCK_SNAPSHOTS)
    assert len(stock) == 1 and len(server.requests_to(CRYPTO_SNAPSHOTS)) == 1
    assert stock[0]["symbols"].split(",") == sorted([*SYMBOLS, "ZZZZ"])


def test_the_paper_venue_refreshes_many_symbols_in_batches_and_still_fills(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    from tradecrew.brokers.paper import PaperBroker
    from tradecrew.config import BrokerSettings

    now = datetime.now(UTC)
    start = now - timedelta(days=3)
    for sym in SYMBOLS:
        server.bars[(sym, "1Day")] = daily_bars(30, start, 100.0)
        quote_at(server, sym, 100.0, start)
    broker = PaperBroker(
        tmp_path / "paper.db",
        source="alpaca",
        timeframe="D1",
        settings=BrokerSettings(starting_cash=1_000_000),
        participation_rate=None,
    )
    try:
        for sym in SYMBOLS:
            broker.submit(
                Order(
                    client_order_id=f"lim-{sym}",
                    symbol=sym,
                    side=Side.BUY,
                    quantity=1,
                    order_type=OrderType.LIMIT,
                    limit_price=90.0,
                )
            )
        broker.refresh()  # starts each symbol's market clock at its quote
        # A day later every market dipped through the limit.
        bar = dict(server.bars[("AAPL", "1Day")][-1])
        bar.update(t=iso(now - timedelta(days=1)), o=95.0, h=96.0, l=88.0, c=94.0)
        for sym in SYMBOLS:
            server.bars[(sym, "1Day")].append(dict(bar))
            quote_at(server, sym, 94.0, now)
        time.sleep(2.1)  # the cached daily bars go stale
        before = len(server.log)
        fills = broker.refresh()
        requests = [path for path, _ in server.log[before:]]
    finally:
        broker.close()
    assert sorted(f.symbol for f in fills) == SYMBOLS
    assert all(f.price <= 90.0 for f in fills)
    assert all(o.status is OrderStatus.FILLED for o in broker_orders(tmp_path))
    # one snapshot request and one bars request for all five, not ten round trips
    assert requests.count(STOCK_SNAPSHOTS) == 1
    assert requests.count(STOCK_BARS) == 1
    assert len(requests) == 2


def broker_orders(tmp_path: Path) -> list[Order]:
    from tradecrew.brokers.paper import PaperBroker

    broker = PaperBroker(tmp_path / "paper.db", quote_fn=None)
    try:
        return broker.orders()
    finally:
        broker.close()
