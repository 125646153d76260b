"""``QuoteStream``: live quotes from Alpaca's market-data websocket, for the serve loop.

One background thread holds the connection: it authenticates, subscribes to quotes and
trades of the symbols, keeps each symbol's latest quote and calls ``on_quote`` with it. A
dropped connection is reopened after a jittered exponential backoff. A stream can also stay
"connected" and deliver nothing: when no market data arrives for ``silence_seconds`` while a
subscribed market is open (``closed_silence_seconds`` when all are closed; None: never), the
watchdog tears the connection down and reconnects. Meanwhile ``age(symbol)`` keeps growing,
so staleness is visible to the risk check rather than hidden by a "connected" flag. Keys
never leave the auth frame (not in reprs, logs or errors).
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from tradecrew.data.streaming_protocol import (
    DEFAULT_STREAM_URL,
    StreamError,
    apply,
    decode,
    handshake,
    is_loopback_url,
    stream_url,
)
from tradecrew.instruments import find_instrument
from tradecrew.models import AssetClass, Quote

__all__ = [
    "DEFAULT_STREAM_URL",
    "QuoteStream",
    "StreamError",
    "StreamStatus",
    "alpaca_quote_stream",
    "backoff_delay",
    "market_hours_open",
    "stream_url",
]

log = logging.getLogger(__name__)
_NEW_YORK = ZoneInfo("America/New_York")


class StreamStatus(BaseModel):
    """What the stream is doing, for a status line or a health check."""

    model_config = ConfigDict(extra="forbid")

    running: bool
    connected: bool
    connects: int  # successful handshakes so far
    reconnects: int  # connections lost or torn down and tried again
    watchdog_trips: int  # silent connections torn down
    last_error: str | None = None
    failed: str | None = None  # a refusal another attempt cannot fix (bad keys): stopped


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Seconds before reconnect ``attempt`` (1, 2, ...): exponential, capped, with "equal
    jitter" (half fixed, half random) so many clients do not reconnect in lockstep."""
    ceiling = min(cap, base * 2 ** max(attempt - 1, 0))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def wire_symbol(symbol: str) -> str:
    """Alpaca's name for a desk symbol (BTCUSD -> BTC/USD); others pass through."""
    from tradecrew.data.alpaca_mapping import resolve_symbol
    from tradecrew.data.base import UnknownSymbolError

    try:
        return resolve_symbol(symbol)[1]
    except UnknownSymbolError:
        return symbol.strip().upper()


def market_hours_open(symbol: str, now: datetime) -> bool:
    """Does ``symbol``'s market trade at ``now``? Crypto always; 24-hour markets (FX, metals,
    index CFDs) Sunday 22:00 to Friday 22:00 UTC; other symbols (US stocks, ETFs, unknown
    tickers) 09:30-16:00 New York time on weekdays. Only tunes the silence watchdog."""
    inst = find_instrument(symbol)
    if inst is not None and inst.asset_class is AssetClass.CRYPTO:
        return True
    if inst is not None and inst.trades_24h:
        utc = now.astimezone(UTC)
        day, hour = utc.weekday(), utc.hour
        return not (day == 5 or (day == 4 and hour >= 22) or (day == 6 and hour < 22))
    local = now.astimezone(_NEW_YORK)
    minutes = local.hour * 60 + local.minute
    return local.weekday() < 5 and 570 <= minutes < 960


