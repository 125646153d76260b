"""Where market data and news come from, and how long fetched data stays fresh."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator

from .base import Section

_DEFAULT_TTL_SECONDS = {
    "M1": 30.0,
    "M5": 60.0,
    "M15": 120.0,
    "M30": 300.0,
    "H1": 300.0,
    "H4": 900.0,
    "D1": 3600.0,
    "W1": 3600.0,
    "MN1": 3600.0,
}


class DataSettings(Section):
    """Live market-data providers: where they are and how long cached bars stay fresh."""

    alpaca_data_url: str = Field(
        "https://data.alpaca.markets", description="alpaca-py's url_override for market data"
    )
    cache_ttl_seconds: dict[str, float] = Field(
        default_factory=lambda: dict(_DEFAULT_TTL_SECONDS),
        description="per timeframe; a cached series younger than this makes no request",
    )
    alpaca_stream_url: str = Field(
        "wss://stream.data.alpaca.markets",
        description="root of Alpaca's market-data websocket (/v2/{feed}, /v1beta3/crypto/us)",
    )
    alpaca_feed: Literal["iex", "sip"] = "iex"
    stream_silence_seconds: float = Field(
        30.0, gt=0, description="no quote for this long while a market is open: reconnect"
    )
    ccxt_exchange: str = Field(
        "binance", description="the exchange `--source ccxt` reads (ccxt's id: binance, kraken)"
    )
    ccxt_url: str | None = Field(
        None, description="another host for the exchange's public API (a mirror or a stand-in)"
    )
    openbb_provider: str = Field(
        "yfinance", description="the OpenBB data provider asked (an installed openbb-* package)"
    )
    mt5_server_utc_offset_hours: float = Field(
        0.0, ge=-14, le=14, description="the MT5 server's clock minus UTC (often 2 or 3)"
    )
    timeout_seconds: float = Field(10.0, gt=0)
    max_attempts: int = Field(4, ge=1, description="tries per request on 429/5xx/timeouts")
    max_retry_wait_seconds: float = Field(
        30.0, ge=0, description="a Retry-After longer than this fails at once"
    )

    @field_validator("cache_ttl_seconds")
    @classmethod
    def _ttl(cls, v: dict[str, float]) -> dict[str, float]:
        out = dict(_DEFAULT_TTL_SECONDS)
        for key, seconds in v.items():
            name = key.strip().upper()
            if name not in out:
                raise ValueError(f"unknown timeframe {key!r}; use one of {', '.join(out)}")
            if seconds < 0:
                raise ValueError(f"cache TTL for {name} must be >= 0, got {seconds}")
            out[name] = float(seconds)
        return out


class NewsSettings(Section):
    """News providers: the default one, RSS/Atom feeds, and how much a fetch may bring."""

    source: Literal["alpaca", "rss", "openbb", "stored"] = Field(
        "alpaca", description="what `tradecrew news` asks when --source is not given"
    )
    rss_feeds: list[str] = Field(
        default_factory=list,
        description="RSS/Atom feed URLs; {symbol} in one makes it a per-symbol feed, the others "
        "count an item for a symbol only when it names the symbol",
    )
    lookback_days: float = Field(7.0, gt=0, description="how far back a fetch reaches by default")
    max_items: int = Field(200, ge=1, le=5000, description="most items one fetch asks for")
    max_feed_bytes: int = Field(5_000_000, ge=1024, description="a larger feed is refused")
    sentiment_half_life_hours: float = Field(
        24.0, gt=0, description="a headline's weight in a symbol's sentiment halves this often"
    )
    sentiment_window_days: float = Field(
        7.0, gt=0, description="headlines older than this do not count in a symbol's sentiment"
    )
    source_weights: dict[str, float] = Field(
        default_factory=dict,
        description="weight of a news source in a symbol's sentiment (others count 1.0)",
    )

    @field_validator("source_weights")
    @classmethod
    def _source_weights(cls, v: dict[str, float]) -> dict[str, float]:
        for name, weight in v.items():
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"source weight of {name!r} must be >= 0, got {weight}")
        return {k.strip().lower(): float(w) for k, w in v.items()}
