"""Streaming quotes for the daemon when its data source streams (Alpaca).

Each streamed quote updates the quote book at once, between refreshes, so data age and the
stale-data watch follow the market to the second. The refresh job still polls: a stream that
cannot start (no keys) or goes silent only costs freshness, which ``/readyz`` and the watch
report; the stream itself reconnects with backoff and tears down a silent connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradecrew.errors import Unavailable
from tradecrew.models import AssetClass, utcnow
from tradecrew.serve.quotes import QuoteBook
from tradecrew.text import one_line

if TYPE_CHECKING:
    from tradecrew.data.streaming import QuoteStream
    from tradecrew.desk import Desk

STREAMING_SOURCES = ("alpaca",)


def markets(symbols: list[str]) -> dict[str, list[str]]:
    """Symbols by Alpaca stream endpoint (stocks and crypto are served apart); symbols
    Alpaca does not know are left to the refresh job."""
    from tradecrew.data.alpaca_mapping import resolve_symbol

    out: dict[str, list[str]] = {}
    for symbol in symbols:
        try:
            asset_class = resolve_symbol(symbol)[2]
        except (LookupError, ValueError):
            continue
        out.setdefault("crypto" if asset_class is AssetClass.CRYPTO else "stocks", []).append(
            symbol
        )
    return out


def open_streams(desk: Desk, quotes: QuoteBook, symbols: list[str], log: Any) -> list[QuoteStream]:
    """Started streams feeding ``quotes``; none when the source does not stream, streaming
    is off (``serve.stream_quotes``) or it cannot start (logged, the daemon goes on)."""
    source = (desk.source or desk.settings.data_source or "sample").split(":")[0]
    if source not in STREAMING_SOURCES or not desk.settings.serve.stream_quotes:
        return []
    from tradecrew.data.streaming import alpaca_quote_stream

    def saw(quote: Any) -> None:
        quotes.saw(quote, utcnow())

    streams = []
    for market, names in markets(symbols).items():
        try:
            stream = alpaca_quote_stream(desk.settings, names, on_quote=saw)
            stream.start()
        except (Unavailable, ValueError) as exc:
            log.warning("stream_not_started", market=market, error=one_line(str(exc), 300))
            continue
        log.info("stream_started", market=market, symbols=names)
        streams.append(stream)
    return streams


def close_streams(streams: list[QuoteStream]) -> None:
    for stream in streams:
        stream.stop(timeout=2.0)
