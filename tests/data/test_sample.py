from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradecrew.data import DataError, Provider, UnknownSymbolError
from tradecrew.data.sample import SAMPLE_CLOCK, SAMPLE_END, SampleProvider
from tradecrew.instruments import CATALOGUE, get_instrument
from tradecrew.models import Side, Timeframe

P = SampleProvider()


def test_sample_provider_is_a_provider() -> None:
    assert isinstance(P, Provider) and P.name == "sample"


@pytest.mark.slow  # importing arch's modelling stack takes seconds
def test_real_series_are_exactly_what_arch_ships() -> None:
    import arch.data.nasdaq
    import arch.data.sp500
    import arch.data.vix
    import arch.data.wti

    for symbol, module in (("SPX", arch.data.sp500), ("NDX", arch.data.nasdaq)):
        raw = module.load()
        raw = raw.loc[raw.index <= "2018-12-31"]
        ours = P.bars(symbol, "D1")
        assert np.array_equal(ours["close"].to_numpy(), raw["Close"].to_numpy(dtype=float))
        assert np.array_equal(ours["volume"].to_numpy(), raw["Volume"].to_numpy(dtype=float))
        assert np.array_equal(ours.index.tz_localize(None).as_unit("ns"), raw.index.as_unit("ns"))
    for symbol, module in (("WTI", arch.data.wti), ("VIX", arch.data.vix)):
        close = module.load().iloc[:, 0].dropna()
        close = close.loc[close.index <= "2018-12-31"]
        ours = P.bars(symbol, "D1")
        assert np.array_equal(ours["close"].to_numpy(), close.to_numpy(dtype=float))


def test_real_data_is_labelled_real_and_ends_at_the_sample_clock() -> None:
    spx = P.bars("SPX", "D1")
    assert spx.attrs["synthetic"] is False and spx.attrs["source"] == "sample:arch"
    assert spx.index[-1] == SAMPLE_END and spx.index[0] == pd.Timestamp("1999-01-04", tz="UTC")
    assert spx["volume"].gt(0).all()


@pytest.mark.parametrize("symbol", ["WTI", "VIX"])
def test_close_only_series_are_built_from_closes_and_say_so(symbol: str) -> None:
    df = P.bars(symbol, "D1")
    assert "close-only" in df.attrs["note"]
    assert np.array_equal(df["open"].to_numpy()[1:], df["close"].to_numpy()[:-1])
    assert (df["high"] == np.maximum(df["open"], df["close"])).all()
    assert (df["low"] == np.minimum(df["open"], df["close"])).all()
    assert (df["volume"] == 0).all()


def test_other_catalogue_symbols_are_synthetic_and_overlap_the_real_days() -> None:
    gold = P.bars("XAUUSD", "D1")
    spx = P.bars("SPX", "D1")
    assert gold.attrs["synthetic"] is True and gold.attrs["symbol"] == "XAUUSD"
    assert gold.index[0] == spx.index[0] and gold.index[-1] == SAMPLE_END
    assert len(gold.index.intersection(spx.index)) == len(spx)  # every real day is there
    assert gold.index.dayofweek.max() <= 4  # gold's daily bars are weekday bars
    aligned = pd.concat([gold["close"], spx["close"]], axis=1, join="inner").pct_change()
    assert np.isfinite(aligned.corr().iloc[0, 1])


def test_aliases_reach_the_same_series() -> None:
    pd.testing.assert_frame_equal(P.bars("gold", "D1"), P.bars("XAUUSD", "D1"))


def test_every_catalogue_symbol_has_valid_daily_bars() -> None:
    for symbol in CATALOGUE:
        df = P.bars(symbol, "D1", start="2018-12-01")
        assert len(df) > 10, symbol
        assert (df["high"] >= df[["open", "close"]].max(axis=1)).all(), symbol
        assert (df["low"] <= df[["open", "close"]].min(axis=1)).all(), symbol


def test_intraday_bars_are_synthetic_5000_ending_at_the_sample_clock() -> None:
    eur = P.bars("EURUSD", "H1")
    assert len(eur) == 5000 and eur.attrs["synthetic"] is True
    assert eur.index[-1] <= SAMPLE_CLOCK
    assert eur.index[-1] > SAMPLE_CLOCK - pd.Timedelta(hours=2)
    spx = P.bars("SPX", "M15")
    assert spx.attrs["synthetic"] is True and "synthetic" in spx.attrs["note"]


