"""What the library-backed live providers (yfinance, ccxt, mt5, openbb) share: the disk cache
with a TTL per timeframe and incremental updates, W1/MN1 (and H4 where a source lacks it)
built from finer bars, canonical validated frames, and retries with backoff.

A subclass says how to name a symbol for its source (``_resolve``) and how to fetch bars
since a moment (``_fetch``); everything about freshness lives here, once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from tradecrew.config import Settings
from tradecrew.data.base import (
    COLUMNS,
    BadDataError,
    DataNotAvailable,
    SourceUnavailable,
    TimeLike,
    UnknownSymbolError,
    filter_range,
    parse_timeframe,
    quote_from_bars,
    to_utc,
)
from tradecrew.data.cache import BarCache, CachedBars
from tradecrew.data.resample import resample_bars
from tradecrew.data.sealed import cache_secret
from tradecrew.data.validate import validate_bars
from tradecrew.models import OrderBookSnapshot, Quote, Timeframe, TradePrint

log = logging.getLogger(__name__)
T = TypeVar("T")

# How far back a first fetch reaches: enough for the desk's analyses, within what free
# sources keep (Yahoo serves 1m bars for about a week, other intraday bars for 60 days).
LOOKBACK = {
    Timeframe.M1: pd.Timedelta(days=7),
    Timeframe.M5: pd.Timedelta(days=45),
    Timeframe.M15: pd.Timedelta(days=55),
    Timeframe.M30: pd.Timedelta(days=55),
    Timeframe.H1: pd.Timedelta(days=700),
    Timeframe.H4: pd.Timedelta(days=700),
    Timeframe.D1: pd.Timedelta(days=7300),
}
DERIVED = (Timeframe.W1, Timeframe.MN1)


def canonical(frame: pd.DataFrame, label: str, provider: str, *, daily: bool) -> pd.DataFrame:
    """A source's OHLCV frame (any column case, tz-aware or UTC-naive index) as validated
    canonical bars; days are labelled at UTC midnight of their own (exchange) date. Bad
    data from a live source is an outage of that source, never bars."""
    try:
        cols = {str(c).lower(): c for c in frame.columns}
        data = frame[[cols[c] for c in COLUMNS]].to_numpy(dtype="float64")
        index = pd.DatetimeIndex(frame.index)
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceUnavailable(provider, f"malformed bars for {label}: {exc}") from None
    if daily:
        # An exchange's day stamped at its own midnight (New York: 05:00 UTC) is that date.
        index = index.tz_localize(None) if index.tz is not None else index
        index = index.normalize().tz_localize("UTC")
    else:
        index = index.tz_convert("UTC") if index.tz is not None else index.tz_localize("UTC")
    keep = ~np.isnan(data).any(axis=1)  # a holiday row of NaNs is no bar
    out = pd.DataFrame(data[keep], columns=list(COLUMNS), index=index[keep])
    out = out[~out.index.duplicated(keep="last")].sort_index()
    try:
        return validate_bars(out, f"{provider} {label}")
    except BadDataError as exc:
        raise SourceUnavailable(provider, f"served bad data: {exc}") from None


def merge(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame | None:
    """Cached bars with newly fetched ones from their first timestamp on; None when a closed
    bar both hold differs (the source rewrote history) so the caller refetches it all."""
    if new.empty:
        return old
    first = new.index[0]
    at = int(old.index.searchsorted(first))
    # Only a closed bar is compared: the newest cached one may have been still forming.
    closed = at < len(old) - 1 and old.index[at] == first
    if closed and not np.allclose(old.iloc[at].to_numpy(), new.iloc[0].to_numpy(), rtol=1e-9):
        return None
    return pd.concat([old.iloc[:at], new])


def with_retries(
    fn: Callable[[], T],
    *,
    retryable: Callable[[BaseException], float | None],
    attempts: int,
    backoff: float,
    max_wait: float,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``fn()`` again after a retryable failure: ``retryable(exc)`` gives the wait the source
    asked for (0.0 for none, None when the failure is final). Exponential backoff otherwise;
    a wait longer than ``max_wait`` is not waited for. The last failure propagates."""
    for attempt in range(1, max(attempts, 1) + 1):
        try:
            return fn()
        except Exception as exc:
            asked = retryable(exc)
            if asked is None or attempt >= attempts:
                raise
            wait = asked or min(backoff * 2 ** (attempt - 1), max_wait)
            if wait > max_wait:
                raise
            log.info("retrying after %s in %.2f s", type(exc).__name__, wait)
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


