"""Checks on whether to trade at all: switches, state, prices, pace, calendar, correlation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.models import OrderType, Side, TradingState
from tradecrew.risk import evaluate

from .factories import NOW, context, limits, position, proposal, quote


def _check(decision, name):
    return next(c for c in decision.checks if c.name == name)


def test_kill_switch_denies_even_a_reduction() -> None:
    ctx = context(kill_switch=True, positions=[position("EURUSD", 50_000, 1.1)])
    d = evaluate(proposal(side="sell", quantity=10_000), ctx)
    assert not d.approved
    assert "kill switch" in _check(d, "kill_switch").reason


def test_reducing_desk_shrinks_a_flip_to_the_position_held() -> None:
    ctx = context(trading_state=TradingState.REDUCING, positions=[position("EURUSD", 30_000, 1.1)])
    d = evaluate(proposal(side="sell", quantity=50_000), ctx)
    assert d.approved
    assert d.approved_quantity == 30_000


def test_reducing_desk_denies_adding_to_a_position() -> None:
    ctx = context(trading_state=TradingState.REDUCING, positions=[position("EURUSD", 30_000, 1.1)])
    d = evaluate(proposal(side="buy", quantity=10_000), ctx)
    assert not d.approved
    assert "only orders that shrink" in _check(d, "trading_state").reason


def test_reduce_only_order_without_a_position_is_denied() -> None:
    d = evaluate(proposal(reduce_only=True), context())
    assert not d.approved
    assert "reduce-only" in _check(d, "trading_state").reason


def test_reduce_only_order_is_capped_at_the_position() -> None:
    ctx = context(positions=[position("EURUSD", -20_000, 1.1)])
    d = evaluate(proposal(side="buy", quantity=50_000, reduce_only=True), ctx)
    assert d.approved_quantity == 20_000


def test_stale_quote_is_denied_when_age_is_enforced() -> None:
    old = quote("EURUSD", 1.1, timestamp=NOW - timedelta(seconds=30))
    lim = limits(max_quote_age_seconds=10)
    stale = evaluate(proposal(), context(quote=old, limits=lim))
    fresh = evaluate(proposal(), context(limits=lim))
    unchecked = evaluate(proposal(), context(quote=old, limits=limits(max_quote_age_seconds=0)))
    assert not stale.approved
    assert "stale quote" in _check(stale, "price_sanity").reason
    assert fresh.approved
    assert unchecked.approved


def test_quote_age_enforced_without_a_quote_is_denied() -> None:
    d = evaluate(proposal(), context(quote=None, limits=limits(max_quote_age_seconds=10)))
    assert not d.approved


def test_crossed_quote_is_denied() -> None:
    d = evaluate(
        proposal(),
        context(quote=quote("EURUSD", 1.1).model_copy(update={"bid": 1.102, "ask": 1.098})),
    )
    assert "crossed quote" in _check(d, "price_sanity").reason


def test_quote_for_another_symbol_is_denied() -> None:
    d = evaluate(proposal(), context(quote=quote("GBPUSD", 1.1)))
    assert not d.approved
    assert "not EURUSD" in _check(d, "price_sanity").reason


@pytest.mark.parametrize(
    ("offset", "ok"), [(0.04, True), (-0.049, True), (0.06, False), (-0.2, False)]
)
def test_limit_price_outside_the_band_is_a_fat_finger(offset: float, ok: bool) -> None:
    # A limit above the market rests only as a sell (a buy there is marketable).
    side = Side.SELL if offset > 0 else Side.BUY
    p = proposal(side=side, order_type=OrderType.LIMIT, limit_price=1.1 * (1 + offset))
    d = evaluate(p, context(limits=limits(price_band_pct=0.05)))
    assert _check(d, "fat_finger").passed is ok
    assert d.approved is ok


def test_stop_price_is_checked_against_the_band_too() -> None:
    p = proposal(order_type=OrderType.STOP, stop_price=1.5)
    assert not _check(evaluate(p, context()), "fat_finger").passed


def test_market_order_hitting_a_far_quote_is_a_fat_finger() -> None:
    # Last trade 1.10 but the ask is 1.17: buying at market would pay 6.4% over last.
    far = quote("EURUSD", 1.10).model_copy(update={"ask": 1.17})
    d = evaluate(proposal(), context(quote=far, last_price=1.10))
    assert not d.approved
    assert "ask" in _check(d, "fat_finger").reason
    # Selling hits the bid, which is near last.
    assert _check(evaluate(proposal(side="sell"), context(quote=far)), "fat_finger").passed


def test_market_order_without_a_quote_is_denied() -> None:
    d = evaluate(proposal(), context(quote=None))
    assert not _check(d, "fat_finger").passed


def test_limit_order_without_a_quote_is_checked_against_last() -> None:
    p = proposal(order_type=OrderType.LIMIT, limit_price=1.1)
    assert evaluate(p, context(quote=None, last_price=1.1)).approved


@pytest.mark.parametrize(("field", "value"), [("stop_loss", 1.12), ("take_profit", 1.05)])
def test_protective_price_on_the_wrong_side_is_a_fat_finger(field: str, value: float) -> None:
    d = evaluate(proposal(**{field: value}), context())
    assert not d.approved
    assert "wrong side" in _check(d, "fat_finger").reason


def test_rate_limit_denies_the_order_that_would_exceed_the_minute() -> None:
    lim = limits(max_orders_per_minute=3)
    full = evaluate(proposal(), context(limits=lim, orders_last_minute=3))
    room = evaluate(proposal(), context(limits=lim, orders_last_minute=2))
    assert not full.approved
    assert "3 orders in the last 60s" in _check(full, "rate_limit").reason
    assert room.approved


@given(st.integers(0, 20), st.integers(1, 10))
@settings(max_examples=40, deadline=None)
def test_rate_limit_allows_exactly_the_configured_orders_per_minute(n: int, limit: int) -> None:
    d = evaluate(
        proposal(), context(limits=limits(max_orders_per_minute=limit), orders_last_minute=n)
    )
    assert _check(d, "rate_limit").passed is (n + 1 <= limit)


def test_closed_market_is_denied_only_when_hours_are_enforced() -> None:
    assert not evaluate(proposal(), context(market_open=False)).approved
    lax = context(market_open=False, limits=limits(enforce_market_hours=False))
    assert evaluate(proposal(), lax).approved
    unknown = evaluate(proposal(), context(market_open=None))
    assert unknown.approved
    assert "unknown" in _check(unknown, "market_hours").reason


def test_blackout_halves_size() -> None:
    d = evaluate(proposal(quantity=10_000), context(in_blackout=True, risk_reduction=0.5))
    assert d.approved
    assert d.approved_quantity == 5_000
    assert _check(d, "blackout").max_quantity == 5_000


def test_blackout_with_zero_factor_blocks_new_risk() -> None:
    d = evaluate(proposal(), context(in_blackout=True, risk_reduction=0.0))
    assert not d.approved
    assert "blackout" in d.reasons[0]


def test_blackout_does_not_limit_a_reduction() -> None:
    ctx = context(in_blackout=True, risk_reduction=0.0, positions=[position("EURUSD", 40_000, 1.1)])
    assert evaluate(proposal(side="sell", quantity=40_000), ctx).approved_quantity == 40_000


def test_blackout_factor_above_one_never_enlarges() -> None:
    d = evaluate(proposal(quantity=10_000), context(in_blackout=True, risk_reduction=3.0))
    assert d.approved_quantity == 10_000


@pytest.mark.parametrize(
    ("corr", "held", "side", "ok"),
    [
        (0.9, 50_000, "buy", False),  # long GBPUSD, buy EURUSD: more of the same
        (0.9, 50_000, "sell", True),  # a hedge
        (-0.9, 50_000, "sell", False),  # short a negatively correlated = more of the same
        (-0.9, -50_000, "buy", False),
        (0.5, 50_000, "buy", True),  # below the limit
    ],
)
def test_correlated_exposure_is_denied_only_when_it_adds(corr, held, side, ok) -> None:
    ctx = context(
        positions=[position("GBPUSD", held, 1.27)],
        correlations={"GBPUSD": corr},
        limits=limits(max_correlation=0.8),
    )
    d = evaluate(proposal(side=side), ctx)
    assert _check(d, "correlation").passed is ok


def test_nan_correlation_denies() -> None:
    ctx = context(
        positions=[position("GBPUSD", 10_000, 1.27)], correlations={"GBPUSD": float("nan")}
    )
    assert not evaluate(proposal(), ctx).approved


def test_a_held_position_whose_correlation_is_unknown_refuses_new_risk() -> None:
    # Unknown is not low: a window longer than the bars fetched once made every correlation
    # unknown, and the check skipped them all.
    held = [position("GBPUSD", 50_000, 1.27)]
    d = evaluate(proposal(), context(positions=held, correlations={}))
    check = _check(d, "correlation")
    assert not d.approved and not check.passed
    assert "GBPUSD not computed" in check.reason and "MAX_CORRELATION=1" in check.reason


def test_an_unknown_correlation_limits_neither_a_reduction_nor_a_check_turned_off() -> None:
    held = [position("GBPUSD", 50_000, 1.27), position("EURUSD", 20_000, 1.1)]
    reduce = evaluate(proposal(side="sell", quantity=20_000), context(positions=held))
    assert _check(reduce, "correlation").passed
    off = context(positions=held, correlations={}, limits=limits(max_correlation=1.0))
    assert _check(evaluate(proposal(), off), "correlation").passed


def test_an_unreadable_calendar_refuses_new_risk_and_says_how_to_fix_it() -> None:
    why = "calendar.csv: row 3: time must be an ISO datetime"
    d = evaluate(proposal(), context(calendar_error=why))
    check = _check(d, "blackout")
    assert not d.approved and not check.passed
    assert why in check.reason
    assert "TRADECREW_COMPONENTS__CALENDAR__ENABLED=false" in check.reason


def test_an_unreadable_calendar_does_not_limit_a_reduction() -> None:
    ctx = context(calendar_error="missing", positions=[position("EURUSD", 40_000, 1.1)])
    d = evaluate(proposal(side="sell", quantity=40_000), ctx)
    assert d.approved_quantity == 40_000


@pytest.mark.parametrize(
    ("confidence", "ok"), [(None, True), (0.7, True), (0.59, False), (float("nan"), False)]
)
def test_signal_confidence_below_the_floor_is_denied(confidence, ok) -> None:
    ctx = context(signal_confidence=confidence, limits=limits(min_signal_confidence=0.6))
    assert evaluate(proposal(), ctx).approved is ok