def test_weekly_and_monthly_come_from_the_daily_series() -> None:
    daily = P.bars("NDX", "D1")
    weekly = P.bars("NDX", "W1")
    monthly = P.bars("NDX", "MN1")
    assert weekly["volume"].sum() == daily["volume"].sum() == monthly["volume"].sum()
    assert monthly["close"].iloc[-1] == daily["close"].iloc[-1]
    assert weekly.attrs["synthetic"] is False


def test_same_request_gives_the_same_numbers_across_providers() -> None:
    pd.testing.assert_frame_equal(SampleProvider().bars("BTCUSD", "H4"), P.bars("BTCUSD", "H4"))


def test_callers_cannot_mutate_the_cache() -> None:
    df = P.bars("SPX", "D1")
    df.iloc[-1, 3] = -1.0
    df.attrs["synthetic"] = True
    again = P.bars("SPX", "D1")
    assert again.iloc[-1, 3] > 0 and again.attrs["synthetic"] is False


def test_start_end_filter() -> None:
    df = P.bars("SPX", "D1", start="2018-12-24", end="2018-12-28")
    assert list(df.index.day) == [24, 26, 27, 28]  # Christmas is a holiday
    with pytest.raises(DataError, match="no sample SPX D1 bars"):
        P.bars("SPX", "D1", start="2020-01-01")


def test_unknown_symbol_and_timeframe_are_clear_errors() -> None:
    with pytest.raises(UnknownSymbolError, match=r"known symbols: .*XAUUSD"):
        P.bars("NOPE", "D1")
    with pytest.raises(DataError, match="unknown timeframe"):
        P.bars("SPX", "H2")
    with pytest.raises(UnknownSymbolError):
        P.quote("NOPE")
    with pytest.raises(UnknownSymbolError):
        P.order_book("NOPE")


def test_quote_uses_the_last_close_and_the_typical_spread() -> None:
    q = P.quote("SPX")
    assert q.last == P.bars("SPX", "D1")["close"].iat[-1]
    assert q.bid < q.last < q.ask and q.synthetic is False
    assert (q.ask - q.bid) / q.last == pytest.approx(get_instrument("SPX").typical_spread, rel=0.1)
    assert q.timestamp == SAMPLE_CLOCK
    assert P.quote("EURUSD").synthetic is True


def test_order_book_is_seeded_synthetic_and_well_formed() -> None:
    book = P.order_book("EURUSD")
    q = P.quote("EURUSD")
    assert book.synthetic is True and len(book.bids) == 10 and len(book.asks) == 10
    bids = [lv.price for lv in book.bids]
    asks = [lv.price for lv in book.asks]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] == pytest.approx(q.bid) and asks[0] == pytest.approx(q.ask)
    assert bids[0] < asks[0] and all(lv.size > 0 for lv in book.bids + book.asks)
    assert P.order_book("EURUSD") == book


def test_trades_are_seeded_inside_the_last_hour_and_filterable() -> None:
    tape = P.trades("XAUUSD")
    assert len(tape) == 200 and tape == P.trades("XAUUSD")
    times = [t.timestamp for t in tape]
    assert times == sorted(times)
    assert times[0] >= SAMPLE_CLOCK - pd.Timedelta(hours=1) and times[-1] <= SAMPLE_CLOCK
    q = P.quote("XAUUSD")
    buys = [t.price for t in tape if t.side is Side.BUY]
    sells = [t.price for t in tape if t.side is Side.SELL]
    assert np.mean(buys) > np.mean(sells)
    assert abs(tape[-1].price - q.mid) < 10 * (q.ask - q.bid)
    half = P.trades("XAUUSD", start=SAMPLE_CLOCK - pd.Timedelta(minutes=30))
    assert 0 < len(half) < 200
    with pytest.raises(DataError, match="after end"):
        P.trades("XAUUSD", start="2019-01-01", end="2018-01-01")


def test_timeframe_enum_and_strings_are_the_same_request() -> None:
    pd.testing.assert_frame_equal(P.bars("VIX", Timeframe.D1), P.bars("vix", "1d"))
