"""Order-book imbalance on hand-built books."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradecrew.models import BookLevel, OrderBookSnapshot
from tradecrew.tools.orderbook import imbalance_series, order_book_imbalance

T0 = datetime(2025, 1, 2, 14, 30, tzinfo=UTC)


def _book(
    bids: list[tuple[float, float]], asks: list[tuple[float, float]], ts: datetime = T0
) -> OrderBookSnapshot:
    return OrderBookSnapshot(
        symbol="XAUUSD",
        timestamp=ts,
        bids=[BookLevel(price=p, size=s) for p, s in bids],
        asks=[BookLevel(price=p, size=s) for p, s in asks],
    )


BOOK = _book(
    bids=[(99.0, 30.0), (98.0, 20.0), (97.0, 50.0)],
    asks=[(101.0, 10.0), (102.0, 10.0), (103.0, 100.0)],
)


def test_imbalance_microprice_and_spread_by_hand() -> None:
    r = order_book_imbalance(BOOK, depth=2)
    # depth 2: bids 30 + 20 = 50, asks 10 + 10 = 20 -> (50 - 20) / 70
    assert r.bid_volume == 50 and r.ask_volume == 20
    assert r.imbalance == pytest.approx(30 / 70)
    assert r.mid == 100.0 and r.spread == 2.0
    assert r.spread_bps == pytest.approx(2.0 / 100.0 * 1e4)
    # microprice leans to the ask because the bid is heavier: (99*10 + 101*30) / 40
    assert r.microprice == pytest.approx((99 * 10 + 101 * 30) / 40)
    # weighted mid: bid vwap (99*30+98*20)/50, ask vwap 101.5, weights swapped
    bid_vwap, ask_vwap = (99 * 30 + 98 * 20) / 50, (101 * 10 + 102 * 10) / 20
    assert r.weighted_mid == pytest.approx((bid_vwap * 20 + ask_vwap * 50) / 70)
    assert r.pressure == "buy" and r.bid_levels == r.ask_levels == 2


def test_deeper_levels_can_flip_the_reading() -> None:
    r = order_book_imbalance(BOOK, depth=5)  # more depth than the book has: all 3 levels
    assert r.bid_levels == 3 and r.bid_volume == 100 and r.ask_volume == 120
    assert r.imbalance == pytest.approx(-20 / 220)
    assert r.pressure == "balanced"


def test_empty_sizes_give_zero_imbalance_and_plain_mid() -> None:
    r = order_book_imbalance(_book([(99.0, 0.0)], [(101.0, 0.0)]), depth=1)
    assert r.imbalance == 0.0 and r.microprice == 100.0 and r.weighted_mid == 100.0


@pytest.mark.parametrize(
    ("bids", "asks", "message"),
    [
        ([(101.0, 1.0)], [(100.0, 1.0)], "crossed"),
        ([(100.0, 1.0)], [(100.0, 1.0)], "crossed or locked"),
        ([(98.0, 1.0), (99.0, 1.0)], [(101.0, 1.0)], "bids must be strictly descending"),
        ([(99.0, 1.0)], [(102.0, 1.0), (101.0, 1.0)], "asks must be strictly ascending"),
        ([], [(101.0, 1.0)], "no bids"),
    ],
)
def test_malformed_books_are_refused(bids, asks, message) -> None:
    with pytest.raises(ValueError, match=message):
        order_book_imbalance(_book(bids, asks))


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="depth"):
        order_book_imbalance(BOOK, depth=0)


def test_series_has_one_row_per_snapshot_in_time_order() -> None:
    later = _book([(99.5, 5.0)], [(100.5, 15.0)], T0 + timedelta(seconds=1))
    frame = imbalance_series([BOOK, later], depth=1)
    assert list(frame["imbalance"]) == pytest.approx([(30 - 10) / 40, (5 - 15) / 20])
    with pytest.raises(ValueError, match="time order"):
        imbalance_series([later, BOOK])
    with pytest.raises(ValueError, match="at least one"):
        imbalance_series([])
