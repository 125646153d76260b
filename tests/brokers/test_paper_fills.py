"""The paper venue's matching engine on crafted bars: fill rules, gaps, brackets, invariants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.brokers.paper_fills import (
    ENTRY_BAR,
    PESSIMISTIC,
    CancelEvent,
    FillEvent,
    LegEvent,
    Tapes,
    Working,
    match_orders,
)
from tradecrew.models import OrderStatus, OrderType, Side, TimeInForce

T0 = datetime(2024, 3, 4, tzinfo=UTC)


def bars(*ohlc: tuple[float, float, float, float], volume: float = 0.0) -> Tapes:
    times = [T0 + timedelta(days=i) for i in range(len(ohlc))]
    cols = np.array(ohlc, dtype=float).reshape(-1, 4).T
    return Tapes.from_arrays(times, *cols, np.full(len(ohlc), volume))


def limit(side: Side, price: float, qty: int = 10, **kw) -> Working:
    return Working(
        key=kw.pop("key", "L"),
        seq=1,
        side=side,
        order_type=OrderType.LIMIT,
        remaining=qty,
        limit_price=price,
        **kw,
    )


def stop(side: Side, price: float, qty: int = 10, **kw) -> Working:
    return Working(
        key=kw.pop("key", "S"),
        seq=1,
        side=side,
        order_type=OrderType.STOP,
        remaining=qty,
        stop_price=price,
        **kw,
    )


def fills(result) -> list[tuple[str, int, float]]:
    return [(e.key, e.index, e.price) for e in result.events if isinstance(e, FillEvent)]


def test_a_buy_limit_fills_on_the_first_bar_whose_low_reaches_it_at_the_limit() -> None:
    tapes = bars((100, 101, 99, 100), (100, 100.5, 96, 97), (97, 98, 90, 91))
    assert fills(match_orders([limit(Side.BUY, 97.0)], tapes)) == [("L", 1, 97.0)]


def test_a_buy_limit_gapped_through_fills_at_the_better_open() -> None:
    tapes = bars((100, 101, 99, 100), (94, 95, 93, 94))
    assert fills(match_orders([limit(Side.BUY, 97.0)], tapes)) == [("L", 1, 94.0)]


def test_a_sell_limit_fills_at_the_limit_or_the_higher_gap_open() -> None:
    tapes = bars((100, 101, 99, 100), (100, 105, 99, 104), (110, 111, 109, 110))
    assert fills(match_orders([limit(Side.SELL, 104.0)], tapes)) == [("L", 1, 104.0)]
    gap = match_orders([limit(Side.SELL, 104.0)], bars((100, 101, 99, 100), (110, 111, 109, 110)))
    assert fills(gap) == [("L", 1, 110.0)]


def test_a_buy_stop_fills_at_the_stop_or_the_higher_gap_open() -> None:
    through = bars((100, 101, 99, 100), (101, 106, 100, 105))
    assert fills(match_orders([stop(Side.BUY, 105.0)], through)) == [("S", 1, 105.0)]
    gapped = bars((100, 101, 99, 100), (108, 109, 107, 108))
    assert fills(match_orders([stop(Side.BUY, 105.0)], gapped)) == [("S", 1, 108.0)]


def test_a_sell_stop_gapped_through_fills_at_the_open_not_the_stop() -> None:
    tapes = bars((100, 101, 99, 100), (90, 92, 88, 91))
    assert fills(match_orders([stop(Side.SELL, 95.0)], tapes)) == [("S", 1, 90.0)]


def test_slippage_never_pushes_a_bar_fill_outside_the_bar() -> None:
    tapes = bars((100, 101, 99, 100), (90, 92, 90, 91))  # opens at its low
    result = match_orders([stop(Side.SELL, 95.0)], tapes, slippage_bps=50)
    assert fills(result) == [("S", 1, 90.0)]


def test_a_stop_limit_triggers_then_fills_only_within_its_limit() -> None:
    order = Working(
        key="SL",
        seq=1,
        side=Side.BUY,
        order_type=OrderType.STOP_LIMIT,
        remaining=5,
        stop_price=105.0,
        limit_price=106.0,
    )
    tapes = bars((100, 101, 99, 100), (107, 110, 107, 109), (108, 109, 105.5, 106))
    result = match_orders([order], tapes)
    assert fills(result) == [("SL", 2, 106.0)]
    assert order.triggered


def bracket(entry_price: float, sl: float, tp: float) -> Working:
    return limit(Side.BUY, entry_price, key="E", stop_loss=sl, take_profit=tp)


def test_a_filled_entry_opens_its_stop_loss_and_take_profit_as_oco_and_the_stop_closes() -> None:
    tapes = bars(
        (100, 101, 99, 100),
        (99, 99.5, 95, 96),  # entry at 96
        (96, 97, 94, 95),
        (95, 95.5, 89, 90),  # falls through the stop at 92
        (90, 130, 89, 120),
    )
    result = match_orders([bracket(96.0, 92.0, 110.0)], tapes)
    legs = [e.order for e in result.events if isinstance(e, LegEvent)]
    assert [(w.key, w.leg, w.side, w.remaining) for w in legs] == [
        ("E-sl", "stop_loss", Side.SELL, 10),
        ("E-tp", "take_profit", Side.SELL, 10),
    ]
    assert fills(result) == [("E", 1, 96.0), ("E-sl", 3, 92.0)]
    cancels = [e for e in result.events if isinstance(e, CancelEvent)]
    assert [(c.key, c.index) for c in cancels] == [("E-tp", 3)]
    assert "stop_loss leg filled" in cancels[0].reason
    assert result.position == 0


def test_both_legs_touched_in_one_bar_fill_the_stop_and_say_so() -> None:
    tapes = bars((100, 101, 99, 100), (99, 99, 95, 96), (100, 115, 85, 100))
    result = match_orders([bracket(96.0, 92.0, 110.0)], tapes)
    assert fills(result) == [("E", 1, 96.0), ("E-sl", 2, 92.0)]
    (sl_fill,) = [e for e in result.fills if e.key == "E-sl"]
    assert sl_fill.note == PESSIMISTIC
    (cancel,) = [e for e in result.events if isinstance(e, CancelEvent)]
    assert cancel.key == "E-tp" and PESSIMISTIC in cancel.reason


def test_a_bar_that_opens_through_the_take_profit_fills_it_at_the_open() -> None:
    tapes = bars((100, 101, 99, 100), (99, 99, 95, 96), (112, 115, 85, 100))
    result = match_orders([bracket(96.0, 92.0, 110.0)], tapes)
    assert fills(result) == [("E", 1, 96.0), ("E-tp", 2, 112.0)]
    assert all(e.note == "" for e in result.fills)


def test_a_stop_loss_reached_in_the_entry_bar_fires_there_and_says_why() -> None:
    tapes = bars((100, 101, 99, 100), (99, 99, 90, 91))
    result = match_orders([bracket(96.0, 92.0, 110.0)], tapes)
    assert fills(result) == [("E", 1, 96.0), ("E-sl", 1, 92.0)]
    assert result.fills[1].note == ENTRY_BAR


def test_closing_the_position_another_way_cancels_the_legs() -> None:
    sl = stop(Side.SELL, 90.0, key="E-sl", oco="E", leg="stop_loss")
    tp = limit(Side.SELL, 120.0, key="E-tp", oco="E", leg="take_profit")
    close = Working(key="C", seq=3, side=Side.SELL, order_type=OrderType.MARKET, remaining=10)
    result = match_orders([sl, tp, close], bars((100, 101, 99, 100)), position=10)
    assert fills(result) == [("C", 0, 100.0)]
    cancelled = {e.key: e.reason for e in result.events if isinstance(e, CancelEvent)}
    assert cancelled == {"E-sl": "position closed", "E-tp": "position closed"}


def test_day_orders_expire_on_the_next_date_and_orders_wait_for_their_start() -> None:
    day = limit(Side.BUY, 50.0, time_in_force=TimeInForce.DAY, day=T0.date())
    late = limit(Side.BUY, 99.5, key="late", start=2)
    tapes = bars((100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100))
    result = match_orders([day, late], tapes)
    assert fills(result) == [("late", 2, 99.5)]
    (expired,) = [e for e in result.events if isinstance(e, CancelEvent)]
    assert (expired.key, expired.index, expired.status) == ("L", 1, OrderStatus.EXPIRED)


def test_volume_caps_fills_across_bars() -> None:
    tapes = bars(*[(100, 101, 99, 100)] * 5, volume=30.0)
    result = match_orders([limit(Side.BUY, 100.0, qty=10)], tapes, participation_rate=0.1)
    assert [(e.index, e.steps) for e in result.fills] == [(0, 3), (1, 3), (2, 3), (3, 1)]


def test_the_first_crossing_is_found_far_into_a_long_run() -> None:
    n = 100_000
    close = np.full(n, 100.0)
    low = close - 1
    low[77_777] = 80.0
    times = [T0 + timedelta(minutes=i) for i in range(n)]
    tapes = Tapes.from_arrays(times, close, close + 1, low, close)
    result = match_orders([limit(Side.BUY, 90.0)], tapes)
    assert fills(result) == [("L", 77_777, 90.0)]


def test_inconsistent_bars_are_refused() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        bars((100, 99, 98, 100))
    with pytest.raises(ValueError, match="finite"):
        bars((float("nan"), 101, 99, 100))


# --------------------------------------------------------------------------- invariants


@st.composite
def runs(draw):
    n = draw(st.integers(1, 12))
    rows, price = [], 100.0
    for _ in range(n):
        o = price * draw(st.floats(0.9, 1.1))
        c = price * draw(st.floats(0.9, 1.1))
        h = max(o, c) * draw(st.floats(1.0, 1.05))
        low = min(o, c) * draw(st.floats(0.95, 1.0))
        rows.append((o, h, low, c))
        price = c
    volume = draw(st.sampled_from([0.0, 50.0, 500.0]))
    orders = []
    for k in range(draw(st.integers(1, 5))):
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        kind = draw(st.sampled_from(list(OrderType)))
        p1, p2 = draw(st.floats(80, 120)), draw(st.floats(80, 120))
        bracketed = kind is not OrderType.MARKET and draw(st.booleans())
        orders.append(
            Working(
                key=f"o{k}",
                seq=k,
                side=side,
                order_type=kind,
                remaining=draw(st.integers(1, 40)),
                limit_price=p1 if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None,
                stop_price=p2 if kind in (OrderType.STOP, OrderType.STOP_LIMIT) else None,
                time_in_force=draw(st.sampled_from(list(TimeInForce))),
                day=T0.date(),
                stop_loss=(p1 * (0.95 if side is Side.BUY else 1.05)) if bracketed else None,
                take_profit=(p1 * (1.05 if side is Side.BUY else 0.95)) if bracketed else None,
            )
        )
    return bars(*rows, volume=volume), orders, draw(st.integers(-20, 20))


@settings(max_examples=300, deadline=None)
@given(runs(), st.floats(0, 100))
def test_fills_stay_inside_their_bar_and_quantities_add_up(run, slippage) -> None:
    tapes, orders, start = run
    sizes = {o.key: o.remaining for o in orders}
    result = match_orders(
        orders, tapes, position=start, participation_rate=0.1, slippage_bps=slippage
    )
    filled: dict[str, int] = {}
    signed = 0
    sides = {o.key: o.side for o in orders}
    for e in result.events:
        if isinstance(e, LegEvent):
            sizes[e.order.key], sides[e.order.key] = e.order.remaining, e.order.side
        if isinstance(e, FillEvent):
            assert tapes.buy_low[e.index] - 1e-9 <= e.price <= tapes.buy_high[e.index] + 1e-9
            assert e.steps > 0
            filled[e.key] = filled.get(e.key, 0) + e.steps
            signed += sides[e.key].sign * e.steps
    assert all(filled[k] <= sizes[k] for k in filled)
    assert result.position == start + signed
    cancelled = [e.key for e in result.events if isinstance(e, CancelEvent)]
    assert len(cancelled) == len(set(cancelled))
