"""``AlpacaProvider``: real bars and quotes for US equities, ETFs and crypto from Alpaca.

alpaca-py's historical clients fetch bars of every desk timeframe (W1 and MN1 are built
from daily bars the desk's way), and snapshots for the latest quote and trade. The cache,
its TTLs and incremental updates are ``CachedLiveProvider``'s (a changed history, a split
say, refetches the series). Many symbols are refreshed with one request per asset class,
as Alpaca's bars endpoint takes a list. A failure is an error naming alpaca and the cause;
there is no fallback to other data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from pydantic import SecretStr

from tradecrew.config import Settings, get_settings
from tradecrew.data.alpaca_access import alpaca_keys, checked_url, use_retrying_session
from tradecrew.data.alpaca_mapping import (
    alpaca_timeframe,
    bars_frame,
    quote_from_snapshot,
    resolve_symbol,
)
from tradecrew.data.alpaca_transport import PROVIDER, call
from tradecrew.data.base import SourceUnavailable, UnknownSymbolError
from tradecrew.data.cache import BarCache
from tradecrew.data.live import CachedLiveProvider
from tradecrew.instruments import provided_instrument
from tradecrew.models import AssetClass, Quote, Timeframe

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


class AlpacaProvider(CachedLiveProvider):
    """Bars, quotes (latest quote and trade from a snapshot) from Alpaca's market data API."""

    name = PROVIDER
    lookback = _LOOKBACK

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
        super().__init__(cfg, cache=cache, clock=clock, backoff=backoff)
        self.url = checked_url(url or cfg.data.alpaca_data_url)
        self._api_key, self._secret_key = alpaca_keys(cfg, api_key, secret_key)
        self._routes: dict[str, tuple[str, AssetClass]] = {}  # Alpaca symbol -> desk, class
        self._clients: dict[AssetClass, Any] = {}

    def __repr__(self) -> str:  # keys stay out of every repr and log line
        return f"AlpacaProvider(url={self.url!r})"

    # ------------------------------------------------------------------ CachedLiveProvider

    def _resolve(self, symbol: str) -> tuple[str, str]:
        desk, alp, cls = resolve_symbol(symbol)
        self._routes[alp] = (desk, cls)
        return desk, alp

    def _registered(self, desk: str, native: str) -> None:
        provided_instrument(native, self._routes[native][1], PROVIDER)

    def _fetch(
        self, natives: list[str], tf: Timeframe, since: pd.Timestamp
    ) -> dict[str, pd.DataFrame]:
        """One request per asset class; symbols Alpaca returned no bars for are absent."""
        by_class: dict[AssetClass, list[str]] = {}
        for alp in natives:
            by_class.setdefault(self._routes[alp][1], []).append(alp)
        out: dict[str, pd.DataFrame] = {}
        for cls, names in by_class.items():
            raw = self._bars(cls, names, tf, since)
            for alp in names:
                if raw.get(alp):
                    out[alp] = bars_frame(raw[alp], self._routes[alp][0], tf)
                else:
                    self._why[alp] = f"alpaca returned no {tf.value} bars for it"
        return out

    # ------------------------------------------------------------------ quotes

    def quote(self, symbol: str) -> Quote:
        """Latest bid/ask and last trade from Alpaca's snapshot endpoint (one request)."""
        got = self.quotes([symbol])
        if not got:
            raise UnknownSymbolError(symbol, [], PROVIDER, detail="alpaca has no snapshot for it")
        return next(iter(got.values()))

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

    # ------------------------------------------------------------------ transport

    def _bars(
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
            # which the overlap check of the cache's merge notices.
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
                (self._api_key, self._secret_key)
                if self._api_key and self._secret_key
                else (None, None)
            )
            client = CryptoHistoricalDataClient(*keys, url_override=self.url, raw_data=True)
        else:
            if not (self._api_key and self._secret_key):
                raise SourceUnavailable(
                    PROVIDER,
                    "no API keys: set APCA_API_KEY_ID and APCA_API_SECRET_KEY (or "
                    "TRADECREW_BROKER__ALPACA_API_KEY and TRADECREW_BROKER__ALPACA_SECRET_KEY)",
                )
            client = StockHistoricalDataClient(
                self._api_key, self._secret_key, url_override=self.url, raw_data=True
            )
        use_retrying_session(client, self._cfg, self._backoff)
        self._clients[cls] = client
        return client

    def _call(self, fn: Callable[[], Any], symbols: list[str]) -> Any:
        secrets = tuple(s for s in (self._api_key, self._secret_key) if s)
        return call(fn, url=self.url, symbols=symbols, secrets=secrets)
