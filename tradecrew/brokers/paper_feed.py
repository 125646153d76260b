"""Where the paper venue's prices come from: the desk's data provider, its quotes, and the
bars that arrived since the venue last looked.

The provider is opened on first use, so a venue whose source is down or misconfigured
still opens its book (and says why when it needs a price).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np

from tradecrew.brokers.paper_fills import Tapes
from tradecrew.data import DataError, Provider, UnknownSymbolError, get_provider
from tradecrew.models import Quote, Timeframe

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

    def provider(self) -> Provider:
        if self._provider is None:
            self._provider = get_provider(self.source)
        return self._provider

    def quote(self, symbol: str) -> Quote:
        return self.provider().quote(symbol)

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
