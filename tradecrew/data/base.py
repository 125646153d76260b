"""What every data provider promises, and the errors the data layer raises.

A provider hands out canonical bars frames (UTC ``DatetimeIndex`` named ``timestamp``,
float64 ``open, high, low, close, volume``), quotes, and, where it has them, an order book
and a tape. Bad input always surfaces as a ``DataError`` with a message a person can act on.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeAlias, runtime_checkable

import pandas as pd

from tradecrew.errors import Unavailable
from tradecrew.models import OrderBookSnapshot, Quote, Timeframe, TradePrint

COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume")
INDEX_NAME = "timestamp"
TIME_UNIT = "ns"

TimeLike: TypeAlias = str | datetime | pd.Timestamp


class DataError(ValueError):
    """Anything wrong with data or with a request for data."""


class BadDataError(DataError):
    """A file or frame holds bad data; the message names the source, the row and the problem.

    ``row`` is the 1-based line number in the file when the data came from a file (the
    header is line 1), otherwise the 1-based position in the frame; ``None`` when the
    problem is not tied to one row (an empty file, say).
    """

    def __init__(self, path: str | Path, row: int | None, problem: str) -> None:
        self.path = str(path)
        self.row = row
        self.problem = problem
        where = f"{self.path}, row {row}" if row is not None else self.path
        super().__init__(f"bad data in {where}: {problem}")


class UnknownSymbolError(DataError, LookupError):
    """The provider has no data for this symbol; the message lists the ones it has."""

    def __init__(
        self,
        symbol: str,
        known: list[str] | tuple[str, ...],
        source: str,
        *,
        detail: str | None = None,
    ) -> None:
        self.symbol = symbol
        self.known = sorted(known)
        # A live provider lists thousands of symbols; it says why instead of listing them.
        tail = detail if detail is not None else f"known symbols: {', '.join(self.known)}"
        super().__init__(f"{source} has no data for symbol {symbol!r}; {tail}")


class SourceUnavailable(Unavailable):
    """A live data source could not answer: no network, a refused key, rate limits that did
    not clear, server errors, or a reply that is not what the service promises.

    The message names the provider and the cause on one line and never holds a key. It is
    an outage, not a ``DataError``, so nothing that skips bad input (a missing peer) hides
    it; the CLI exits with code 3 for it (2 is kept for bad input, an unknown symbol).
    """

    def __init__(self, provider: str, cause: str) -> None:
        self.provider = provider
        self.cause = cause
        super().__init__(f"{provider}: {cause}")


class DataNotAvailable(DataError):
    """The provider cannot serve this kind of data at all (an order book from a csv file)."""


@runtime_checkable
class Provider(Protocol):
    """A source of market data for the desk's tools."""

    name: str

    def bars(
        self,
        symbol: str,
        timeframe: Timeframe | str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> pd.DataFrame:
        """Canonical bars for ``symbol`` at ``timeframe``, ``start``..``end`` inclusive."""
        ...

    def quote(self, symbol: str) -> Quote:
        """The latest bid/ask/last the provider knows for ``symbol``."""
        ...

    def order_book(self, symbol: str) -> OrderBookSnapshot:
        """A level-2 snapshot; raises ``DataNotAvailable`` when the provider has none."""
        ...

    def trades(
        self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> list[TradePrint]:
        """Time and sales; raises ``DataNotAvailable`` when the provider has none."""
        ...


def parse_timeframe(value: Timeframe | str) -> Timeframe:
    """``Timeframe.parse`` that fails with a ``DataError`` (still a ValueError)."""
    try:
        return Timeframe.parse(value)
    except ValueError as exc:
        raise DataError(str(exc)) from None


def to_utc(value: TimeLike, what: str = "time") -> pd.Timestamp:
    """A UTC timestamp from a string, datetime or Timestamp; naive values are read as UTC."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise DataError(f"cannot read {what} {value!r} as a date/time: {exc}") from None
    if ts is pd.NaT:
        raise DataError(f"{what} must be a date/time, got {value!r}")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def filter_range(
    df: pd.DataFrame,
    start: TimeLike | None,
    end: TimeLike | None,
    label: str,
) -> pd.DataFrame:
    """Bars with ``start <= timestamp <= end``; a clear DataError when nothing is left.

    An empty answer is an error rather than an empty frame because every consumer needs
    at least one bar and the caller deserves to know what range the data does cover.
    """
    lo = to_utc(start, "start") if start is not None else None
    hi = to_utc(end, "end") if end is not None else None
    if lo is not None and hi is not None and lo > hi:
        raise DataError(f"start {lo} is after end {hi}")
    # The index is sorted and unique, so a binary search slices the range without a mask.
    first = 0 if lo is None else int(df.index.searchsorted(lo, side="left"))
    last = len(df) if hi is None else int(df.index.searchsorted(hi, side="right"))
    out = df.iloc[first:last]
    if out.empty:
        have = f"{df.index[0]} .. {df.index[-1]}" if len(df) else "nothing"
        raise DataError(
            f"no {label} bars between {lo or 'the start'} and {hi or 'the end'}; "
            f"the data covers {have}"
        )
    return out.copy()


def quote_from_bars(df: pd.DataFrame, symbol: str, source: str) -> Quote:
    """Bid/ask around the last close using the instrument's typical spread when known."""
    from tradecrew.instruments import find_instrument

    last = float(df["close"].iat[-1])
    inst = find_instrument(symbol)
    bid = ask = last
    if inst is not None and inst.typical_spread > 0:
        half = last * inst.typical_spread / 2.0
        bid, ask = last - half, last + half
        tick = inst.tick_size
        if tick > 0 and last / tick > 100:
            bid = round(round(bid / tick) * tick, 10)
            ask = round(round(ask / tick) * tick, 10)
            if ask <= bid:
                bid, ask = round(last - tick, 10), round(last + tick, 10)
    return Quote(
        symbol=symbol,
        bid=bid,
        ask=ask,
        last=last,
        timestamp=df.index[-1].to_pydatetime(),
        synthetic=bool(df.attrs.get("synthetic", False)),
        source=source,
    )
