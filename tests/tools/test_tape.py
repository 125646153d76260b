"""Time-and-sales aggregation on hand-written prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tradecrew.models import Side, TradePrint
from tradecrew.tools.tape import aggregate_trades, tape_series

T0 = datetime(2025, 1, 2, 14, 30, tzinfo=UTC)


def _p(sec: int, price: float, size: float, side: Side | None = None) -> TradePrint:
    return TradePrint(timestamp=T0 + timedelta(seconds=sec), price=price, size=size, side=side)


REPORTED = [
    _p(0, 100.0, 1, Side.BUY),
    _p(10, 101.0, 3, Side.BUY),
    _p(50, 100.0, 2, Side.SELL),
    _p(70, 99.0, 20, Side.SELL),
    _p(90, 99.5, 2, Side.BUY),
]


def test_reported_sides_summary_by_hand() -> None:
    s = aggregate_trades(REPORTED, "1min", large_multiple=5)
    assert s.trades == 5 and s.volume == 28
    assert s.vwap == pytest.approx((100 + 303 + 200 + 1980 + 199) / 28)
    assert s.buy_volume == 6 and s.sell_volume == 22 and s.unknown_volume == 0
    assert s.buy_ratio == pytest.approx(6 / 28)
    assert s.side_method == "reported" and s.inferred_sides == 0
    # median size 2 x 5 = 10: only the 20-lot is large
    assert s.large_print_threshold == 10 and [p.size for p in s.large_prints] == [20]
    assert s.largest_print.size == 20 and s.intervals == 2


def test_per_interval_rows_by_hand() -> None:
    f = tape_series(REPORTED, "1min")
    assert list(f.index) == [T0, T0 + timedelta(minutes=1)]
    first, second = f.iloc[0], f.iloc[1]
    assert first["vwap"] == pytest.approx((100 + 303 + 200) / 6)
    assert (first["buy_volume"], first["sell_volume"], first["trades"]) == (4, 2, 3)
    assert first["open"] == 100 and first["high"] == 101 and first["close"] == 100
    assert second["largest"] == 20 and second["large_prints"] == 1
    assert second["buy_ratio"] == pytest.approx(2 / 22)


def test_tick_rule_fills_missing_sides_and_says_so() -> None:
    prints = [_p(0, 10.0, 1), _p(1, 10.5, 2), _p(2, 10.5, 3), _p(3, 10.2, 4), _p(4, 10.2, 5)]
    s = aggregate_trades(prints)
    # first unknown; up-tick buy 2; zero-tick keeps buy 3; down-tick sell 4; zero-tick sell 5
    assert s.unknown_volume == 1 and s.buy_volume == 5 and s.sell_volume == 9
    assert s.side_method == "tick_rule" and s.inferred_sides == 4
    assert any("tick rule" in n for n in s.notes)


def test_mixed_tape_keeps_reported_sides() -> None:
    prints = [_p(0, 10.0, 1, Side.SELL), _p(1, 10.5, 2), _p(2, 10.6, 3, Side.SELL)]
    s = aggregate_trades(prints, large_size=2.5)
    # the middle print is an up-tick buy; the reported sell at an up-tick stays a sell
    assert s.buy_volume == 2 and s.sell_volume == 4 and s.side_method == "mixed"
    assert [p.size for p in s.large_prints] == [3]


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="empty"):
        aggregate_trades([])
    with pytest.raises(ValueError, match="time order"):
        aggregate_trades(list(reversed(REPORTED)))
    with pytest.raises(ValueError, match="interval"):
        aggregate_trades(REPORTED, "soon")
    with pytest.raises(ValueError, match="large_size"):
        aggregate_trades(REPORTED, large_size=-1)
