"""``SampleProvider``: the default, fully offline data source with a fixed clock.

Real daily data ships inside the ``arch`` package: S&P 500 (SPX) and NASDAQ (NDX) OHLCV,
WTI crude and the VIX as close-only series. Every other catalogue symbol, and every
intraday request, gets seeded synthetic bars labelled ``attrs["synthetic"] = True``.
The sample world ends at ``SAMPLE_END`` (2018-12-31, the real data's last day) so real and
synthetic series overlap and every answer is reproducible.
"""

from __future__ import annotations

import functools
import importlib.util
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from tradecrew.data.base import (
    COLUMNS,
    INDEX_NAME,
    TIME_UNIT,
    DataError,
    TimeLike,
    UnknownSymbolError,
    filter_range,
    parse_timeframe,
    quote_from_bars,
    to_utc,
)
from tradecrew.data.resample import resample_bars
from tradecrew.data.validate import validate_bars
from tradecrew.instruments import CATALOGUE, get_instrument, normalize_symbol
from tradecrew.models import BookLevel, OrderBookSnapshot, Quote, Side, Timeframe, TradePrint

SAMPLE_END = pd.Timestamp("2018-12-31", tz="UTC")
SAMPLE_CLOCK = SAMPLE_END + pd.Timedelta(hours=21)  # US cash close that day: the sample "now"
REAL_START = pd.Timestamp("1999-01-04", tz="UTC")  # first day of the SPX/NDX series
INTRADAY_BARS = 5000
SOURCE_REAL = "sample:arch"
SOURCE = "sample"

# symbol -> (arch data module, file, has OHLCV)
_REAL = {
    "SPX": ("sp500", "sp500.csv.gz", True),
    "NDX": ("nasdaq", "nasdaq.csv.gz", True),
    "WTI": ("wti", "wti.csv.gz", False),
    "VIX": ("vix", "vix.csv.gz", False),
}
_CLOSE_ONLY_NOTE = (
    "close-only series: open is the previous close, high/low are the larger/smaller of "
    "open and close, volume is 0"
)
_BOOK_LEVELS = 10
_TAPE_PRINTS = 200


def real_symbols() -> list[str]:
    """The symbols with real daily data in the sample."""
    return sorted(_REAL)


def _read_arch_file(module: str, filename: str) -> pd.DataFrame:
    """The same table ``arch.data.<module>.load()`` returns, without importing ``arch``.

    Importing arch pulls in its whole modelling stack (seconds); the data files alone
    load in milliseconds.
    """
    spec = importlib.util.find_spec("arch")
    if spec is None or spec.origin is None:
        raise DataError("the sample data needs the 'arch' package, which is not installed")
    path = Path(spec.origin).parent / "data" / module / filename
    if path.is_file():
        raw = pd.read_csv(path)
        dates = raw.pop("Date")
        try:
            raw.index = pd.to_datetime(dates, format="%m/%d/%Y")
        except ValueError:  # a newer arch may write ISO dates
            raw.index = pd.to_datetime(dates)
        return raw.apply(pd.to_numeric, errors="coerce")
    loaded = importlib.import_module(f"arch.data.{module}").load()  # layout changed upstream
    return loaded


def _real_daily(symbol: str) -> pd.DataFrame:
    module, filename, ohlcv = _REAL[symbol]
    raw = _read_arch_file(module, filename)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    index = pd.DatetimeIndex(raw.index).tz_localize("UTC")
    if ohlcv:
        df = raw[list(COLUMNS)].astype("float64")
        df.index = index
        note = ""
    else:
        close = pd.Series(raw.iloc[:, 0].to_numpy(dtype="float64"), index=index).dropna()
        open_ = close.shift(1).fillna(close)
        df = pd.DataFrame(
            {
                "open": open_,
                "high": np.maximum(open_, close),
                "low": np.minimum(open_, close),
                "close": close,
                "volume": 0.0,
            }
        )
        note = _CLOSE_ONLY_NOTE
    df = df.loc[df.index <= SAMPLE_END]
    df.index = pd.DatetimeIndex(df.index, name=INDEX_NAME).as_unit(TIME_UNIT)
    out = validate_bars(df, f"{SOURCE_REAL}:{module}")
    out.attrs = {"symbol": symbol, "synthetic": False, "source": SOURCE_REAL}
    if note:
        out.attrs["note"] = note
    return out


def _synthetic(symbol: str, tf: Timeframe) -> pd.DataFrame:
    from tradecrew.data import synthetic

    seed = zlib.crc32(f"{symbol}|{tf.value}".encode())
    if tf is Timeframe.D1:
        # Enough bars for any calendar to reach back to the first real day, then trimmed,
        # so synthetic daily series overlap the real ones day for day.
        n = int((SAMPLE_END - REAL_START).days) + 1
        df = synthetic.generate_bars(symbol, tf, n, SAMPLE_END, seed)
        df = df.loc[df.index >= REAL_START]
    else:
        df = synthetic.generate_bars(symbol, tf, INTRADAY_BARS, SAMPLE_CLOCK, seed)
    df.index = pd.DatetimeIndex(df.index, name=INDEX_NAME).as_unit(TIME_UNIT)
    attrs = dict(df.attrs)
    out = df[list(COLUMNS)].astype("float64")
    out.attrs = attrs | {"symbol": symbol, "synthetic": True}
    if symbol in _REAL:
        out.attrs["note"] = (
            f"the sample holds real daily data only; these {tf.value} bars are synthetic"
        )
    return out


