"""Market events of one symbol as arrays (``Tapes``), the engine's view of a run of bars or
quotes: built from bars, columns or one checked tape, and read back one tape at a time.

Promises: every price is finite and positive, a bar's open and close lie inside its range,
timestamps are UTC nanoseconds (oldest first, as given) and ``volume`` NaN means unlimited.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pandas as pd

from tradecrew.brokers.paper_matching import Tape
from tradecrew.models import Bar, Quote

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Tapes:
    """Market events of one symbol, oldest first, as arrays. Bars trade at one price path
    for both sides; a quote's buys trade at the ask and sells at the bid. ``volume`` NaN is
    unlimited liquidity; ``ranged`` marks bars, whose high and low bound every fill."""

    timestamps: npt.NDArray[np.datetime64]  # UTC, nanoseconds, without a zone
    buy_open: Floats
    buy_high: Floats
    buy_low: Floats
    sell_open: Floats
    sell_high: Floats
    sell_low: Floats
    mark: Floats
    volume: Floats
    ranged: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return len(self.timestamps)

    def time(self, i: int) -> datetime:
        """Tape ``i``'s time as an aware UTC datetime."""
        return pd.Timestamp(self.timestamps[i], tz=UTC).to_pydatetime()

    def after(self, when: datetime) -> int:
        """The index of the first tape later than ``when``."""
        return int(np.searchsorted(self.timestamps, utc_ns(when), side="right"))

    @classmethod
    def from_arrays(
        cls,
        timestamps: Sequence[datetime] | pd.DatetimeIndex,
        open_: npt.ArrayLike,
        high: npt.ArrayLike,
        low: npt.ArrayLike,
        close: npt.ArrayLike,
        volume: npt.ArrayLike | None = None,
    ) -> Tapes:
        """Bars as columns; refuses prices that are not finite and positive or a bar whose
        open or close lies outside its low..high."""
        o, h, lo, c = (np.asarray(a, dtype=np.float64) for a in (open_, high, low, close))
        n = len(timestamps)
        if not all(len(a) == n for a in (o, h, lo, c)):
            raise ValueError("bar columns must have the same length")
        v = np.zeros(n) if volume is None else np.asarray(volume, dtype=np.float64)
        prices = np.stack([o, h, lo, c]) if n else np.zeros((4, 0))
        if not np.all(np.isfinite(prices) & (prices > 0)):
            raise ValueError("bar prices must be finite and positive")
        if np.any((lo > o) | (o > h) | (lo > c) | (c > h)):
            raise ValueError("bar is inconsistent (low <= open, close <= high required)")
        if not np.all(np.isfinite(v) & (v >= 0)):
            raise ValueError("bar volume must be finite and non-negative")
        vol = np.where(v > 0, v, np.nan)
        index = pd.DatetimeIndex(timestamps)
        index = index.tz_localize(UTC) if index.tz is None else index.tz_convert(UTC)
        times = index.tz_localize(None).to_numpy(dtype="datetime64[ns]")
        return cls(times, o, h, lo, o, h, lo, c, vol, np.ones(n, dtype=bool))

    @classmethod
    def from_bars(cls, bars: Sequence[Bar]) -> Tapes:
        return cls.from_arrays(
            [b.timestamp for b in bars],
            [b.open for b in bars],
            [b.high for b in bars],
            [b.low for b in bars],
            [b.close for b in bars],
            [b.volume for b in bars],
        )

    @classmethod
    def from_tape(cls, tape: Tape, ranged: bool) -> Tapes:
        """One event (a checked bar or quote) as a run of length one."""

        def one(x: float) -> Floats:
            return np.array([x], dtype=np.float64)

        return cls(
            np.array([utc_ns(tape.timestamp)]),
            one(tape.buy_open),
            one(tape.buy_high),
            one(tape.buy_low),
            one(tape.sell_open),
            one(tape.sell_high),
            one(tape.sell_low),
            one(tape.mark),
            one(math.nan if tape.volume is None else tape.volume),
            np.array([ranged]),
        )

    @classmethod
    def from_quote(cls, quote: Quote) -> Tapes:
        return cls.from_tape(Tape.from_quote(quote), ranged=False)

    def tape(self, i: int) -> Tape:
        v = float(self.volume[i])
        return Tape(
            timestamp=self.time(i),
            buy_open=float(self.buy_open[i]),
            buy_high=float(self.buy_high[i]),
            buy_low=float(self.buy_low[i]),
            sell_open=float(self.sell_open[i]),
            sell_high=float(self.sell_high[i]),
            sell_low=float(self.sell_low[i]),
            mark=float(self.mark[i]),
            volume=None if math.isnan(v) else v,
        )


def utc_ns(when: datetime) -> np.datetime64:
    if when.tzinfo is None:
        raise ValueError("market times must be timezone-aware (UTC)")
    return np.datetime64(when.astimezone(UTC).replace(tzinfo=None), "ns")