class QuoteStream:
    """Latest quotes of ``symbols`` from a websocket, kept fresh in a background thread.

    ``url`` is the full endpoint (``stream_url(...)`` builds Alpaca's). Thread-safe:
    ``latest``/``age``/``status`` may be called from any thread while the stream runs;
    ``on_quote`` runs on the stream's thread (an exception in it is logged, not fatal).
    """

    def __init__(
        self,
        url: str,
        symbols: Iterable[str],
        *,
        key: str,
        secret: str,
        on_quote: Callable[[Quote], None] | None = None,
        silence_seconds: float = 30.0,
        closed_silence_seconds: float | None = None,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        is_open: Callable[[str, datetime], bool] = market_hours_open,
        encoding: Literal["msgpack", "json"] = "msgpack",
        source: str = "alpaca",
        poll_seconds: float = 0.25,
        seed: int | None = None,
    ) -> None:
        self.symbols = sorted({s.strip().upper() for s in symbols if s.strip()})
        if not self.symbols:
            raise ValueError("a quote stream needs at least one symbol")
        # The wire names Alpaca uses (BTC/USD) back to the desk's (BTCUSD).
        self._desk = {wire_symbol(s): s for s in self.symbols}
        if silence_seconds <= 0:
            raise ValueError("silence_seconds must be positive")
        self.url = stream_url(url)
        self._key, self._secret = key, secret
        self._on_quote = on_quote
        self._silence = silence_seconds
        self._closed_silence = closed_silence_seconds
        self._backoff = (backoff_seconds, max_backoff_seconds)
        self._is_open = is_open
        self._binary = encoding == "msgpack"
        self._source = source
        self._poll = poll_seconds
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._quotes: dict[str, Quote] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ws: Any = None
        self._state = {"connects": 0, "reconnects": 0, "watchdog_trips": 0}
        self._connected = False
        self._last_error: str | None = None
        self._failed: str | None = None

    def __repr__(self) -> str:  # the keys stay out
        return f"QuoteStream(url={self.url!r}, symbols={self.symbols!r})"

    # ------------------------------------------------------------------ public

    def start(self) -> None:
        """Connect in the background (returns at once); a second call is a no-op."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._failed = None
            self._thread = threading.Thread(target=self._run, name="quote-stream", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the connection and end the thread (waits up to ``timeout`` seconds)."""
        self._stop.set()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):  # closing an already broken socket
                ws.close()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def latest(self, symbol: str) -> Quote | None:
        """The symbol's last streamed quote, or None before the first one."""
        with self._lock:
            return self._quotes.get(symbol.strip().upper())

    def age(self, symbol: str, now: datetime | None = None) -> float | None:
        """Seconds since the symbol's last quote was made (None before the first): grows
        while the stream is down or silent."""
        quote = self.latest(symbol)
        if quote is None:
            return None
        now = now or datetime.now(UTC)
        return max((now - quote.timestamp).total_seconds(), 0.0)

    def status(self) -> StreamStatus:
        with self._lock:
            return StreamStatus(
                running=self._thread is not None and self._thread.is_alive(),
                connected=self._connected,
                last_error=self._last_error,
                failed=self._failed,
                **self._state,
            )

    # ------------------------------------------------------------------ the thread

    def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            got_data = False
            try:
                got_data = self._session()
            except StreamError as exc:
                self._note(str(exc))
                if exc.fatal:
                    with self._lock:
                        self._failed = str(exc)
                    log.error("quote stream stopped: %s", exc)
                    return
            except Exception as exc:  # socket and websocket errors: all mean "reconnect"
                self._note(f"connection lost ({type(exc).__name__})")
            finally:
                self._close()
            if self._stop.is_set():
                return
            attempt = 1 if got_data else attempt + 1
            with self._lock:
                self._state["reconnects"] += 1
            delay = backoff_delay(attempt, *self._backoff, self._rng)
            log.info("quote stream: reconnecting in %.2f s (attempt %d)", delay, attempt)
            self._stop.wait(delay)

    def _session(self) -> bool:
        """One connection, until it drops or goes silent; True when it delivered data."""
        from websockets.sync.client import connect

        headers = {"Content-Type": "application/msgpack"} if self._binary else None
        options: dict[str, Any] = {"proxy": None} if is_loopback_url(self.url) else {}
        self._ws = ws = connect(self.url, additional_headers=headers, open_timeout=10, **options)
        if self._stop.is_set():
            return False
        handshake(ws, self._key, self._secret, sorted(self._desk), self._binary)
        with self._lock:
            self._connected = True
            self._state["connects"] += 1
        got_data = False
        last = time.monotonic()
        while not self._stop.is_set():
            limit = self._silence_limit()
            if limit is not None and time.monotonic() - last >= limit:
                with self._lock:
                    self._state["watchdog_trips"] += 1
                self._note(f"no market data for {limit:g} s: reconnecting")
                return got_data
            try:
                frame = ws.recv(timeout=self._poll)
            except TimeoutError:
                continue
            if self._handle(decode(frame)):
                got_data = True
                last = time.monotonic()
        return got_data

    def _silence_limit(self) -> float | None:
        now = datetime.now(UTC)
        if any(self._is_open(s, now) for s in self.symbols):
            return self._silence
        return self._closed_silence

    def _handle(self, messages: list[dict[str, Any]]) -> bool:
        """Apply a frame's messages; True when one was market data for our symbols."""
        fresh: list[Quote] = []
        for msg in messages:
            if msg.get("T") == "error":
                self._note(f"stream error: {msg.get('code')} {str(msg.get('msg', ''))[:120]}")
                continue
            symbol = self._desk.get(str(msg.get("S", "")).upper())
            if symbol is None:  # not ours (or no symbol at all)
                continue
            with self._lock:
                quote = apply({**msg, "S": symbol}, self._quotes.get(symbol), self._source)
                if quote is None:
                    continue
                self._quotes[symbol] = quote
            fresh.append(quote)
        for quote in fresh:
            if self._on_quote is not None:
                try:
                    self._on_quote(quote)
                except Exception:
                    log.exception("quote stream: on_quote failed for %s", quote.symbol)
        return bool(fresh)

    def _note(self, message: str) -> None:
        with self._lock:
            self._last_error = message
        log.warning("quote stream %s: %s", self.url, message)

    def _close(self) -> None:
        ws, self._ws = self._ws, None
        with self._lock:
            self._connected = False
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.close()


def alpaca_quote_stream(
    settings: Any,
    symbols: Iterable[str],
    on_quote: Callable[[Quote], None] | None = None,
    **options: Any,
) -> QuoteStream:
    """A ``QuoteStream`` on Alpaca's endpoint for ``symbols`` (all stocks/ETFs, or all
    crypto: Alpaca serves them on separate endpoints), with the settings' URL, feed, keys
    and silence limit. ``SourceUnavailable`` without keys."""
    from tradecrew.data.alpaca_access import alpaca_keys
    from tradecrew.data.alpaca_mapping import resolve_symbol
    from tradecrew.data.alpaca_transport import PROVIDER
    from tradecrew.data.base import SourceUnavailable

    names = list(symbols)
    classes = {resolve_symbol(s)[2] for s in names}
    if len(classes) > 1:
        raise ValueError("one stream per market: stocks and crypto use separate endpoints")
    market: Literal["stocks", "crypto"] = "crypto" if classes == {AssetClass.CRYPTO} else "stocks"
    key, secret = alpaca_keys(settings, None, None)
    if not (key and secret):
        raise SourceUnavailable(
            PROVIDER, "no API keys for the stream: set APCA_API_KEY_ID and APCA_API_SECRET_KEY"
        )
    data = settings.data
    options.setdefault("silence_seconds", data.stream_silence_seconds)
    url = stream_url(data.alpaca_stream_url, market, data.alpaca_feed)
    return QuoteStream(url, names, key=key, secret=secret, on_quote=on_quote, **options)