class CachedLiveProvider:
    """Bars from a live source, kept in a ``BarCache`` under ``TRADECREW_HOME``: within a
    timeframe's TTL no request is made; after it only bars since the last-but-one cached bar
    are fetched (a changed history refetches the series)."""

    name = "live"
    # Timeframes the source serves itself; the others come from the finest one below them.
    native: frozenset[Timeframe] = frozenset(t for t in Timeframe if t not in DERIVED)
    # How far back a first fetch reaches, per source timeframe.
    lookback: dict[Timeframe, pd.Timedelta] = LOOKBACK

    def __init__(
        self,
        settings: Settings,
        *,
        cache: BarCache | None = None,
        clock: Callable[[], pd.Timestamp] | None = None,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        cache_key: str | None = None,
    ) -> None:
        self._cfg = settings.data
        self._cache = cache or BarCache(
            settings.home / "cache" / "bars", secret=cache_secret(settings.home)
        )
        self._clock = clock or (lambda: pd.Timestamp.now(tz="UTC"))
        self._backoff = backoff
        self._sleep = sleep
        self._key = cache_key or self.name
        self._mem: dict[tuple[str, Timeframe], CachedBars] = {}
        self._why: dict[str, str] = {}  # source symbol -> why the source served nothing

    # ------------------------------------------------------------------ subclass hooks

    def _resolve(self, symbol: str) -> tuple[str, str]:
        """Desk symbol and the source's own name for it; UnknownSymbolError without a request
        for what the source cannot serve."""
        raise NotImplementedError

    def _fetch(
        self, natives: list[str], tf: Timeframe, since: pd.Timestamp
    ) -> dict[str, pd.DataFrame]:
        """Canonical bars since ``since`` per source symbol; absent when the source has none."""
        raise NotImplementedError

    def _registered(self, desk: str, native: str) -> None:
        """Called with each symbol the source served bars for (instrument metadata)."""

    # ------------------------------------------------------------------ public

    def bars(
        self,
        symbol: str,
        timeframe: Timeframe | str = Timeframe.D1,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> pd.DataFrame:
        """Canonical bars (a copy), from the cache when it is fresh and reaches ``start``."""
        tf = parse_timeframe(timeframe)
        desk, native = self._resolve(symbol)
        got = self._get([symbol], tf, start, force=False)
        if desk not in got:
            why = self._why.get(native, f"{self.name} returned no bars for {native}")
            raise UnknownSymbolError(symbol, [], self.name, detail=why)
        return filter_range(got[desk], start, end, f"{self.name} {desk} {tf.value}")

    def refresh(
        self,
        symbols: Iterable[str],
        timeframe: Timeframe | str = Timeframe.D1,
        *,
        start: TimeLike | None = None,
        force: bool = False,
    ) -> dict[str, pd.DataFrame]:
        """Bring many symbols' cached bars up to date; desk symbol -> bars (absent: none)."""
        got = self._get(symbols, parse_timeframe(timeframe), start, force=force)
        return {sym: df.copy() for sym, df in got.items()}

    def quote(self, symbol: str) -> Quote:
        """The last M1 close as a quote, stamped with its bar so its age shows (the daily
        close where the source keeps no minute bars for the symbol)."""
        desk, _ = self._resolve(symbol)
        try:
            bars = self.bars(symbol, Timeframe.M1)
        except UnknownSymbolError:
            bars = self.bars(symbol, Timeframe.D1)
        return quote_from_bars(bars, desk, self.name)

    def order_book(self, symbol: str) -> OrderBookSnapshot:
        raise DataNotAvailable(f"order book not available from the {self.name} source")

    def trades(
        self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> list[TradePrint]:
        raise DataNotAvailable(f"trades (time and sales) not available from the {self.name} source")

    # ------------------------------------------------------------------ cache and fetch

    def _source_tf(self, tf: Timeframe) -> Timeframe:
        if tf in self.native:
            return tf
        finer = [t for t in self.native if t.minutes < tf.minutes and tf.minutes % t.minutes == 0]
        return max(finer, key=lambda t: t.minutes)

    def _get(
        self, symbols: Iterable[str], tf: Timeframe, start: TimeLike | None, *, force: bool
    ) -> dict[str, pd.DataFrame]:
        src = self._source_tf(tf)
        resolved = dict(self._resolve(s) for s in symbols)
        series = self._series(resolved, src, start, force)
        if src is tf:
            return series
        return {sym: resample_bars(df, tf) for sym, df in series.items()}

    def _entry(self, desk: str, tf: Timeframe) -> CachedBars | None:
        hit = self._mem.get((desk, tf))
        if hit is None:
            hit = self._cache.load(self._key, desk, tf)
            if hit is not None:
                self._mem[(desk, tf)] = hit
        return hit

    def _series(
        self, resolved: dict[str, str], tf: Timeframe, start: TimeLike | None, force: bool
    ) -> dict[str, pd.DataFrame]:
        now = self._clock()
        since = now - self.lookback.get(tf, self.lookback[Timeframe.D1])
        if start is not None:
            since = min(since, to_utc(start, "start"))
        ttl = pd.Timedelta(seconds=self._cfg.cache_ttl_seconds.get(tf.value, 0.0))
        out: dict[str, pd.DataFrame] = {}
        warm: list[tuple[str, str, CachedBars]] = []
        cold: list[tuple[str, str]] = []
        for desk, native in resolved.items():
            entry = self._entry(desk, tf)
            covers = entry is not None and entry.since <= since
            if entry is not None and covers and not force and now - entry.fetched_at < ttl:
                out[desk] = entry.bars
            elif entry is not None and covers and len(entry.bars) >= 2:
                warm.append((desk, native, entry))
            else:
                cold.append((desk, native))
        if warm:
            first = min(entry.bars.index[-2] for _, _, entry in warm)
            fetched = self._fetch([n for _, n, _ in warm], tf, first)
            for desk, native, entry in warm:
                new = fetched.get(native)
                merged = entry.bars if new is None else merge(entry.bars, new)
                if merged is None:  # history changed under the cache: fetch it whole
                    cold.append((desk, native))
                    continue
                out[desk] = self._keep(desk, native, tf, merged, now, entry.since)
        if cold:
            fetched = self._fetch([n for _, n in cold], tf, since)
            for desk, native in cold:
                bars = fetched.get(native)
                if bars is not None and not bars.empty:
                    out[desk] = self._keep(desk, native, tf, bars, now, since)
        return out

    def _keep(
        self,
        desk: str,
        native: str,
        tf: Timeframe,
        bars: pd.DataFrame,
        now: pd.Timestamp,
        since: pd.Timestamp,
    ) -> pd.DataFrame:
        bars.attrs = {"symbol": desk, "synthetic": False, "source": self.name}
        entry = CachedBars(bars, now, since)
        try:
            self._cache.store(self._key, desk, tf, entry)
        except OSError as exc:  # the cache only saves requests; the data is good without it
            log.warning("cannot write the %s cache for %s: %s", self.name, desk, exc.strerror)
        self._mem[(desk, tf)] = entry
        self._registered(desk, native)
        return bars

    def _retry(self, fn: Callable[[], T], retryable: Callable[[BaseException], Any]) -> T:
        return with_retries(
            fn,
            retryable=retryable,
            attempts=self._cfg.max_attempts,
            backoff=self._backoff,
            max_wait=self._cfg.max_retry_wait_seconds,
            sleep=self._sleep,
        )
