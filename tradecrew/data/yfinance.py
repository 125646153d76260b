"""``YFinanceProvider``: free backfill of stocks, ETFs, forex, gold, indices and crypto from
Yahoo Finance through the ``yfinance`` library (extra ``yfinance``).

Many symbols are fetched with one ``yf.download`` call. ``download`` never raises: a ticker
it could not fetch comes back empty, whatever the cause. Each such ticker is asked once more
through ``Ticker.history`` with exceptions on, which says why: Yahoo's rate limit
(``YFRateLimitError``: retried with backoff, then one clear line), a ticker Yahoo does not
know (an unknown symbol, exit 2), or no network (an outage, exit 3).
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pandas as pd

from tradecrew.config import Settings, get_settings
from tradecrew.data.base import SourceUnavailable
from tradecrew.data.live import CachedLiveProvider, canonical
from tradecrew.data.yfinance_symbols import INTERVALS, PROVIDER, crypto_pair, to_yahoo
from tradecrew.instruments import find_instrument, provided_instrument
from tradecrew.models import AssetClass, Timeframe

_MISSING = ("YFTickerMissingError", "YFPricesMissingError", "YFTzMissingError")
_US_TICKER = re.compile(r"^[A-Z]{1,5}(-[A-Z])?$")
_NETWORK_WORDS = ("Connection", "Timeout", "DNS", "Resolve", "SSL", "Curl")


def load_yfinance() -> Any:
    """The yfinance module (the import seam tests replace through ``sys.modules``)."""
    try:
        import yfinance
    except ImportError:
        raise SourceUnavailable(
            PROVIDER,
            "yfinance is not installed; run `uv sync --extra yfinance` or "
            "`pip install 'tradecrew[yfinance]'`",
        ) from None
    return yfinance


class RateLimited(Exception):
    """Yahoo refused with its rate limit (``YFRateLimitError``)."""


class YFinanceProvider(CachedLiveProvider):
    """Bars from Yahoo Finance, cached on disk; quotes are the last daily close."""

    name = PROVIDER
    native = frozenset(INTERVALS)

    def __init__(self, settings: Settings | None = None, **kwargs: Any) -> None:
        super().__init__(settings or get_settings(), **kwargs)

    def __repr__(self) -> str:
        return "YFinanceProvider()"

    def _resolve(self, symbol: str) -> tuple[str, str]:
        return to_yahoo(symbol)

    def _registered(self, desk: str, native: str) -> None:
        if find_instrument(desk) is not None:
            return
        pair = crypto_pair(native)
        if pair is not None:
            provided_instrument(pair, AssetClass.CRYPTO, PROVIDER)
        elif _US_TICKER.match(native):  # a listed share in USD; other markets stay bars-only
            provided_instrument(native, AssetClass.EQUITY, PROVIDER)

    def _fetch(
        self, natives: list[str], tf: Timeframe, since: pd.Timestamp
    ) -> dict[str, pd.DataFrame]:
        yf = load_yfinance()
        interval = INTERVALS[tf]
        start = since.to_pydatetime()
        try:
            with _library_quiet():
                frame = yf.download(
                    natives,
                    start=start,
                    interval=interval,
                    group_by="column",
                    auto_adjust=True,
                    actions=False,
                    progress=False,
                    ignore_tz=False,
                    multi_level_index=True,
                    timeout=self._cfg.timeout_seconds,
                )
        except Exception as exc:  # download catches per ticker; this is a broken library call
            raise SourceUnavailable(PROVIDER, f"download failed: {type(exc).__name__}") from None
        out = _split(frame, natives, tf)
        for ticker in natives:
            if ticker not in out:
                got = self._probe(yf, ticker, start, interval, tf)
                if got is not None:
                    out[ticker] = got
        return out

    def _probe(
        self, yf: Any, ticker: str, start: Any, interval: str, tf: Timeframe
    ) -> pd.DataFrame | None:
        """One ticker through ``Ticker.history`` with exceptions on: its bars, or None with
        the reason kept for the error, or the outage raised."""

        def once() -> pd.DataFrame:
            cfg = yf.config.debug
            hidden = cfg.hide_exceptions
            cfg.hide_exceptions = False
            try:
                with _library_quiet():
                    return yf.Ticker(ticker).history(
                        start=start,
                        interval=interval,
                        auto_adjust=True,
                        actions=False,
                        timeout=self._cfg.timeout_seconds,
                    )
            except Exception as exc:
                if type(exc).__name__ == "YFRateLimitError":
                    raise RateLimited(str(exc)) from None
                raise
            finally:
                cfg.hide_exceptions = hidden

        try:
            frame = self._retry(once, lambda e: 0.0 if isinstance(e, RateLimited) else None)
        except RateLimited:
            raise SourceUnavailable(
                PROVIDER,
                f"rate limited by Yahoo (YFRateLimitError: too many requests) after "
                f"{self._cfg.max_attempts} tries; wait a few minutes and try again",
            ) from None
        except Exception as exc:
            kind = type(exc).__name__
            if kind in _MISSING or isinstance(exc, (KeyError, ValueError)):
                self._why[ticker] = f"Yahoo has no {interval} data for {ticker} ({kind})"
                return None
            if any(word.lower() in kind.lower() for word in _NETWORK_WORDS):
                raise SourceUnavailable(
                    PROVIDER, f"cannot reach Yahoo Finance (no network? {kind})"
                ) from None
            raise SourceUnavailable(PROVIDER, f"request failed: {kind}") from None
        if frame is None or frame.dropna(how="all").empty:
            self._why[ticker] = f"Yahoo returned no {interval} bars for {ticker}"
            return None
        return canonical(frame, f"{ticker} {tf.value}", PROVIDER, daily=tf is Timeframe.D1)


@contextlib.contextmanager
def _library_quiet() -> Iterator[None]:
    """The library's own log lines ("Failed download", cookie and DNS errors) and
    deprecation warnings stay out of the user's terminal: the provider says what failed, in
    one line of its own."""
    logger = logging.getLogger("yfinance")
    was = logger.disabled
    logger.disabled = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.disabled = was


def _split(frame: Any, tickers: list[str], tf: Timeframe) -> dict[str, pd.DataFrame]:
    """``download``'s frame (columns ``(Price, Ticker)``) as one frame per ticker that has
    bars; a ticker Yahoo served nothing for has only NaNs there and is left out."""
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        return {}
    cols = frame.columns
    out: dict[str, pd.DataFrame] = {}
    daily = tf is Timeframe.D1
    if isinstance(cols, pd.MultiIndex):
        level = "Ticker" if "Ticker" in (cols.names or []) else 1
        present = set(cols.get_level_values(level))
        for ticker in tickers:
            if ticker in present:
                sub = frame.xs(ticker, axis=1, level=level).dropna(how="all")
                if not sub.empty:
                    out[ticker] = canonical(sub, f"{ticker} {tf.value}", PROVIDER, daily=daily)
    elif len(tickers) == 1:
        sub = frame.dropna(how="all")
        if not sub.empty:
            out[tickers[0]] = canonical(sub, f"{tickers[0]} {tf.value}", PROVIDER, daily=daily)
    return out
