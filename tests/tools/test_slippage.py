"""Slippage: book walk computed by hand, square-root model computed from its formula."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from tradecrew.models import BookLevel, OrderBookSnapshot, Side
from tradecrew.tools.slippage import estimate_slippage

BOOK = OrderBookSnapshot(
    symbol="XAUUSD",
    timestamp=datetime(2025, 1, 2, tzinfo=UTC),
    bids=[BookLevel(price=99.0, size=5.0), BookLevel(price=98.0, size=5.0)],
    asks=[BookLevel(price=101.0, size=4.0), BookLevel(price=102.0, size=6.0)],
)


def test_buy_walks_the_asks() -> None:
    est = estimate_slippage(BOOK, Side.BUY, 7)
    avg = (4 * 101 + 3 * 102) / 7
    assert est.method == "book_walk"
    assert est.expected_price == pytest.approx(avg)
    assert est.slippage == pytest.approx(avg - 100.0)
    assert est.slippage_bps == pytest.approx((avg - 100.0) / 100.0 * 1e4)
    assert est.levels_consumed == 2 and est.worst_price == 102.0
    assert est.unfilled_quantity == 0 and est.filled_quantity == 7


def test_sell_walks_the_bids_and_cost_is_positive() -> None:
    est = estimate_slippage(BOOK, "sell", 5)
    assert est.expected_price == 99.0 and est.levels_consumed == 1
    assert est.slippage == pytest.approx(1.0)  # sold 1 below the mid: a cost


def test_thin_book_reports_unfilled_quantity() -> None:
    est = estimate_slippage(BOOK, Side.BUY, 15)
    assert est.filled_quantity == 10 and est.unfilled_quantity == 5
    assert est.expected_price == pytest.approx((4 * 101 + 6 * 102) / 10)
    assert any("too thin" in n for n in est.notes)


def _daily(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 2000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    idx = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    return pd.DataFrame(
        {
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": rng.uniform(5e4, 1.5e5, n),
        },
        index=idx,
    )


def test_without_book_uses_square_root_impact() -> None:
    bars = _daily()
    est = estimate_slippage(None, Side.BUY, 1000, bars, spread=0.4, window=20)
    tail = bars.iloc[-21:]
    sigma = np.log(tail["close"]).diff().std(ddof=1)
    adv = tail["volume"].iloc[1:].mean()
    price = tail["close"].iloc[-1]
    want = 0.2 / price + 1.0 * sigma * math.sqrt(1000 / adv)
    assert est.method == "square_root_impact"
    assert est.slippage_bps == pytest.approx(want * 1e4)
    assert est.expected_price == pytest.approx(price * (1 + want))
    assert est.daily_volatility == pytest.approx(sigma)
    assert est.average_daily_volume == pytest.approx(adv)


def test_hourly_bars_are_scaled_to_a_day() -> None:
    daily = _daily()
    hourly = daily.copy()
    hourly.index = pd.date_range("2024-01-01", periods=len(daily), freq="h", tz="UTC")
    d = estimate_slippage(None, Side.SELL, 500, daily, spread=0.0)
    h = estimate_slippage(None, Side.SELL, 500, hourly, spread=0.0)
    assert h.daily_volatility == pytest.approx(d.daily_volatility * math.sqrt(24))
    assert h.average_daily_volume == pytest.approx(d.average_daily_volume * 24)
    assert h.expected_price < h.reference_price  # a sell fills below


def test_spread_comes_from_catalogue_or_is_flagged() -> None:
    bars = _daily()
    unknown = estimate_slippage(None, Side.BUY, 10, bars)
    assert unknown.spread == 0.0 and any("spread unknown" in n for n in unknown.notes)
    bars.attrs["symbol"] = "XAUUSD"
    known = estimate_slippage(None, Side.BUY, 10, bars)
    assert known.spread > 0 and known.slippage_bps > unknown.slippage_bps


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="quantity"):
        estimate_slippage(BOOK, Side.BUY, 0)
    with pytest.raises(ValueError, match="book or bars"):
        estimate_slippage(None, Side.BUY, 1)
    with pytest.raises(ValueError):
        estimate_slippage(BOOK, "hold", 1)
    bars = _daily()
    bars["volume"] = 0.0
    with pytest.raises(ValueError, match="no volume"):
        estimate_slippage(None, Side.BUY, 1, bars)
    with pytest.raises(ValueError, match="needs at least 21 bars"):
        estimate_slippage(None, Side.BUY, 1, _daily(10))
