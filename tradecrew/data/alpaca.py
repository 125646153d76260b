"""``AlpacaProvider``: real bars and quotes for US equities, ETFs and crypto from Alpaca.

alpaca-py's historical clients fetch bars of every desk timeframe (W1 and MN1 are built
from daily bars the desk's way), and snapshots for the latest quote and trade. Bars are
kept in a ``BarCache`` under ``TRADECREW_HOME``: within a timeframe's TTL no request is
made; after it only the bars since the last-but-one cached bar are fetched (that bar is
compared, and a changed history, a split say, refetches the series). Many symbols are
refreshed with one request per asset class, as Alpaca's bars endpoint takes a list.
A failure is an error naming alpaca and the cause; there is no fallback to other data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from pydantic import SecretStr

from tradecrew.config import Settings, get_settings
from tradecrew.data.alpaca_access import alpaca_keys, checked_url, use_retrying_session
from tradecrew.data.alpaca_mapping import (
    Resolved,
    alpaca_timeframe,
    bars_frame,
    merge_bars,
    quote_from_snapshot,
    resolve_symbol,
)
from tradecrew.data.alpaca_transport import PROVIDER, call
from tradecrew.data.base import (
    DataNotAvailable,
    SourceUnavailable,
    TimeLike,
    UnknownSymbolError,
    filter_range,
    parse_timeframe,
    to_utc,
)
from tradecrew.data.cache import BarCache, CachedBars
from tradecrew.data.resample import resample_bars
from tradecrew.data.sealed import cache_secret
from tradecrew.instruments import provided_instrument
from tradecrew.models import AssetClass, OrderBookSnapshot, Quote, Timeframe, TradePrint

# How far back a first fetch reaches: enough for the desk's 5,000-bar analyses on stocks.
_LOOKBACK = {
    Timeframe.M1: pd.Timedelta(days=10),
    Timeframe.M5: pd.Timedelta(days=45),
    Timeframe.M15: pd.Timedelta(days=120),
    Timeframe.M30: pd.Timedelta(days=240),
    Timeframe.H1: pd.Timedelta(days=730),
    Timeframe.H4: pd.Timedelta(days=2200),
    Timeframe.D1: pd.Timedelta(days=7300),
}
_DERIVED = (Timeframe.W1, Timeframe.MN1)  # resampled from D1
log = logging.getLogger(__name__)


class AlpacaProvider:
    """Bars, quotes (latest quote and trade from a snapshot) from Alpaca's market data API."""

    name = PROVIDER

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        api_key: str | SecretStr | None = None,
        secret_key: str | SecretStr | None = None,
        url: str | None = None,
        cache: BarCache | None = None,
        clock: Callable[[], pd.Timestamp] | None = None,
        backoff: float = 0.5,
    ) -> None:
        cfg = settings or get_settings()
        self._cfg = cfg.data
        self.url = checked_url(url or cfg.data.alpaca_data_url)
        self._key, self._secret_key = alpaca_keys(cfg, api_key, secret_key)
        self._cache = cache or BarCache(cfg.home / "cache" / "bars", secret=cache_secret(cfg.home))
        self._clock = clock or (lambda: pd.Timestamp.now(tz="UTC"))
        self._backoff = backoff
        self._mem: dict[tuple[str, Timeframe], CachedBars] = {}
        self._clients: dict[AssetClass, Any] = {}

    def __repr__(self) -> str:  # keys stay out of every repr and log line
        return f"AlpacaProvider(url={self.url!r})"

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
        desk, _, _ = resolve_symbol(symbol)
        got = self._get([symbol], tf, start, force=False)
        if desk not in got:
            raise UnknownSymbolError(
                symbol, [], PROVIDER, detail=f"alpaca returned no {tf.value} bars for it"
            )
        return filter_range(got[desk], start, end, f"alpaca {desk} {tf.value}")

    def refresh(
        self,
        symbols: Iterable[str],
        timeframe: Timeframe | str = Timeframe.D1,
        *,
        start: TimeLike | None = None,
        force: bool = False,
    ) -> dict[str, pd.DataFrame]:
        """Bring the cached bars of many symbols up to date with one request per asset
        class; returns desk symbol -> bars. Symbols Alpaca returned nothing for are absent."""
        got = self._get(symbols, parse_timeframe(timeframe), start, force=force)
        return {sym: df.copy() for sym, df in got.items()}

    def quote(self, symbol: str) -> Quote:
        """Latest bid/ask and last trade from Alpaca's snapshot endpoint (one request)."""
        desk, alp, cls = resolve_symbol(symbol)
        raw = self._snapshots(cls, [alp])
        snap = raw.get(alp) if isinstance(raw, dict) else None
        if not snap:
            raise UnknownSymbolError(symbol, [], PROVIDER, detail="alpaca has no snapshot for it")
        quote = quote_from_snapshot(desk, snap)
        provided_instrument(alp, cls, PROVIDER)
        return quote

    def quotes(self, symbols: Iterable[str]) -> dict[str, Quote]:
        """Latest quotes of many symbols with one snapshot request per asset class (the
        snapshots endpoint takes a list); desk symbol -> quote, absent when Alpaca had none."""
        by_class: dict[AssetClass, dict[str, str]] = {}
        for desk, alp, cls in (resolve_symbol(s) for s in symbols):
            by_class.setdefault(cls, {})[alp] = desk
        out: dict[str, Quote] = {}
        for cls, names in by_class.items():
            raw = self._snapshots(cls, sorted(names))
            if not isinstance(raw, dict):
                raise SourceUnavailable(PROVIDER, "malformed reply: snapshots are not keyed")
            for alp, desk in names.items():
                if raw.get(alp):
                    out[desk] = quote_from_snapshot(desk, raw[alp])
                    provided_instrument(alp, cls, PROVIDER)
        return out

    def _snapshots(self, cls: AssetClass, names: list[str]) -> Any:
        from alpaca.data.requests import CryptoSnapshotRequest, StockSnapshotRequest

        client = self._client(cls)
        if cls is AssetClass.CRYPTO:
            creq = CryptoSnapshotRequest(symbol_or_symbols=names)
            return self._call(lambda: client.get_crypto_snapshot(creq), names)
        sreq = StockSnapshotRequest(symbol_or_symbols=names)
        return self._call(lambda: client.get_stock_snapshot(sreq), names)

    def order_book(self, symbol: str) -> OrderBookSnapshot:
        raise DataNotAvailable("order book not available from the alpaca source")

    def trades(
        self, symbol: str, start: TimeLike | None = None, end: TimeLike | None = None
    ) -> list[TradePrint]:
        raise DataNotAvailable("trades (time and sales) not available from the alpaca source")

    # ------------------------------------------------------------------ cache and fetch

    def _get(
        self, symbols: Iterable[str], tf: Timeframe, start: TimeLike | None, *, force: bool
    ) -> dict[str, pd.DataFrame]:
        """The cached frames themselves (callers copy): fresh ones as they are, others fetched."""
        native = Timeframe.D1 if tf in _DERIVED else tf
        resolved = {r[0]: r for r in (resolve_symbol(s) for s in symbols)}
        series = self._series(resolved, native, start, force)
        if native is tf:
            return series
        return {sym: resample_bars(df, tf) for sym, df in series.items()}

    def _entry(self, desk: str, tf: Timeframe) -> CachedBars | None:
        hit = self._mem.get((desk, tf))
        if hit is None:
            hit = self._cache.load(PROVIDER, desk, tf)
            if hit is not None:
                self._mem[(desk, tf)] = hit
        return hit

    def _ttl(self, tf: Timeframe) -> pd.Timedelta:
        return pd.Timedelta(seconds=self._cfg.cache_ttl_seconds.get(tf.value, 0.0))

    def _series(
        self, resolved: dict[str, Resolved], tf: Timeframe, start: TimeLike | None, force: bool
    ) -> dict[str, pd.DataFrame]:
        now = self._clock()
        since = now - _LOOKBACK[tf]
        if start is not None:
            since = min(since, to_utc(start, "start"))
        out: dict[str, pd.DataFrame] = {}
        warm: dict[AssetClass, list[tuple[Resolved, CachedBars]]] = {}
        cold: dict[AssetClass, list[Resolved]] = {}
        for desk, r in resolved.items():
            entry = self._entry(desk, tf)
            covers = entry is not None and entry.since <= since
            if (
                entry is not None
                and covers
                and not force
                and now - entry.fetched_at < self._ttl(tf)
            ):
                out[desk] = entry.bars
            elif entry is not None and covers and len(entry.bars) >= 2:
                warm.setdefault(r[2], []).append((r, entry))
            else:
                cold.setdefault(r[2], []).append(r)
        for cls, items in warm.items():
            first = min(entry.bars.index[-2] for _, entry in items)
            fetched = self._fetch(cls, [r[1] for r, _ in items], tf, first)
            for r, entry in items:
                merged = merge_bars(entry.bars, fetched.get(r[1]), r[0], tf)
                if merged is None:  # history changed under the cache: fetch it whole
                    cold.setdefault(cls, []).append(r)
                    continue
                out[r[0]] = self._keep(r, tf, merged, now, entry.since)
        for cls, wanted in cold.items():
            fetched = self._fetch(cls, [r[1] for r in wanted], tf, since)
            for r in wanted:
                raw = fetched.get(r[1])
                if raw:
                    out[r[0]] = self._keep(r, tf, bars_frame(raw, r[0], tf), now, since)
        return out

    def _keep(
        self, r: Resolved, tf: Timeframe, bars: pd.DataFrame, now: pd.Timestamp, since: pd.Timestamp
    ) -> pd.DataFrame:
        bars.attrs = {"symbol": r[0], "synthetic": False, "source": PROVIDER}
        entry = CachedBars(bars, now, since)
        try:
            self._cache.store(PROVIDER, r[0], tf, entry)
        except OSError as exc:  # the cache only saves requests; the data is good without it
            log.warning("cannot write the alpaca cache for %s: %s", r[0], exc.strerror)
        self._mem[(r[0], tf)] = entry
        provided_instrument(r[1], r[2], PROVIDER)
        return bars

    def _fetch(
        self, cls: AssetClass, symbols: list[str], tf: Timeframe, start: pd.Timestamp
    ) -> dict[str, Any]:
        from alpaca.data.enums import Adjustment
        from alpaca.data.requests import CryptoBarsRequest, StockBarsRequest

        client = self._client(cls)
        span = alpaca_timeframe(tf)
        begin = start.to_pydatetime()
        if cls is AssetClass.CRYPTO:
            creq = CryptoBarsRequest(symbol_or_symbols=symbols, timeframe=span, start=begin)
            raw = self._call(lambda: client.get_crypto_bars(creq), symbols)
        else:
            # Split-adjusted so indicators see no false gap; a later split changes history,
            # which the overlap check in _merge notices.
            sreq = StockBarsRequest(
                symbol_or_symbols=symbols, timeframe=span, start=begin, adjustment=Adjustment.SPLIT
            )
            raw = self._call(lambda: client.get_stock_bars(sreq), symbols)
        if not isinstance(raw, dict):
            raise SourceUnavailable(PROVIDER, "malformed reply: bars are not keyed by symbol")
        return raw

    def _client(self, cls: AssetClass) -> Any:
        client = self._clients.get(cls)
        if client is not None:
            return client
        try:
            from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
        except ImportError:
            raise SourceUnavailable(
                PROVIDER, "alpaca-py is not installed; install the extra: tradecrew[alpaca]"
            ) from None
        if cls is AssetClass.CRYPTO:
            # Crypto data needs no key; a key only raises the rate limit.
            keys: tuple[str | None, str | None] = (
                (self._key, self._secret_key) if self._key and self._secret_key else (None, None)
            )
            client = CryptoHistoricalDataClient(*keys, url_override=self.url, raw_data=True)
        else:
            if not (self._key and self._secret_key):
                raise SourceUnavailable(
                    PROVIDER,
                    "no API keys: set APCA_API_KEY_ID and APCA_API_SECRET_KEY (or "
                    "TRADECREW_BROKER__ALPACA_API_KEY and TRADECREW_BROKER__ALPACA_SECRET_KEY)",
                )
            client = StockHistoricalDataClient(
                self._key, self._secret_key, url_override=self.url, raw_data=True
            )
        use_retrying_session(client, self._cfg, self._backoff)
        self._clients[cls] = client
        return client

    def _call(self, fn: Callable[[], Any], symbols: list[str]) -> Any:
        secrets = tuple(s for s in (self._key, self._secret_key) if s)
        return call(fn, url=self.url, symbols=symbols, secrets=secrets)
