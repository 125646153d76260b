"""The MT5 data provider against the broker tests' fake MetaTrader5 module, grown by the
terminal's market-data calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.data.helpers import Clock
from tests.fakes.fake_mt5_data import TICKS_DTYPE, FakeMT5Data, rates
from tradecrew.config import DataSettings, Settings
from tradecrew.data import Provider, SourceUnavailable, UnknownSymbolError
from tradecrew.data.mt5 import Mt5DataProvider
from tradecrew.instruments import find_instrument
from tradecrew.models import AssetClass

pytestmark = pytest.mark.usefixtures("own_provided_instruments")
LAST = datetime(2026, 12, 4, tzinfo=UTC)
D1, H1 = 16408, 16385


@pytest.fixture
def fake() -> FakeMT5Data:
    f = FakeMT5Data()
    f.rates[("XAUUSD", D1)] = rates(400, LAST, 2300.0)
    f.rates[("EURUSD", D1)] = rates(400, LAST, 1.08)
    f.rates[("GER40.cash", D1)] = rates(400, LAST, 18000.0)
    f.rates[("AMD.NAS", D1)] = rates(400, LAST, 150.0)
    return f


def make(fake: FakeMT5Data, home: Path, clock: Clock | None = None, **data) -> Mt5DataProvider:
    settings = Settings(home=home, data=DataSettings(**data))
    return Mt5DataProvider(settings, module=fake, clock=clock or Clock())


def test_bars_are_canonical_and_real(fake: FakeMT5Data, tmp_path: Path) -> None:
    provider = make(fake, tmp_path)
    assert isinstance(provider, Provider)
    bars = provider.bars("gold", "D1")  # aliases keep working
    served = fake.rates[("XAUUSD", D1)]
    assert len(bars) == 400 and bars["close"].iat[-1] == served["close"][-1]
    assert bars["volume"].iat[-1] == 1200  # OTC symbol: tick volume
    assert str(bars.index.tz) == "UTC" and bars.index[-1] == pd.Timestamp(LAST)
    assert bars.attrs == {"symbol": "XAUUSD", "synthetic": False, "source": "mt5"}
    assert fake.init_kwargs == {}  # connected as the broker connects, no credentials given


def test_server_time_is_turned_into_utc(fake: FakeMT5Data, tmp_path: Path) -> None:
    fake.rates[("XAUUSD", H1)] = rates(48, datetime(2026, 12, 4, 22, tzinfo=UTC), 2300.0, 3600)
    bars = make(fake, tmp_path, mt5_server_utc_offset_hours=2).bars("XAUUSD", "H1")
    assert bars.index[-1] == pd.Timestamp("2026-12-04 20:00", tz="UTC")


def test_a_second_read_within_the_ttl_makes_no_call(fake: FakeMT5Data, tmp_path: Path) -> None:
    clock = Clock()
    make(fake, tmp_path, clock).bars("EURUSD", "D1")
    calls = len(fake.data_calls)
    make(fake, tmp_path, clock).bars("EURUSD", "D1")  # a new process: the disk cache
    assert len(fake.data_calls) == calls


def test_after_the_ttl_only_recent_bars_are_asked_for(fake: FakeMT5Data, tmp_path: Path) -> None:
    clock = Clock()
    first = make(fake, tmp_path, clock).bars("EURUSD", "D1")
    fake.rates[("EURUSD", D1)] = rates(401, datetime(2026, 12, 5, tzinfo=UTC), 1.08)
    clock.now += pd.Timedelta(days=1)
    fake.data_calls.clear()
    bars = make(fake, tmp_path, clock).bars("EURUSD", "D1")
    assert len(bars) == len(first) + 1
    ((_, (_, _, since)),) = [c for c in fake.data_calls if c[0] == "copy_rates_range"]
    assert pd.Timestamp(since) == first.index[-2]


def test_any_terminal_symbol_brings_its_contract_data(fake: FakeMT5Data, tmp_path: Path) -> None:
    provider = make(fake, tmp_path)
    provider.bars("GER40.cash", "D1")
    inst = find_instrument("GER40.CASH")
    assert inst is not None and inst.asset_class is AssetClass.INDEX
    assert (inst.tick_size, inst.contract_size, inst.min_quantity, inst.quantity_step) == (
        0.5,
        1.0,
        0.1,
        0.1,
    )
    assert inst.quote_currency == "EUR"
    assert "GER40.cash" in fake.selected  # not in Market Watch: selected before reading


def test_quote_is_the_terminals_tick(fake: FakeMT5Data, tmp_path: Path) -> None:
    q = make(fake, tmp_path).quote("AMD.NAS")
    assert (q.bid, q.ask, q.source, q.synthetic) == (150.0, 150.05, "mt5", False)
    assert q.timestamp == datetime.fromtimestamp(1_717_000_000.5, UTC)
    inst = find_instrument("AMD.NAS")
    assert inst is not None and inst.asset_class is AssetClass.EQUITY


def test_trade_ticks_are_the_tape(fake: FakeMT5Data, tmp_path: Path) -> None:
    ticks = np.zeros(3, dtype=TICKS_DTYPE)
    ms = int(pd.Timestamp("2026-12-05 11:30", tz="UTC").timestamp() * 1000)
    ticks["time_msc"] = [ms, ms + 1000, ms + 2000]
    ticks["last"], ticks["volume_real"] = [150.0, 150.1, 0.0], [10, 5, 3]
    fake.trade_ticks["AMD.NAS"] = ticks
    prints = make(fake, tmp_path).trades("AMD.NAS")
    assert [(p.price, p.size) for p in prints] == [(150.0, 10.0), (150.1, 5.0)]
    assert ("copy_ticks_range", ("AMD.NAS", 2)) in fake.data_calls


def test_an_unknown_symbol_is_bad_input(fake: FakeMT5Data, tmp_path: Path) -> None:
    with pytest.raises(UnknownSymbolError, match=r"mt5 .*the terminal lists no symbol 'NOPE'"):
        make(fake, tmp_path).bars("NOPE", "D1")


def test_an_empty_answer_is_an_unknown_symbol(fake: FakeMT5Data, tmp_path: Path) -> None:
    fake.rates.pop(("EURUSD", D1))
    with pytest.raises(UnknownSymbolError, match="no D1 bars for EURUSD"):
        make(fake, tmp_path).bars("EURUSD", "D1")


def test_a_terminal_that_is_down_fails_in_one_line(fake: FakeMT5Data, tmp_path: Path) -> None:
    fake.down = True
    with pytest.raises(SourceUnavailable, match="mt5: cannot connect to the terminal: -10003"):
        make(fake, tmp_path).bars("EURUSD", "D1")


def test_a_dropped_bridge_is_an_outage(fake: FakeMT5Data, tmp_path: Path) -> None:
    def broken(*_a, **_k):
        raise EOFError("bridge closed")

    fake.copy_rates_range = broken  # type: ignore[method-assign]
    with pytest.raises(SourceUnavailable, match=r"mt5: terminal unreachable \(EOFError\)"):
        make(fake, tmp_path).bars("EURUSD", "D1")


def test_malformed_rates_are_an_outage(fake: FakeMT5Data, tmp_path: Path) -> None:
    fake.rates[("EURUSD", D1)] = rates(10, LAST, 1.08)[["time", "open"]]
    with pytest.raises(SourceUnavailable, match="mt5: malformed rates for EURUSD"):
        make(fake, tmp_path).bars("EURUSD", "D1")


def test_without_the_terminal_module_the_error_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "MetaTrader5", None)
    monkeypatch.setitem(sys.modules, "mt5linux", None)
    with pytest.raises(SourceUnavailable, match=r"mt5: .*MetaTrader5 package .*mt5linux"):
        Mt5DataProvider(Settings(home=tmp_path)).bars("EURUSD", "D1")


def test_instruments_search_lists_the_terminals_symbols(
    fake: FakeMT5Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.cli.invoke import cli
    from tradecrew.config import get_settings

    monkeypatch.setattr("tradecrew.brokers.mt5.load_module", lambda host, port: fake)
    monkeypatch.setattr("tradecrew.data.mt5.load_module", lambda host, port: fake)
    monkeypatch.setenv("TRADECREW_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    try:
        result = cli("instruments", "search", "ger", "--source", "mt5", "--json")
        assert result.exit_code == 0, result.output
        (row,) = json.loads(result.stdout)
        assert row["symbol"] == "GER40.cash" and row["asset_class"] == "index"
        assert (row["tick_size"], row["contract_size"], row["quantity_step"]) == (0.5, 1.0, 0.1)
        assert row["source"] == "mt5" and "trade mode full" in row["trading_hours"]
        amd = json.loads(cli("instruments", "search", "AMD", "--source", "mt5", "--json").stdout)
        assert amd[0]["shortable"] is False and amd[0]["fractional"] is False  # long only
        fake.down = True
        down = cli("instruments", "search", "ger", "--source", "mt5")
        assert down.exit_code == 3 and down.stderr.startswith("error: ") and "mt5" in down.stderr
    finally:
        get_settings.cache_clear()
