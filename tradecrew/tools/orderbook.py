"""Order-book imbalance: who is leaning on the book, and where the fair price sits inside it.

* ``imbalance`` = (bid volume - ask volume) / (bid volume + ask volume) over the best
  ``depth`` levels each side: +1 all resting size is on the bid (buyers), -1 all on the ask.
* ``microprice`` = (best_bid x ask_size + best_ask x bid_size) / (bid_size + ask_size) at the
  top of the book: the mid leaned toward the side more likely to be hit next.
* ``weighted_mid`` is the same formula over the whole depth, using each side's
  volume-weighted average price and total size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.models import BookLevel, OrderBookSnapshot


class OrderBookImbalance(BaseModel):
    """Pressure and fair price read from one level-2 snapshot."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    timestamp: datetime
    synthetic: bool = False
    depth: int = Field(ge=1, description="levels per side requested")
    bid_levels: int = Field(ge=0, description="levels actually used on the bid")
    ask_levels: int = Field(ge=0, description="levels actually used on the ask")
    bid_volume: float = Field(ge=0.0)
    ask_volume: float = Field(ge=0.0)
    imbalance: float = Field(ge=-1.0, le=1.0)
    best_bid: float
    best_ask: float
    mid: float
    microprice: float
    weighted_mid: float
    spread: float = Field(ge=0.0)
    spread_bps: float = Field(ge=0.0)
    pressure: str = Field(description="buy, sell or balanced (|imbalance| < 0.2)")


def validate_book(book: OrderBookSnapshot) -> None:
    """Raise ValueError unless both sides exist, are sorted best-first and do not cross."""
    if not book.bids or not book.asks:
        side = "bids" if not book.bids else "asks"
        raise ValueError(f"order book for {book.symbol} has no {side}")
    for name, levels, better in (
        ("bids", book.bids, lambda a, b: a > b),
        ("asks", book.asks, lambda a, b: a < b),
    ):
        for i in range(1, len(levels)):
            if not better(levels[i - 1].price, levels[i].price):
                order = "descending" if name == "bids" else "ascending"
                raise ValueError(
                    f"order book {name} must be strictly {order} by price, best first; "
                    f"level {i - 1} is {levels[i - 1].price} and level {i} is {levels[i].price}"
                )
    if book.bids[0].price >= book.asks[0].price:
        raise ValueError(
            f"order book for {book.symbol} is crossed or locked: best bid "
            f"{book.bids[0].price} >= best ask {book.asks[0].price}"
        )


def _side(levels: list[BookLevel]) -> tuple[float, float]:
    """Total size and volume-weighted price (the best price when the side has no size)."""
    size = sum(level.size for level in levels)
    if size == 0:
        return 0.0, levels[0].price
    return size, sum(level.price * level.size for level in levels) / size


def _lean(bid: float, bid_size: float, ask: float, ask_size: float) -> float:
    total = bid_size + ask_size
    if total == 0:
        return (bid + ask) / 2.0
    return (bid * ask_size + ask * bid_size) / total


def order_book_imbalance(book: OrderBookSnapshot, depth: int = 5) -> OrderBookImbalance:
    """Bid/ask volume within ``depth`` levels, imbalance in [-1, 1], microprice and spread."""
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    validate_book(book)
    bids, asks = book.bids[:depth], book.asks[:depth]
    bid_volume, bid_vwap = _side(bids)
    ask_volume, ask_vwap = _side(asks)
    total = bid_volume + ask_volume
    imbalance = (bid_volume - ask_volume) / total if total > 0 else 0.0
    best_bid, best_ask = bids[0].price, asks[0].price
    mid = (best_bid + best_ask) / 2.0
    spread = best_ask - best_bid
    return OrderBookImbalance(
        symbol=book.symbol,
        timestamp=book.timestamp,
        synthetic=book.synthetic,
        depth=depth,
        bid_levels=len(bids),
        ask_levels=len(asks),
        bid_volume=bid_volume,
        ask_volume=ask_volume,
        imbalance=max(-1.0, min(1.0, imbalance)),
        best_bid=best_bid,
        best_ask=best_ask,
        mid=mid,
        microprice=_lean(best_bid, bids[0].size, best_ask, asks[0].size),
        weighted_mid=_lean(bid_vwap, bid_volume, ask_vwap, ask_volume),
        spread=spread,
        spread_bps=spread / mid * 1e4,
        pressure="buy" if imbalance >= 0.2 else "sell" if imbalance <= -0.2 else "balanced",
    )


def imbalance_series(books: Sequence[OrderBookSnapshot], depth: int = 5) -> pd.DataFrame:
    """One row per snapshot (indexed by its timestamp): imbalance, microprice, spread..."""
    if not books:
        raise ValueError("imbalance_series needs at least one order-book snapshot")
    rows = [order_book_imbalance(book, depth) for book in books]
    keep = (
        "bid_volume",
        "ask_volume",
        "imbalance",
        "mid",
        "microprice",
        "weighted_mid",
        "spread",
        "spread_bps",
    )
    frame = pd.DataFrame(
        [{k: getattr(r, k) for k in keep} for r in rows],
        index=pd.DatetimeIndex([r.timestamp for r in rows], name="timestamp"),
    )
    if not frame.index.is_monotonic_increasing:
        raise ValueError("order-book snapshots must be in time order")
    return frame
