"""The alpaca data provider with the real alpaca-py client against a fake Alpaca data server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.data.fake_alpaca_data import (
    CRYPTO_BARS,
    STOCK_BARS,
    STOCK_SNAPSHOTS,
    FakeAlpacaData,
    daily_bars,
)
from tests.data.helpers import Clock
from tradecrew.config import DataSettings, Settings
from tradecrew.data import DataError, Provider, SourceUnavailable, UnknownSymbolError
from tradecrew.data.alpaca import AlpacaProvider
from tradecrew.data.alpaca_mapping import resolve_symbol
from tradecrew.data.sample import SampleProvider
from tradecrew.errors import Unavailable
from tradecrew.instruments import CATALOGUE, find_instrument
from tradecrew.models import AssetClass

KEY = "PKDATACANARY0123456"
SECRET = "data-secret-Qm3vT7pLx9"
LAST_DAY = datetime(2026, 12, 4, tzinfo=UTC)  # a Friday


pytestmark = pytest.mark.usefixtures("own_provided_instruments")


@pytest.fixture
def server() -> Iterator[FakeAlpacaData]:
    srv = FakeAlpacaData(KEY, SECRET).start()
    srv.bars[("AAPL", "1Day")] = daily_bars(300, LAST_DAY, 150.0)
    srv.bars[("AMD", "1Day")] = daily_bars(300, LAST_DAY, 60.0)
    srv.bars[("BTC/USD", "1Day")] = daily_bars(300, LAST_DAY, 60_000.0, hour=6, step=50.0)
    yield srv
    srv.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(
    server: FakeAlpacaData, home: Path, clock: Clock | None = None, **data: object
) -> AlpacaProvider:
    settings = Settings(home=home, data=DataSettings(**data))  # type: ignore[arg-type]
    return AlpacaProvider(
        settings, api_key=KEY, secret_key=SECRET, url=server.url, clock=clock, backoff=0.01
    )


def test_bars_are_canonical_real_and_match_what_was_served(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    provider = make(server, tmp_path)
    assert isinstance(provider, Provider)
    bars = provider.bars("AAPL", "D1")
    served = server.bars[("AAPL", "1Day")]
    assert len(bars) == len(served)
    assert list(bars.columns) == ["open", "high", "low", "close", "volume"]
    assert str(bars.index.tz) == "UTC" and bars.index.name == "timestamp"
    assert (bars.index == bars.index.normalize()).all()  # days labelled at UTC midnight
    assert bars.index[-1] == pd.Timestamp(LAST_DAY.date(), tz="UTC")
    assert bars["close"].iat[-1] == served[-1]["c"]
    assert bars.attrs == {"symbol": "AAPL", "synthetic": False, "source": "alpaca"}
    (request,) = server.requests_to(STOCK_BARS)
    assert request["symbols"] == "AAPL" and request["timeframe"] == "1Day"


def test_every_page_is_collected(server: FakeAlpacaData, tmp_path: Path) -> None:
    server.page_size = 70
    got = make(server, tmp_path).refresh(["AAPL", "AMD"], "D1")
    assert {s: len(df) for s, df in got.items()} == {"AAPL": 300, "AMD": 300}
    pages = server.requests_to(STOCK_BARS)
    assert len(pages) == 9  # 600 bars across both symbols, 70 a page
    assert got["AMD"]["close"].iat[-1] == server.bars[("AMD", "1Day")][-1]["c"]


def test_many_symbols_are_refreshed_with_one_request_per_asset_class(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    got = make(server, tmp_path).refresh(["AAPL", "AMD", "BTC/USD", "NOPE"], "D1")
    assert set(got) == {"AAPL", "AMD", "BTCUSD"}  # no bars for NOPE: left out
    assert len(server.requests_to(STOCK_BARS)) == 1
    assert server.requests_to(STOCK_BARS)[0]["symbols"] == "AAPL,AMD,NOPE"
    assert len(server.requests_to(CRYPTO_BARS)) == 1


def test_a_second_read_within_the_ttl_makes_no_request(
    server: FakeAlpacaData, tmp_path: Path, clock: Clock
) -> None:
    first = make(server, tmp_path, clock).bars("AAPL", "D1")
    assert len(server.log) == 1
    clock.now += pd.Timedelta(minutes=30)  # D1 TTL is an hour
    again = make(server, tmp_path, clock).bars("AAPL", "D1")  # a new process: from disk
    assert len(server.log) == 1
    pd.testing.assert_frame_equal(first, again)
    assert again.attrs["source"] == "alpaca" and again.attrs["synthetic"] is False


def test_after_the_ttl_only_the_bars_since_the_last_but_one_are_fetched(
    server: FakeAlpacaData, tmp_path: Path, clock: Clock
) -> None:
    make(server, tmp_path, clock).bars("AAPL", "D1")
    served = server.bars[("AAPL", "1Day")]
    served[-1] = dict(served[-1], c=served[-1]["c"] + 0.1, h=served[-1]["h"] + 0.1)  # it closed
    c = served[-1]["c"]
    served.append({"t": "2026-12-07T05:00:00Z", "o": c, "h": c + 2, "l": c - 1, "c": c + 1, "v": 9})
    clock.now += pd.Timedelta(hours=2)
    bars = make(server, tmp_path, clock).bars("AAPL", "D1")
    second = server.requests_to(STOCK_BARS)[-1]
    # from the day of the last-but-one cached bar: the bars of 3 Dec (compared) and later
    assert pd.Timestamp(second["start"]) == pd.Timestamp("2026-12-03", tz="UTC")
    assert len(bars) == 301
    assert bars["close"].iat[-2] == served[-2]["c"]  # the still-forming bar was replaced
    assert bars["close"].iat[-1] == served[-1]["c"]


def test_a_rewritten_history_is_fetched_whole(
    server: FakeAlpacaData, tmp_path: Path, clock: Clock
) -> None:
    make(server, tmp_path, clock).bars("AAPL", "D1")
    # A 2:1 split: Alpaca's split-adjusted history halves.
    server.bars[("AAPL", "1Day")] = [
        dict(b, o=b["o"] / 2, h=b["h"] / 2, l=b["l"] / 2, c=b["c"] / 2)
        for b in server.bars[("AAPL", "1Day")]
    ]
    clock.now += pd.Timedelta(hours=2)
    bars = make(server, tmp_path, clock).bars("AAPL", "D1")
    assert len(server.requests_to(STOCK_BARS)) == 3  # first, incremental, whole again
    assert bars["close"].iat[0] == server.bars[("AAPL", "1Day")][0]["c"]


def test_w1_and_mn1_are_built_from_daily_bars(server: FakeAlpacaData, tmp_path: Path) -> None:
    provider = make(server, tmp_path)
    weekly = provider.bars("AMD", "W1")
    monthly = provider.bars("AMD", "MN1")
    assert len(server.log) == 1  # both from the one daily series
    assert (weekly.index.dayofweek == 6).all()  # weeks start on Sunday, as the desk's do
    assert weekly["close"].iat[-1] == server.bars[("AMD", "1Day")][-1]["c"]
    assert monthly.index[-1] == pd.Timestamp("2026-12-01", tz="UTC")


def test_crypto_pairs_need_no_key_and_map_to_desk_symbols(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    provider = AlpacaProvider(Settings(home=tmp_path), url=server.url, backoff=0.01)
    bars = provider.bars("BTC/USD", "D1")
    assert bars.attrs["symbol"] == "BTCUSD"
    assert bars["close"].iat[-1] == server.bars[("BTC/USD", "1Day")][-1]["c"]
    assert server.requests_to(CRYPTO_BARS)[0]["symbols"] == "BTC/USD"


def test_quote_comes_from_the_snapshot(server: FakeAlpacaData, tmp_path: Path) -> None:
    server.set_quote("AAPL", 189.9, 190.1, 190.02)
    quote = make(server, tmp_path).quote("aapl")
    assert (quote.bid, quote.ask, quote.last) == (189.9, 190.1, 190.02)
    assert quote.source == "alpaca" and quote.synthetic is False
    assert len(server.requests_to(STOCK_SNAPSHOTS)) == 1


def test_a_ticker_outside_the_catalogue_gets_an_honest_instrument(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    assert "AMD" not in CATALOGUE
    server.bars[("SOL/USD", "1Day")] = daily_bars(50, LAST_DAY, 150.0, hour=6)
    provider = make(server, tmp_path)
    provider.bars("AMD", "D1")
    provider.bars("SOL/USD", "D1")
    amd, sol = find_instrument("AMD"), find_instrument("SOL/USD")
    assert amd is not None and amd.asset_class is AssetClass.EQUITY
    assert amd.quote_currency == "USD" and "alpaca" in amd.description
    assert sol is not None and sol.asset_class is AssetClass.CRYPTO
    assert (sol.symbol, sol.base_currency, sol.quote_currency) == ("SOLUSD", "SOL", "USD")
    assert resolve_symbol("SOLUSD") == ("SOLUSD", "SOL/USD", AssetClass.CRYPTO)
    assert "AMD" not in CATALOGUE  # the built-in catalogue is untouched
    with pytest.raises(UnknownSymbolError):
        SampleProvider().bars("AMD", "D1")  # and the sample world does not grow


@pytest.mark.parametrize("symbol", ["XAUUSD", "gold", "EURUSD", "SPX", "DXY", "$$$", "A/"])
def test_what_alpaca_does_not_serve_is_refused_without_a_request(
    server: FakeAlpacaData, tmp_path: Path, symbol: str
) -> None:
    with pytest.raises(UnknownSymbolError, match="alpaca has no data for symbol"):
        make(server, tmp_path).bars(symbol, "D1")
    assert server.log == []


def test_an_empty_answer_is_an_unknown_symbol(server: FakeAlpacaData, tmp_path: Path) -> None:
    with pytest.raises(UnknownSymbolError, match=r"'ZZZZ'.*no D1 bars") as info:
        make(server, tmp_path).bars("ZZZZ", "D1")
    assert isinstance(info.value, DataError) and not isinstance(info.value, Unavailable)


def test_a_404_is_an_unknown_symbol(server: FakeAlpacaData, tmp_path: Path) -> None:
    server.fail_next(1, 404)
    with pytest.raises(UnknownSymbolError, match="404"):
        make(server, tmp_path).bars("AAPL", "D1")


def test_429_waits_as_long_as_retry_after_asks(server: FakeAlpacaData, tmp_path: Path) -> None:
    server.fail_next(1, 429, retry_after="1")
    t0 = time.perf_counter()
    bars = make(server, tmp_path).bars("AAPL", "D1")
    assert time.perf_counter() - t0 >= 1.0
    assert len(bars) == 300 and len(server.log) == 2


def test_a_429_on_a_later_page_retries_that_page_only(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    server.page_size = 100
    provider = make(server, tmp_path)
    original = server.handle
    calls = {"n": 0}

    def second_page_limited(raw_path: str, headers: object):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            server.fail_next(1, 429, retry_after="0")
        return original(raw_path, headers)

    server.handle = second_page_limited  # type: ignore[method-assign]
    assert len(provider.bars("AAPL", "D1")) == 300
    tokens = [q.get("page_token") for q in server.requests_to(STOCK_BARS)]
    assert tokens[0] is None and tokens[1] == tokens[2] and len(tokens) == 4


def test_a_retry_after_longer_than_allowed_fails_at_once(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    server.fail_next(5, 429, retry_after="120")
    with pytest.raises(SourceUnavailable, match=r"^alpaca: rate limited \(429\).*120 s"):
        make(server, tmp_path, max_retry_wait_seconds=5).bars("AAPL", "D1")
    assert len(server.log) == 1


def test_server_errors_are_retried_with_backoff(server: FakeAlpacaData, tmp_path: Path) -> None:
    server.fail_next(2, 503)
    assert len(make(server, tmp_path).bars("AAPL", "D1")) == 300
    assert len(server.log) == 3


def test_server_errors_that_persist_fail_in_one_line(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    server.fail_next(10, 500)
    with pytest.raises(SourceUnavailable) as info:
        make(server, tmp_path, max_attempts=3).bars("AAPL", "D1")
    assert str(info.value).startswith("alpaca: server error 500")
    assert "\n" not in str(info.value)
    assert isinstance(info.value, Unavailable) and not isinstance(info.value, DataError)
    assert len(server.log) == 3


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"<html>gateway</html>", "not JSON"),
        (b'{"unexpected": 1}', "malformed reply"),
        (b'{"bars": {"AAPL": [{"t": "2026-12-04T05:00:00Z", "o": 1}]}}', "lacks 'h'"),
        (b'{"bars": {"AAPL": {"t": 1}}}', "not a list"),
        (
            b'{"bars": {"AAPL": [{"t": "yesterday", "o": 1, "h": 1, "l": 1, "c": 1, "v": 1}]}}',
            "bad bar time",
        ),
        (
            b'{"bars": {"AAPL": [{"t": "2026-12-04T05:00:00Z", "o": 1, "h": 0.5, "l": 1, '
            b'"c": 1, "v": 1}]}}',
            "high 0.5 is below low",
        ),
        (
            b'{"bars": {"AAPL": [{"t": "2026-12-04T05:00:00Z", "o": "x", "h": 1, "l": 1, '
            b'"c": 1, "v": 1}]}}',
            "not a number",
        ),
        (b"", "malformed reply"),
    ],
)
def test_malformed_payloads_fail_naming_alpaca(
    server: FakeAlpacaData, tmp_path: Path, body: bytes, why: str
) -> None:
    server.answer_next(body)
    with pytest.raises(SourceUnavailable, match=r"^alpaca: ") as info:
        make(server, tmp_path).bars("AAPL", "D1")
    assert why in str(info.value)
    assert not (tmp_path / "cache" / "bars" / "alpaca" / "AAPL_D1.parquet").exists()


def test_a_refused_key_fails_without_echoing_it(server: FakeAlpacaData, tmp_path: Path) -> None:
    provider = AlpacaProvider(
        Settings(home=tmp_path), api_key=KEY, secret_key="wrong-secret-zzz", url=server.url
    )
    with pytest.raises(SourceUnavailable, match=r"^alpaca: the API key was refused \(401") as info:
        provider.bars("AAPL", "D1")
    assert KEY not in str(info.value) and "wrong-secret-zzz" not in str(info.value)
    assert KEY not in repr(provider)


def test_no_network_fails_naming_the_cause(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    provider = AlpacaProvider(
        Settings(home=tmp_path), api_key=KEY, secret_key=SECRET, url=f"http://127.0.0.1:{port}"
    )
    t0 = time.perf_counter()
    with pytest.raises(SourceUnavailable, match=r"^alpaca: cannot reach .*connection refused"):
        provider.bars("AAPL", "D1")
    assert time.perf_counter() - t0 < 1.0  # a refused connection is not retried


def test_stocks_without_keys_say_which_variables_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APCA_API_KEY_ID", raising=False)
    monkeypatch.delenv("APCA_API_SECRET_KEY", raising=False)
    provider = AlpacaProvider(Settings(home=tmp_path), url="http://127.0.0.1:9")
    with pytest.raises(SourceUnavailable, match="no API keys: set APCA_API_KEY_ID"):
        provider.bars("AAPL", "D1")


def test_keys_come_from_the_apca_environment(
    server: FakeAlpacaData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APCA_API_KEY_ID", KEY)
    monkeypatch.setenv("APCA_API_SECRET_KEY", SECRET)
    provider = AlpacaProvider(Settings(home=tmp_path), url=server.url)
    assert len(provider.bars("AAPL", "D1")) == 300


def test_cached_bars_survive_an_outage_only_within_the_ttl(
    server: FakeAlpacaData, tmp_path: Path, clock: Clock
) -> None:
    make(server, tmp_path, clock).bars("AAPL", "D1")
    server.fail_next(10, 503)
    assert len(make(server, tmp_path, clock).bars("AAPL", "D1")) == 300  # fresh: no request
    clock.now += pd.Timedelta(hours=2)
    with pytest.raises(SourceUnavailable):  # stale: the outage is reported, not hidden
        make(server, tmp_path, clock, max_attempts=2).bars("AAPL", "D1")


def test_crypto_quote_reads_the_nested_snapshot(server: FakeAlpacaData, tmp_path: Path) -> None:
    server.set_quote("BTC/USD", 60_000.0, 60_010.0, 60_005.0)
    quote = AlpacaProvider(Settings(home=tmp_path), url=server.url).quote("BTCUSD")
    assert (quote.symbol, quote.bid, quote.ask, quote.last) == (
        "BTCUSD",
        60_000.0,
        60_010.0,
        60_005.0,
    )


def test_a_quote_for_an_unknown_ticker_is_bad_input(server: FakeAlpacaData, tmp_path: Path) -> None:
    with pytest.raises(UnknownSymbolError, match="no snapshot"):
        make(server, tmp_path).quote("ZZZZ")


def test_ttls_are_per_timeframe_and_checked(
    server: FakeAlpacaData, tmp_path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRADECREW_DATA__CACHE_TTL_SECONDS", '{"d1": 10}')
    settings = Settings(home=tmp_path)
    assert (
        settings.data.cache_ttl_seconds["D1"] == 10 and settings.data.cache_ttl_seconds["M5"] == 60
    )
    provider = AlpacaProvider(settings, api_key=KEY, secret_key=SECRET, url=server.url, clock=clock)
    provider.bars("AAPL", "D1")
    clock.now += pd.Timedelta(seconds=11)
    provider.bars("AAPL", "D1")
    assert len(server.log) == 2
    with pytest.raises(ValueError, match="unknown timeframe 'H2'"):
        DataSettings(cache_ttl_seconds={"H2": 5})


@pytest.mark.parametrize(
    "url", ["http://data.example.com", "http://10.0.0.5:8080", "ftp://data.example.com", "nope"]
)
def test_keys_are_never_sent_in_clear_to_another_machine(tmp_path: Path, url: str) -> None:
    with pytest.raises(DataError, match=r"alpaca data URL must be|plain http"):
        AlpacaProvider(Settings(home=tmp_path), api_key=KEY, secret_key=SECRET, url=url)


def test_an_unwritable_cache_still_serves_the_bars(server: FakeAlpacaData, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("a file where the cache folder should be")
    bars = make(server, home).bars("AAPL", "D1")
    assert len(bars) == 300


def test_a_server_that_does_not_answer_times_out_and_is_retried(
    server: FakeAlpacaData, tmp_path: Path
) -> None:
    server.stall_next(5, 1.0)
    t0 = time.perf_counter()
    with pytest.raises(SourceUnavailable, match=r"^alpaca: no answer from .*timed out"):
        make(server, tmp_path, timeout_seconds=0.2, max_attempts=2).bars("AAPL", "D1")
    assert time.perf_counter() - t0 < 1.0
    assert len(server.log) == 2


def test_a_planted_cache_file_is_not_trusted_and_the_source_is_asked(
    server: FakeAlpacaData, tmp_path: Path, clock: Clock
) -> None:
    from tradecrew.data.cache import BarCache, CachedBars
    from tradecrew.models import Timeframe

    make(server, tmp_path, clock).bars("AAPL", "D1")
    assert len(server.log) == 1
    # Someone without the desk's key rewrites the file: prices doubled, "fetched" far ahead.
    forger = BarCache(tmp_path / "cache" / "bars", secret=b"not the desk's key" * 2)
    real = forger.path("alpaca", "AAPL", Timeframe.D1)
    assert real.is_file()
    good = make(server, tmp_path, clock).bars("AAPL", "D1")
    fake = good.copy()
    fake[["open", "high", "low", "close"]] *= 2
    future, since = pd.Timestamp("2100-01-01", tz="UTC"), pd.Timestamp("1990-01-01", tz="UTC")
    forger.store("alpaca", "AAPL", Timeframe.D1, CachedBars(fake, future, since))
    again = make(server, tmp_path, clock).bars("AAPL", "D1")  # a new process: from disk?
    assert len(server.log) == 2  # no: the file is not the desk's, the source is asked
    assert again["close"].iat[-1] == server.bars[("AAPL", "1Day")][-1]["c"]
