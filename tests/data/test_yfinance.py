"""The yfinance provider against a fake ``yfinance`` module with the library's real shapes."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.cli.invoke import cli
from tests.data.helpers import Clock
from tests.fakes.fake_yfinance import FakeYFinance, daily
from tradecrew.config import DataSettings, Settings
from tradecrew.data import Provider, SourceUnavailable, UnknownSymbolError
from tradecrew.data.yfinance import YFinanceProvider
from tradecrew.data.yfinance_symbols import from_yahoo, to_yahoo
from tradecrew.instruments import find_instrument

pytestmark = pytest.mark.usefixtures("own_provided_instruments")
LAST = "2026-12-04"  # a Friday


@pytest.fixture
def yf(monkeypatch: pytest.MonkeyPatch) -> FakeYFinance:
    fake = FakeYFinance().install(monkeypatch)
    fake.series[("AAPL", "1d")] = daily(300, LAST, 150.0)
    fake.series[("AMD", "1d")] = daily(300, LAST, 60.0)
    fake.series[("GC=F", "1d")] = daily(300, LAST, 2300.0)
    fake.series[("EURUSD=X", "1d")] = daily(300, LAST, 1.08, tz="Europe/London")
    fake.series[("BTC-USD", "1d")] = daily(300, LAST, 60_000.0, tz="UTC")
    fake.series[("^GSPC", "1d")] = daily(300, LAST, 5000.0)
    return fake


def make(home: Path, clock: Clock | None = None, sleeps: list[float] | None = None, **data):
    settings = Settings(home=home, data=DataSettings(**data))
    record = sleeps.append if sleeps is not None else (lambda s: None)
    return YFinanceProvider(settings, clock=clock or Clock(), backoff=0.01, sleep=record)


@pytest.mark.parametrize(
    ("desk", "yahoo"),
    [
        ("XAUUSD", "GC=F"),
        ("EURUSD", "EURUSD=X"),
        ("BTCUSD", "BTC-USD"),
        ("SPX", "^GSPC"),
        ("NDX", "^NDX"),
        ("WTI", "CL=F"),
        ("AAPL", "AAPL"),
    ],
)
def test_desk_symbols_map_to_yahoo_tickers_and_back(desk: str, yahoo: str) -> None:
    assert to_yahoo(desk) == (desk, yahoo)
    assert to_yahoo(yahoo) == (desk, yahoo)
    assert from_yahoo(yahoo) == desk


def test_aliases_and_pairs_map_too() -> None:
    assert to_yahoo("gold") == ("XAUUSD", "GC=F")
    assert to_yahoo("SOL/USD") == ("SOLUSD", "SOL-USD")
    with pytest.raises(UnknownSymbolError, match="yfinance"):
        to_yahoo("not a ticker!")


@pytest.mark.parametrize(
    ("symbol", "ticker"),
    [("AAPL", "AAPL"), ("XAUUSD", "GC=F"), ("EURUSD", "EURUSD=X"), ("BTCUSD", "BTC-USD")],
)
def test_bars_are_canonical_utc_days_with_the_served_closes(
    yf: FakeYFinance, tmp_path: Path, symbol: str, ticker: str
) -> None:
    provider = make(tmp_path)
    assert isinstance(provider, Provider)
    bars = provider.bars(symbol, "D1")
    served = yf.series[(ticker, "1d")]
    assert list(bars.columns) == ["open", "high", "low", "close", "volume"]
    assert str(bars.index.tz) == "UTC" and bars.index.name == "timestamp"
    assert (bars.index == bars.index.normalize()).all()  # the exchange's date at UTC midnight
    assert bars.index[-1] == pd.Timestamp(LAST, tz="UTC")
    assert bars["close"].iat[-1] == pytest.approx(served["Close"].iat[-1])
    assert bars.attrs["source"] == "yfinance" and bars.attrs["synthetic"] is False
    assert yf.calls[0][0] == "download" and yf.calls[0][1] == (ticker,)


def test_intraday_bars_are_converted_to_utc_and_h4_built_from_1h(
    yf: FakeYFinance, tmp_path: Path
) -> None:
    hours = pd.date_range("2026-12-01 09:30", periods=40, freq="h", tz="America/New_York")
    frame = daily(40, LAST, 150.0).set_axis(hours)
    yf.series[("AAPL", "1h")] = frame
    provider = make(tmp_path)
    h1 = provider.bars("AAPL", "H1")
    assert h1.index[0] == pd.Timestamp("2026-12-01 14:30", tz="UTC")
    h4 = provider.bars("AAPL", "H4")
    assert len(h4) < len(h1) and h4["high"].max() == pytest.approx(h1["high"].max())
    assert [c[2] for c in yf.calls] == ["1h"]  # H4 reused the cached 1h bars


def test_many_symbols_are_fetched_with_one_download(yf: FakeYFinance, tmp_path: Path) -> None:
    got = make(tmp_path).refresh(["AAPL", "AMD", "XAUUSD", "EURUSD", "SPX"], "D1")
    assert sorted(got) == ["AAPL", "AMD", "EURUSD", "SPX", "XAUUSD"]
    assert len(yf.calls) == 1 and yf.calls[0][0] == "download"


def test_a_second_read_within_the_ttl_makes_no_call(yf: FakeYFinance, tmp_path: Path) -> None:
    clock = Clock()
    make(tmp_path, clock).bars("AAPL", "D1")
    again = make(tmp_path, clock).bars("AAPL", "D1")  # a new process: from the disk cache
    assert len(yf.calls) == 1
    assert again.attrs["source"] == "yfinance"


def test_after_the_ttl_only_recent_bars_are_fetched(yf: FakeYFinance, tmp_path: Path) -> None:
    clock = Clock()
    first = make(tmp_path, clock).bars("AAPL", "D1")
    yf.series[("AAPL", "1d")] = daily(301, "2026-12-07", 150.0)
    clock.now += pd.Timedelta(days=3)
    seen: list[object] = []
    original = yf.download

    def spy(tickers, start=None, **kw):
        seen.append(start)
        return original(tickers, start=start, **kw)

    yf.module.download = spy
    bars = make(tmp_path, clock).bars("AAPL", "D1")
    assert len(bars) == len(first) + 1
    assert pd.Timestamp(seen[0]).tz_convert("UTC") == first.index[-2]


def test_an_unknown_ticker_is_bad_input_naming_yfinance(yf: FakeYFinance, tmp_path: Path) -> None:
    with pytest.raises(UnknownSymbolError, match=r"yfinance .*NOSUCH.*YFPricesMissingError"):
        make(tmp_path).bars("NOSUCH", "D1")


def test_an_empty_answer_is_not_cached_as_data(yf: FakeYFinance, tmp_path: Path) -> None:
    provider = make(tmp_path)
    with pytest.raises(UnknownSymbolError):
        provider.bars("NOSUCH", "D1")
    assert not list((tmp_path / "cache").rglob("NOSUCH*"))


def test_the_rate_limit_is_waited_out_with_backoff(yf: FakeYFinance, tmp_path: Path) -> None:
    yf.rate_limited = 3  # download's try, then two history tries
    sleeps: list[float] = []
    bars = make(tmp_path, sleeps=sleeps).bars("AAPL", "D1")
    assert bars["close"].iat[-1] == pytest.approx(yf.series[("AAPL", "1d")]["Close"].iat[-1])
    assert sleeps == [0.01, 0.02]


def test_a_rate_limit_that_persists_fails_in_one_clear_line(
    yf: FakeYFinance, tmp_path: Path
) -> None:
    yf.rate_limited = 100
    with pytest.raises(SourceUnavailable, match="yfinance: rate limited by Yahoo") as err:
        make(tmp_path, max_attempts=3).bars("AAPL", "D1")
    assert "\n" not in str(err.value)


def test_no_network_is_an_outage_naming_the_cause(yf: FakeYFinance, tmp_path: Path) -> None:
    yf.offline = True
    with pytest.raises(SourceUnavailable, match="yfinance: cannot reach Yahoo Finance"):
        make(tmp_path).bars("AAPL", "D1")


def test_without_the_extra_the_error_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "yfinance", None)
    with pytest.raises(SourceUnavailable, match=r"uv sync --extra yfinance"):
        make(tmp_path).bars("AAPL", "D1")


def test_a_ticker_outside_the_catalogue_gets_an_instrument(
    yf: FakeYFinance, tmp_path: Path
) -> None:
    make(tmp_path).bars("AMD", "D1")
    inst = find_instrument("AMD")
    assert inst is not None and "yfinance" in inst.description


# ---------------------------------------------------------------------- the CLI


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    from tradecrew.config import get_settings
    from tradecrew.tools.catalog import provider_for

    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    provider_for.cache_clear()
    yield tmp_path / "home"
    get_settings.cache_clear()
    provider_for.cache_clear()


def test_analyze_shows_yahoo_bars_and_a_second_run_reads_the_cache(
    monkeypatch: pytest.MonkeyPatch, home: Path
) -> None:
    from tradecrew.tools.catalog import provider_for

    fake = FakeYFinance().install(monkeypatch)
    today = pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d")
    for ticker, price in [("AAPL", 150.0), ("DX-Y.NYB", 104.0), ("GC=F", 2300.0), ("^GSPC", 5000)]:
        fake.series[(ticker, "1d")] = daily(300, today, price)  # the symbol and its peers
    fake.series[("EURUSD=X", "1d")] = daily(300, today, 1.08, tz="Europe/London")
    first = cli("analyze", "AAPL", "--source", "yfinance", "--json")
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert report["source"] == "yfinance" and report["synthetic"] is False
    assert report["last_price"] == pytest.approx(fake.series[("AAPL", "1d")]["Close"].iat[-1])
    calls = len(fake.calls)
    provider_for.cache_clear()  # as a new process would: only the disk cache is left
    second = cli("analyze", "AAPL", "--source", "yfinance", "--json")
    assert second.exit_code == 0, second.output
    assert len(fake.calls) == calls
    assert all(kind == "download" for kind, _, _ in fake.calls)  # no ticker needed a probe


def test_analyze_exit_codes_for_unknown_symbol_and_outage(
    monkeypatch: pytest.MonkeyPatch, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeYFinance().install(monkeypatch)
    unknown = cli("analyze", "NOSUCH", "--source", "yfinance")
    assert unknown.exit_code == 2 and "yfinance" in unknown.stderr
    fake.offline = True
    down = cli("analyze", "AAPL", "--source", "yfinance")
    assert down.exit_code == 3, down.output
    assert down.stderr.startswith("error: ") and "yfinance" in down.stderr
    assert "Traceback" not in down.output
    # One line: the library's own log lines ("1 Failed download: ...", which a terminal
    # would show under the error) are not emitted at all.
    assert len(down.stderr.strip().splitlines()) == 1, down.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1, unknown.stderr
    assert [r.getMessage() for r in caplog.records if r.name == "yfinance"] == []


def test_the_desk_resolves_a_ticker_through_yfinance(
    yf: FakeYFinance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.config import get_settings
    from tradecrew.desk.symbols import resolve_instrument
    from tradecrew.instruments import UnknownSymbol
    from tradecrew.tools.catalog import provider_for

    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    provider_for.cache_clear()
    try:
        inst = resolve_instrument("AMD", "yfinance")  # propose AMD with this source
        assert inst.symbol == "AMD" and inst.asset_class.value == "equity"
        with pytest.raises(UnknownSymbol):
            resolve_instrument("NOSUCH", "yfinance")
    finally:
        get_settings.cache_clear()
        provider_for.cache_clear()


def test_a_quote_is_the_last_minute_bar_so_its_age_shows(yf: FakeYFinance, tmp_path: Path) -> None:
    minutes = pd.date_range("2026-12-04 15:00", periods=60, freq="min", tz="America/New_York")
    yf.series[("AAPL", "1m")] = daily(60, LAST, 190.0).set_axis(minutes)
    q = make(tmp_path).quote("AAPL")
    assert q.last == pytest.approx(yf.series[("AAPL", "1m")]["Close"].iat[-1])
    assert pd.Timestamp(q.timestamp) == pd.Timestamp("2026-12-04 20:59", tz="UTC")
    assert q.source == "yfinance" and q.synthetic is False
    daily_only = make(tmp_path).quote("AMD")  # no minute bars: the daily close
    assert daily_only.last == pytest.approx(yf.series[("AMD", "1d")]["Close"].iat[-1])
