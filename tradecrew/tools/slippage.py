"""Slippage estimate for a market order: walk the book when there is one, else a model.

``book_walk``: fill ``quantity`` against the opposite side level by level; the cost is the
average fill price against the mid, so it includes half the spread. Size the book cannot
absorb is reported as ``unfilled_quantity``, never priced by guesswork.

``square_root_impact`` (no book): the widely used square-root law of market impact,

    cost / price = spread / 2 / price  +  k x sigma_daily x sqrt(quantity / ADV)

with sigma_daily the stdev of daily log returns and ADV the average daily volume, both from
the last ``window`` bars (intraday bars are scaled to a day by their spacing), and k the
impact coefficient (about 1 in empirical studies; ``impact_coefficient``).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.instruments import find_instrument
from tradecrew.models import OrderBookSnapshot, Side
from tradecrew.tools._ohlcv import ohlcv_arrays
from tradecrew.tools.orderbook import validate_book


class SlippageEstimate(BaseModel):
    """Expected cost of crossing the market with ``quantity``; positive = paid away."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["book_walk", "square_root_impact"]
    side: Side
    quantity: float = Field(gt=0.0)
    reference_price: float = Field(description="mid (book) or last close (model)")
    expected_price: float = Field(description="average fill price of the filled part")
    slippage: float = Field(description="per unit, in price, against reference; + is a cost")
    slippage_bps: float
    filled_quantity: float = Field(ge=0.0)
    unfilled_quantity: float = Field(ge=0.0)
    levels_consumed: int | None = None
    worst_price: float | None = None
    spread: float | None = None
    daily_volatility: float | None = None
    average_daily_volume: float | None = None
    participation: float | None = Field(None, description="quantity / ADV")
    impact_coefficient: float | None = None
    notes: list[str] = Field(default_factory=list)


def _walk(book: OrderBookSnapshot, side: Side, quantity: float) -> SlippageEstimate:
    validate_book(book)
    levels = book.asks if side is Side.BUY else book.bids
    mid = (book.bids[0].price + book.asks[0].price) / 2.0
    remaining, cost, used, worst = quantity, 0.0, 0, None
    for level in levels:
        if remaining <= 0:
            break
        take = min(remaining, level.size)
        if take <= 0:
            continue
        cost += take * level.price
        remaining -= take
        used += 1
        worst = level.price
    filled = quantity - max(remaining, 0.0)
    notes: list[str] = []
    if filled <= 0:
        raise ValueError(f"the {side.value} side of the {book.symbol} book has no size to fill")
    if remaining > 0:
        notes.append(
            f"book too thin: {remaining:g} of {quantity:g} could not be filled within "
            f"{len(levels)} visible level(s)"
        )
    avg = cost / filled
    per_unit = side.sign * (avg - mid)
    return SlippageEstimate(
        method="book_walk",
        side=side,
        quantity=quantity,
        reference_price=mid,
        expected_price=avg,
        slippage=per_unit,
        slippage_bps=per_unit / mid * 1e4,
        filled_quantity=filled,
        unfilled_quantity=max(remaining, 0.0),
        levels_consumed=used,
        worst_price=worst,
        spread=book.asks[0].price - book.bids[0].price,
        notes=notes,
    )


def _bars_per_day(index: pd.DatetimeIndex) -> float:
    """How many bars make one day, from the median spacing (so H1 -> 24, W1 -> 1/7)."""
    if len(index) < 2:
        return 1.0
    days = pd.Series(index[1:] - index[:-1]).median().total_seconds() / 86400.0
    return 1.0 / days if days > 0 else 1.0


def _model(
    bars: pd.DataFrame,
    side: Side,
    quantity: float,
    spread: float | None,
    window: int,
    impact_coefficient: float,
) -> SlippageEstimate:
    _, _, _, close, volume = ohlcv_arrays(bars, window + 1, "estimate_slippage")
    close, volume = close[-(window + 1) :], volume[-(window + 1) :]
    per_day = _bars_per_day(pd.DatetimeIndex(bars.index[-(window + 1) :]))
    sigma = float(np.std(np.diff(np.log(close)), ddof=1)) * math.sqrt(per_day)
    adv = float(volume[1:].mean()) * per_day
    if adv <= 0:
        raise ValueError("the bars carry no volume, so the impact model cannot size the order")
    price = float(close[-1])
    notes = [
        f"no order book: square-root impact model over the last {window} bars "
        f"(sigma_daily {sigma:.4%}, ADV {adv:,.0f})"
    ]
    if spread is None:
        inst = find_instrument(str(bars.attrs.get("symbol", "")))
        if inst is not None:
            spread = inst.typical_spread * price
            notes.append(f"spread from the {inst.symbol} catalogue's typical spread")
        else:
            spread = 0.0
            notes.append("spread unknown: half-spread term left out, pass spread= to include it")
    if spread < 0 or not math.isfinite(spread):
        raise ValueError(f"spread must be a finite number >= 0, got {spread}")
    participation = quantity / adv
    fraction = spread / 2.0 / price + impact_coefficient * sigma * math.sqrt(participation)
    if participation > 0.1:
        notes.append(f"order is {participation:.0%} of daily volume: the model is optimistic")
    return SlippageEstimate(
        method="square_root_impact",
        side=side,
        quantity=quantity,
        reference_price=price,
        expected_price=price * (1.0 + side.sign * fraction),
        slippage=price * fraction,
        slippage_bps=fraction * 1e4,
        filled_quantity=quantity,
        unfilled_quantity=0.0,
        spread=spread,
        daily_volatility=sigma,
        average_daily_volume=adv,
        participation=participation,
        impact_coefficient=impact_coefficient,
        notes=notes,
    )


def estimate_slippage(
    book: OrderBookSnapshot | None,
    side: Side | str,
    quantity: float,
    bars: pd.DataFrame | None = None,
    *,
    spread: float | None = None,
    window: int = 20,
    impact_coefficient: float = 1.0,
) -> SlippageEstimate:
    """Cost of a market order of ``quantity``: book walk if ``book`` is given, else the
    square-root impact model on ``bars``; ``method`` says which one answered."""
    side = Side(side) if not isinstance(side, Side) else side
    if not isinstance(quantity, int | float) or not math.isfinite(quantity) or quantity <= 0:
        raise ValueError(f"quantity must be a finite number above zero, got {quantity!r}")
    if book is not None:
        return _walk(book, side, float(quantity))
    if bars is None:
        raise ValueError("estimate_slippage needs an order book or bars to model from")
    if not isinstance(window, int) or window < 2:
        raise ValueError(f"window must be an integer of at least 2, got {window!r}")
    if not math.isfinite(impact_coefficient) or impact_coefficient < 0:
        raise ValueError(f"impact_coefficient must be >= 0, got {impact_coefficient}")
    return _model(bars, side, float(quantity), spread, window, impact_coefficient)
