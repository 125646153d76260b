"""Time and sales: who was aggressive, at what average price, and which prints were large.

Aggressor side comes from the venue when a print carries it; otherwise the tick rule infers
it (price above the previous print = buy, below = sell, unchanged = same as the previous
inferred side; the very first print cannot be classified and counts as ``unknown``).
The tick rule only looks backwards, so an interval's figures never change once it closes.

A print is *large* when its size is at least ``large_size``, or by default at least
``large_multiple`` times the median print size of the tape given.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.models import TradePrint

TAPE_COLUMNS = (
    "open",
    "high",
    "low",
    "close",
    "vwap",
    "volume",
    "buy_volume",
    "sell_volume",
    "unknown_volume",
    "trades",
    "largest",
    "large_prints",
    "buy_ratio",
)


class TapeSummary(BaseModel):
    """The whole tape in one reading, plus how the sides were known."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = None
    start: datetime
    end: datetime
    interval: str
    intervals: int = Field(ge=1, description="intervals that had at least one print")
    trades: int = Field(ge=1)
    volume: float = Field(gt=0.0)
    vwap: float
    buy_volume: float = Field(ge=0.0)
    sell_volume: float = Field(ge=0.0)
    unknown_volume: float = Field(ge=0.0)
    buy_ratio: float | None = Field(None, ge=0.0, le=1.0, description="buy / (buy + sell)")
    largest_print: TradePrint
    large_print_threshold: float
    large_prints: list[TradePrint]
    side_method: Literal["reported", "tick_rule", "mixed"]
    inferred_sides: int = Field(ge=0, description="prints whose side came from the tick rule")
    notes: list[str] = Field(default_factory=list)


def _arrays(
    prints: Sequence[TradePrint],
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Times, prices, sizes, signed side (+1/-1/0 unknown) and whether each side was inferred."""
    if not prints:
        raise ValueError("the tape is empty: aggregate_trades needs at least one print")
    times = pd.DatetimeIndex(pd.to_datetime([p.timestamp for p in prints], utc=True))
    if not times.is_monotonic_increasing:
        raise ValueError("trade prints must be in time order (non-decreasing timestamps)")
    price = np.fromiter((p.price for p in prints), float, len(prints))
    size = np.fromiter((p.size for p in prints), float, len(prints))
    sign = np.zeros(len(prints))
    inferred = np.zeros(len(prints), dtype=bool)
    tick = 0.0  # last tick-rule direction, carried through unchanged prices
    for i, p in enumerate(prints):
        if i > 0 and price[i] != price[i - 1]:
            tick = 1.0 if price[i] > price[i - 1] else -1.0
        if p.side is not None:
            sign[i] = p.side.sign
        else:
            sign[i] = tick
            inferred[i] = tick != 0.0
    return times, price, size, sign, inferred


def _threshold(size: np.ndarray, large_size: float | None, large_multiple: float) -> float:
    if large_size is not None:
        if not np.isfinite(large_size) or large_size <= 0:
            raise ValueError(f"large_size must be a number above zero, got {large_size}")
        return float(large_size)
    if not np.isfinite(large_multiple) or large_multiple <= 0:
        raise ValueError(f"large_multiple must be a number above zero, got {large_multiple}")
    return float(np.median(size) * large_multiple)


def _check_interval(interval: str) -> pd.Timedelta:
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(interval))
    except (ValueError, TypeError):
        raise ValueError(
            f"interval {interval!r} is not a fixed pandas duration like '1min'"
        ) from None
    if step <= pd.Timedelta(0):
        raise ValueError(f"interval must be positive, got {interval!r}")
    return step


def tape_series(
    prints: Sequence[TradePrint],
    interval: str = "1min",
    *,
    large_size: float | None = None,
    large_multiple: float = 5.0,
) -> pd.DataFrame:
    """Per-interval OHLC, VWAP, volume, buy/sell/unknown volume, trades, largest print,
    large-print count and buy ratio; indexed by interval start (UTC), empty intervals left out."""
    _check_interval(interval)
    times, price, size, sign, _ = _arrays(prints)
    threshold = _threshold(size, large_size, large_multiple)
    raw = pd.DataFrame(
        {
            "price": price,
            "size": size,
            "notional": price * size,
            "buy": np.where(sign > 0, size, 0.0),
            "sell": np.where(sign < 0, size, 0.0),
            "unknown": np.where(sign == 0, size, 0.0),
            "large": (size >= threshold).astype(float),
        },
        index=times,
    )
    grouped = raw.groupby(raw.index.floor(interval))
    sums = grouped[["size", "notional", "buy", "sell", "unknown", "large"]].sum()
    ohlc = grouped["price"].agg(["first", "max", "min", "last"])
    sided = sums["buy"] + sums["sell"]
    out = pd.DataFrame(
        {
            "open": ohlc["first"],
            "high": ohlc["max"],
            "low": ohlc["min"],
            "close": ohlc["last"],
            "vwap": sums["notional"] / sums["size"],
            "volume": sums["size"],
            "buy_volume": sums["buy"],
            "sell_volume": sums["sell"],
            "unknown_volume": sums["unknown"],
            "trades": grouped["size"].count().astype(int),
            "largest": grouped["size"].max(),
            "large_prints": sums["large"].astype(int),
            "buy_ratio": (sums["buy"] / sided).where(sided > 0),
        }
    )
    out.index.name = "timestamp"
    return out


def aggregate_trades(
    prints: Sequence[TradePrint],
    interval: str = "1min",
    *,
    symbol: str | None = None,
    large_size: float | None = None,
    large_multiple: float = 5.0,
) -> TapeSummary:
    """Summarise a tape: VWAP, volume, aggressor split, largest and large prints."""
    per = tape_series(prints, interval, large_size=large_size, large_multiple=large_multiple)
    _, price, size, sign, inferred = _arrays(prints)
    threshold = _threshold(size, large_size, large_multiple)
    buy = float(size[sign > 0].sum())
    sell = float(size[sign < 0].sum())
    unknown = float(size[sign == 0].sum())
    reported = sum(p.side is not None for p in prints)
    n_inferred = int(inferred.sum())
    if reported == len(prints):
        method = "reported"
    elif reported == 0:
        method = "tick_rule"
    else:
        method = "mixed"
    notes: list[str] = []
    if method != "reported":
        notes.append(
            f"{len(prints) - reported} print(s) had no aggressor side; tick rule used "
            f"({n_inferred} classified, {unknown:g} volume left unknown)"
        )
    return TapeSummary(
        symbol=symbol,
        start=prints[0].timestamp,
        end=prints[-1].timestamp,
        interval=interval,
        intervals=len(per),
        trades=len(prints),
        volume=float(size.sum()),
        vwap=float((price * size).sum() / size.sum()),
        buy_volume=buy,
        sell_volume=sell,
        unknown_volume=unknown,
        buy_ratio=buy / (buy + sell) if buy + sell > 0 else None,
        largest_print=prints[int(np.argmax(size))],
        large_print_threshold=threshold,
        large_prints=[p for p, s in zip(prints, size, strict=True) if s >= threshold],
        side_method=method,
        inferred_sides=n_inferred,
        notes=notes,
    )
