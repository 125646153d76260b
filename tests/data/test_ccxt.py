"""The ccxt provider with the real ccxt library against a stand-in Binance on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.data.helpers import Clock
from tests.fakes.fake_binance import DAY_MS, FakeBinance, klines, spot_symbol
from tradecrew.config import DataSettings, Settings
from tradecrew.data import DataError, Provider, SourceUnavailable, UnknownSymbolError, get_provider
from tradecrew.data.ccxt import CcxtProvider, desk_pair
from tradecrew.instruments import find_instrument

pytestmark = pytest.mark.usefixtures("own_provided_instruments")
LAST_MS = int(pd.Timestamp("2026-12-04", tz="UTC").timestamp() * 1000)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeBinance]:
    srv = FakeBinance().start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(server: FakeBinance) -> FakeBinance:
    server.log.clear()
    server.faults.clear()
    server.markets = [spot_symbol("BTC", "USDT"), spot_symbol("ETH", "USDT")]
    server.markets.append(spot_symbol("SOL", "USDC"))
    server.klines = {
        ("BTCUSDT", "1d"): klines(2500, LAST_MS, 30_000.0),
        ("ETHUSDT", "1d"): klines(300, LAST_MS, 2_000.0),
        ("SOLUSDC", "1d"): klines(300, LAST_MS, 100.0),
    }
    return server


def make(srv: FakeBinance, home: Path, clock: Clock | None = None, sleeps=None, **data):
    settings = Settings(home=home, data=DataSettings(**data))
    record = sleeps.append if sleeps is not None else (lambda s: None)
    return CcxtProvider(
        settings,
        exchange="binance",
        url=srv.url,
        clock=clock or Clock(),
        backoff=0.01,
        sleep=record,
    )


def test_pairs_map_to_desk_symbols() -> None:
    assert desk_pair("BTCUSD") == ("BTCUSD", "BTC", "USD")
    assert desk_pair("bitcoin") == ("BTCUSD", "BTC", "USD")
    assert desk_pair("SOL/USDC") == ("SOLUSDC", "SOL", "USDC")
    assert desk_pair("SOLUSDT") == ("SOLUSDT", "SOL", "USDT")
    for bad in ("EURUSD", "AAPL", "X", "??/USD"):
        with pytest.raises(UnknownSymbolError, match="ccxt"):
            desk_pair(bad)


def test_ohlcv_is_paged_with_since_and_limit(srv: FakeBinance, tmp_path: Path) -> None:
    provider = make(srv, tmp_path)
    assert isinstance(provider, Provider)
    bars = provider.bars("BTCUSD", "D1")  # the exchange's BTC/USDT market
    served = srv.klines[("BTCUSDT", "1d")]
    assert len(bars) == 2500
    assert bars.index[0] == pd.Timestamp(served[0][0], unit="ms", tz="UTC")
    assert bars["close"].iat[-1] == float(served[-1][4])
    assert bars.attrs == {"symbol": "BTCUSD", "synthetic": False, "source": "ccxt"}
    pages = srv.requests("/api/v3/klines")
    assert [int(p["limit"]) for p in pages] == [1000, 1000, 1000]
    assert int(pages[1]["startTime"]) == served[999][0] + 1  # each page starts after the last
    assert int(pages[2]["startTime"]) == served[1999][0] + 1


def test_a_second_read_within_the_ttl_makes_no_request(srv: FakeBinance, tmp_path: Path) -> None:
    clock = Clock()
    make(srv, tmp_path, clock).bars("ETHUSD", "D1")
    before = len(srv.log)
    again = make(srv, tmp_path, clock).bars("ETHUSD", "D1")  # a new process: the disk cache
    assert len(srv.log) == before
    assert again.attrs["source"] == "ccxt"


def test_after_the_ttl_only_new_bars_are_fetched(srv: FakeBinance, tmp_path: Path) -> None:
    clock = Clock()
    first = make(srv, tmp_path, clock).bars("ETHUSD", "D1")
    srv.klines[("ETHUSDT", "1d")] = klines(301, LAST_MS + DAY_MS, 2_000.0)  # a day on
    clock.now += pd.Timedelta(days=1)
    srv.log.clear()
    bars = make(srv, tmp_path, clock).bars("ETHUSD", "D1")
    assert len(bars) == len(first) + 1
    (page,) = srv.requests("/api/v3/klines")
    assert int(page["startTime"]) == int(first.index[-2].timestamp() * 1000)


def test_quote_comes_from_the_ticker(srv: FakeBinance, tmp_path: Path) -> None:
    q = make(srv, tmp_path).quote("BTCUSD")
    last = float(srv.klines[("BTCUSDT", "1d")][-1][4])
    assert (q.bid, q.ask, q.last) == (pytest.approx(last - 0.01), pytest.approx(last + 0.01), last)
    assert q.source == "ccxt" and q.synthetic is False


def test_a_pair_outside_the_catalogue_gets_an_instrument(srv: FakeBinance, tmp_path: Path) -> None:
    make(srv, tmp_path).bars("SOL/USDC", "D1")
    inst = find_instrument("SOLUSDC")
    assert inst is not None and inst.base_currency == "SOL" and inst.quote_currency == "USDC"


def test_a_pair_the_exchange_does_not_list_is_bad_input(srv: FakeBinance, tmp_path: Path) -> None:
    with pytest.raises(UnknownSymbolError, match="binance lists no market DOGE/USD"):
        make(srv, tmp_path).bars("DOGEUSD", "D1")
    assert srv.requests("/api/v3/klines") == []


def test_429_waits_as_long_as_retry_after_asks(srv: FakeBinance, tmp_path: Path) -> None:
    sleeps: list[float] = []
    srv.faults = ["429:2"]
    bars = make(srv, tmp_path, sleeps=sleeps).bars("ETHUSD", "D1")
    assert len(bars) == 300 and sleeps == [2.0]


def test_a_retry_after_longer_than_allowed_fails_at_once(srv: FakeBinance, tmp_path: Path) -> None:
    srv.faults = ["429:600"]
    with pytest.raises(SourceUnavailable, match=r"ccxt: rate limited \(429\) by binance"):
        make(srv, tmp_path).bars("ETHUSD", "D1")
    assert len(srv.log) == 1


def test_server_errors_are_retried_with_backoff(srv: FakeBinance, tmp_path: Path) -> None:
    sleeps: list[float] = []
    srv.faults = ["500", "500"]
    make(srv, tmp_path, sleeps=sleeps).bars("ETHUSD", "D1")
    assert sleeps == [0.01, 0.02]


def test_server_errors_that_persist_fail_in_one_line(srv: FakeBinance, tmp_path: Path) -> None:
    srv.faults = ["500"] * 10
    with pytest.raises(SourceUnavailable, match=r"ccxt: binance .* is unavailable") as err:
        make(srv, tmp_path, max_attempts=3).bars("ETHUSD", "D1")
    assert "\n" not in str(err.value) and len(srv.log) == 3


@pytest.mark.parametrize("fault", ["malformed", "empty"])
def test_a_malformed_or_empty_market_list_is_an_outage(
    srv: FakeBinance, tmp_path: Path, fault: str
) -> None:
    srv.faults = [fault]
    with pytest.raises(SourceUnavailable, match="ccxt: binance listed no markets"):
        make(srv, tmp_path).bars("ETHUSD", "D1")


def test_a_malformed_ohlcv_page_is_an_outage(srv: FakeBinance, tmp_path: Path) -> None:
    provider = make(srv, tmp_path)
    provider._exchange().load_markets()
    srv.faults = ["malformed"]
    with pytest.raises(SourceUnavailable, match=r"ccxt: .*binance"):
        provider.bars("ETHUSD", "D1")


def test_an_empty_ohlcv_answer_is_an_unknown_symbol(srv: FakeBinance, tmp_path: Path) -> None:
    srv.klines[("ETHUSDT", "1d")] = []
    with pytest.raises(UnknownSymbolError, match="binance has no D1 bars for ETH/USDT"):
        make(srv, tmp_path).bars("ETHUSD", "D1")


def test_no_network_fails_naming_the_cause(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, data=DataSettings(max_attempts=1, timeout_seconds=2))
    provider = CcxtProvider(settings, exchange="binance", url="http://127.0.0.1:9", backoff=0.0)
    with pytest.raises(SourceUnavailable, match="ccxt: cannot reach binance"):
        provider.bars("BTCUSD", "D1")


def test_the_exchange_is_named_by_the_source_or_the_setting(tmp_path: Path) -> None:
    assert get_provider("ccxt:kraken").exchange_id == "kraken"
    assert CcxtProvider(Settings(home=tmp_path, data=DataSettings(ccxt_exchange="kraken")))
    with pytest.raises(DataError, match="not a ccxt exchange id"):
        CcxtProvider(Settings(home=tmp_path), exchange="../etc")
    with pytest.raises(DataError, match="knows no exchange"):
        CcxtProvider(Settings(home=tmp_path), exchange="nosuchexchange").bars("BTCUSD")


def test_without_the_extra_the_error_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ccxt", None)
    with pytest.raises(SourceUnavailable, match=r"uv sync --extra ccxt"):
        CcxtProvider(Settings(home=tmp_path)).bars("BTCUSD", "D1")


def test_analyze_reads_the_exchange_then_the_cache(
    srv: FakeBinance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli.invoke import cli
    from tradecrew.config import get_settings
    from tradecrew.tools.catalog import provider_for

    today = int(pd.Timestamp.now(tz="UTC").normalize().timestamp() * 1000)
    srv.klines[("BTCUSDT", "1d")] = klines(400, today, 30_000.0)
    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADECREW_DATA__CCXT_URL", srv.url)
    get_settings.cache_clear()
    provider_for.cache_clear()
    try:
        first = cli("analyze", "BTCUSD", "--source", "ccxt:binance", "--json")
        assert first.exit_code == 0, first.output
        report = json.loads(first.stdout)
        assert report["synthetic"] is False and report["source"].startswith("ccxt")
        assert report["last_price"] == float(srv.klines[("BTCUSDT", "1d")][-1][4])
        before = len(srv.log)
        provider_for.cache_clear()
        assert cli("analyze", "BTCUSD", "--source", "ccxt:binance", "--json").exit_code == 0
        assert len(srv.log) == before
        bad = cli("analyze", "EURUSD", "--source", "ccxt:binance")
        assert bad.exit_code == 2 and bad.stderr.startswith("error: ") and "ccxt" in bad.stderr
        srv.faults = ["500"] * 20
        down = cli("analyze", "ETHUSD", "--source", "ccxt:binance")
        assert down.exit_code == 3 and "ccxt" in down.stderr and "Traceback" not in down.output
    finally:
        get_settings.cache_clear()
        provider_for.cache_clear()


def test_the_desk_resolves_a_pair_through_ccxt_with_its_exchange(
    srv: FakeBinance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.desk.symbols import resolve_instrument

    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TRADECREW_DATA__CCXT_URL", srv.url)
    srv.klines[("SOLUSDC", "1d")] = klines(30, LAST_MS, 100.0)
    get_settings.cache_clear()
    try:
        inst = resolve_instrument("SOL/USDC", "ccxt:binance")
        assert inst.symbol == "SOLUSDC" and inst.asset_class.value == "crypto"
    finally:
        get_settings.cache_clear()
