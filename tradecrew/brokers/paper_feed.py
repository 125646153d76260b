"""Where the paper venue's prices come from: the desk's data provider, its quotes, and the
bars that arrived since the venue last looked.

The provider is opened on first use, so a venue whose source is down or misconfigured
still opens its book (and says why when it needs a price).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import numpy as np

from tradecrew.brokers.paper_fills import Tapes
from tradecrew.data import DataError, Provider, UnknownSymbolError, get_provider
from tradecrew.models import Quote, Timeframe

log = logging.getLogger("tradecrew.brokers.paper")

#: Finest first: a refresh walks the most detailed bars the source has.
_TIMEFRAMES = (
    Timeframe.M1,
    Timeframe.M5,
    Timeframe.M15,
    Timeframe.M30,
    Timeframe.H1,
    Timeframe.H4,
    Timeframe.D1,
)


class MarketFeed:
    """Quotes and new bars of one data source (``sample``, ``csv:PATH``, ``alpaca``)."""

    def __init__(self, source: str, timeframe: Timeframe | str | None = None) -> None:
        self.source = source
        self._fixed = None if timeframe is None else Timeframe.parse(timeframe)
        self._provider: Provider | None = None
        self._timeframes: dict[str, Timeframe] = {}
        self._prefetched: dict[str, Quote] = {}

    def provider(self) -> Provider:
        if self._provider is None:
            self._provider = get_provider(self.source)
        return self._provider

    def quote(self, symbol: str) -> Quote:
        # A quote fetched in this refresh's batch is used once; later asks go to the source.
        found = self._prefetched.pop(symbol, None)
        return found if found is not None else self.provider().quote(symbol)

    def prefetch(self, symbols: list[str]) -> None:
        """Fetch many symbols' quotes and bars in batched requests (one per asset class)
        when the source can, so a refresh of 100 symbols is a few round trips, not 200;
        the per-symbol calls that follow are then served from memory and the bar cache.
        Anything it cannot batch is left to those calls (which report failures)."""
        provider = self.provider()
        many_quotes = getattr(provider, "quotes", None)
        many_bars = getattr(provider, "refresh", None)
        self._prefetched = {}
        if callable(many_quotes):
            try:
                self._prefetched = dict(many_quotes(symbols))
            except Exception as exc:  # an optimisation: the per-symbol calls report it
                log.info("paper venue: batched quotes failed (%s); asking one by one", exc)
        if not callable(many_bars):
            return
        by_tf: dict[Timeframe, list[str]] = {}
        for symbol in symbols:
            tf = self._fixed or self._timeframes.get(symbol)
            if tf is not None:  # the finest timeframe is found per symbol the first time
                by_tf.setdefault(tf, []).append(symbol)
        for tf, group in by_tf.items():
            try:
                many_bars(group, tf)
            except Exception as exc:
                log.info("paper venue: batched bars failed (%s); asking one by one", exc)

    @contextmanager
    def batch(self, symbols: list[str]) -> Iterator[None]:
        """A refresh of ``symbols``: prefetched in batches when there are several; quotes
        it did not use are dropped at the end, so they never answer a later ask."""
        try:
            if len(symbols) > 1:
                self.prefetch(symbols)
            yield
        finally:
            self._prefetched = {}

    def bars_after(self, symbol: str, after: datetime) -> Tapes:
        """Bars labelled strictly after ``after``, oldest first, at the finest timeframe the
        source serves for ``symbol`` (remembered once found); empty when there are none."""
        choices = (self._fixed,) if self._fixed else _TIMEFRAMES
        known = self._timeframes.get(symbol)
        for tf in (known,) if known else choices:
            try:
                frame = self.provider().bars(symbol, tf, start=after)
            except UnknownSymbolError:
                raise
            except DataError:
                continue  # finer than the source has, or nothing new at this timeframe
            frame = frame[frame.index > after]
            if frame.empty:
                continue
            self._timeframes[symbol] = tf
            return Tapes.from_arrays(
                frame.index,
                frame["open"].to_numpy(),
                frame["high"].to_numpy(),
                frame["low"].to_numpy(),
                frame["close"].to_numpy(),
                frame["volume"].to_numpy(),
            )
        return Tapes.from_arrays([], np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