@functools.lru_cache(maxsize=256)
def _quote(sym: str) -> Quote:
    """The sample world's clock stands still, so each symbol has one quote (a desk asks for
    it several times per trade)."""
    daily = _frame(sym, Timeframe.D1)
    quote = quote_from_bars(daily, sym, daily.attrs.get("source", SOURCE))
    return quote.model_copy(update={"timestamp": SAMPLE_CLOCK.to_pydatetime()})


@functools.lru_cache(maxsize=256)
def _frame(symbol: str, tf: Timeframe) -> pd.DataFrame:
    """The full cached frame for one (symbol, timeframe); callers get copies only."""
    if tf in (Timeframe.W1, Timeframe.MN1):
        return resample_bars(_frame(symbol, Timeframe.D1), tf)
    if symbol in _REAL and tf is Timeframe.D1:
        return _real_daily(symbol)
    return _synthetic(symbol, tf)


class SampleProvider:
    """Offline bars, quotes, a synthetic order book and tape for every catalogue symbol."""

    name = "sample"

    @property
    def symbols(self) -> list[str]:
        """Every symbol the sample can serve."""
        return sorted(CATALOGUE)

    def _symbol(self, symbol: str) -> str:
        sym = normalize_symbol(str(symbol))
        if sym not in CATALOGUE:
            raise UnknownSymbolError(symbol, self.symbols, SOURCE)
        return sym

    def bars(
        self,
        symbol: str,
        timeframe: Timeframe | str = Timeframe.D1,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> pd.DataFrame:
        """Canonical bars (a copy); real for SPX/NDX/WTI/VIX daily, synthetic otherwise."""
        sym = self._symbol(symbol)
        tf = parse_timeframe(timeframe)
        return filter_range(_frame(sym, tf), start, end, f"sample {sym} {tf.value}")

    def quote(self, symbol: str) -> Quote:
        """The last daily close with the instrument's typical spread, at the sample clock."""
        return _quote(self._symbol(symbol)).model_copy()

    def order_book(self, symbol: str) -> OrderBookSnapshot:
        """A seeded synthetic level-2 book: 10 levels each side around the quote."""
        quote = self.quote(symbol)
        inst = get_instrument(quote.symbol)
        rng = np.random.default_rng(zlib.crc32(f"{quote.symbol}|book".encode()))
        tick = inst.tick_size if inst.tick_size > 0 else quote.mid * 1e-5
        step = max(quote.ask - quote.bid, tick)
        base = 250_000.0 / quote.mid  # about a quarter of a million dollars per level
        depth = np.arange(_BOOK_LEVELS)

        def levels(first: float, sign: int) -> list[BookLevel]:
            prices = _round_to(first + sign * depth * step, tick)
            sizes = base * rng.lognormal(0.0, 0.5, _BOOK_LEVELS) * (1.0 + 0.2 * depth)
            sizes = np.maximum(_round_to(sizes, inst.quantity_step), inst.quantity_step)
            return [
                BookLevel(price=float(p), size=float(s))
                for p, s in zip(prices, sizes, strict=True)
                if p > 0
            ]

        return OrderBookSnapshot(
            symbol=quote.symbol,
            timestamp=quote.timestamp,
            bids=levels(quote.bid, -1),
            asks=levels(quote.ask, +1),
            synthetic=True,
        )

    def trades(
        self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> list[TradePrint]:
        """A seeded synthetic tape of the hour before the sample clock, filtered to the range.

        Buyer-initiated prints trade at or above the ask side of a slowly wandering mid,
        seller-initiated ones at or below the bid, so aggressor inference has a signal.
        """
        quote = self.quote(symbol)
        inst = get_instrument(quote.symbol)
        lo = to_utc(start, "start") if start is not None else None
        hi = to_utc(end, "end") if end is not None else None
        if lo is not None and hi is not None and lo > hi:
            raise DataError(f"start {lo} is after end {hi}")
        rng = np.random.default_rng(zlib.crc32(f"{quote.symbol}|tape".encode()))
        tick = inst.tick_size if inst.tick_size > 0 else quote.mid * 1e-5
        half = max((quote.ask - quote.bid) / 2.0, tick / 2.0)
        offsets = np.sort(rng.uniform(0.0, 3600.0, _TAPE_PRINTS))
        times = (SAMPLE_CLOCK - pd.to_timedelta(3600.0 - offsets, unit="s")).floor("us")
        drift = np.cumsum(rng.normal(0.0, half * 0.3, _TAPE_PRINTS))
        drift -= drift[-1]  # the tape ends at the quote
        buys = rng.random(_TAPE_PRINTS) < 0.5
        prices = quote.mid + drift + np.where(buys, half, -half)
        prices = np.maximum(_round_to(prices, tick), tick)
        sizes = 250_000.0 / quote.mid * 0.05 * rng.lognormal(0.0, 0.8, _TAPE_PRINTS)
        sizes = np.maximum(_round_to(sizes, inst.quantity_step), inst.quantity_step)
        prints = []
        for t, p, s, b in zip(times, prices, sizes, buys, strict=True):
            if (lo is not None and t < lo) or (hi is not None and t > hi):
                continue
            side = Side.BUY if b else Side.SELL
            prints.append(
                TradePrint(timestamp=t.to_pydatetime(), price=float(p), size=float(s), side=side)
            )
        return prints


def _round_to(values: np.ndarray, step: float) -> np.ndarray:
    """Round to a multiple of ``step``, cleaning float noise off the decimals."""
    if step <= 0:
        return values
    decimals = max(0, int(np.ceil(-np.log10(step))) + 2)
    return np.round(np.round(values / step) * step, decimals)
