"""Orders on the wrong side of the market: a stop that triggers at once, a limit that fills
at once. Each is refused by the engine, so the desk and the gate's re-check both refuse it."""

from __future__ import annotations

import pytest

from tradecrew.models import OrderType, Side
from tradecrew.risk import evaluate

from .factories import context, proposal, quote

BUY, SELL = Side.BUY, Side.SELL
STOP, LIMIT, STOP_LIMIT = OrderType.STOP, OrderType.LIMIT, OrderType.STOP_LIMIT


def _side_check(side: Side, order_type: OrderType, spread: float = 0.0, **prices: float):
    ctx = context("EURUSD", 1.10, quote=quote("EURUSD", 1.10, spread))
    d = evaluate(proposal(side=side, order_type=order_type, **prices), ctx)
    return d, next(c for c in d.checks if c.name == "order_side")


@pytest.mark.parametrize(
    ("side", "stop", "ok"),
    [
        (BUY, 1.09, False),  # a buy stop below the market triggers at once
        (BUY, 1.10, False),  # at the market too
        (BUY, 1.11, True),
        (SELL, 1.11, False),  # a sell stop above the market triggers at once
        (SELL, 1.09, True),
    ],
)
def test_stop_entry_must_rest_beyond_the_market(side: Side, stop: float, ok: bool) -> None:
    d, check = _side_check(side, STOP, stop_price=stop)
    assert check.passed is ok, check.reason
    assert d.approved is ok
    if not ok:
        assert "would trigger at once" in check.reason


def test_buy_stop_between_last_and_ask_is_refused() -> None:
    # Last 1.10, ask 1.101: a buy stop at 1.1005 is above the last trade but the ask is
    # already through it.
    d, check = _side_check(BUY, STOP, spread=0.002, stop_price=1.1005)
    assert not d.approved and "above the market 1.101" in check.reason


@pytest.mark.parametrize(
    ("side", "limit", "ok"),
    [
        (BUY, 1.12, False),  # a buy limit above the market is a market buy
        (BUY, 1.10, True),  # at the market: allowed
        (BUY, 1.08, True),
        (SELL, 1.08, False),  # a sell limit below the market is a market sell
        (SELL, 1.10, True),
        (SELL, 1.12, True),
    ],
)
def test_limit_must_rest_at_or_on_the_near_side(side: Side, limit: float, ok: bool) -> None:
    d, check = _side_check(side, LIMIT, limit_price=limit)
    assert check.passed is ok, check.reason
    assert d.approved is ok
    if not ok:
        assert "use a market order" in check.reason


@pytest.mark.parametrize(
    ("side", "stop", "limit", "ok"),
    [
        (BUY, 1.11, 1.112, True),
        (BUY, 1.09, 1.092, False),  # stop already through the market
        (BUY, 1.11, 1.105, False),  # limit below its own trigger
        (SELL, 1.09, 1.088, True),
        (SELL, 1.09, 1.095, False),  # limit above its own trigger
        (SELL, 1.11, 1.108, False),
    ],
)
def test_stop_limit_checks_the_stop_and_the_limit(
    side: Side, stop: float, limit: float, ok: bool
) -> None:
    d, check = _side_check(side, STOP_LIMIT, stop_price=stop, limit_price=limit)
    assert check.passed is ok, check.reason
    assert d.approved is ok


def test_market_order_has_no_side_to_check() -> None:
    d, check = _side_check(BUY, OrderType.MARKET)
    assert check.passed and d.approved


def test_without_a_quote_the_last_price_is_the_market() -> None:
    ctx = context("EURUSD", 1.10, quote=None)
    d = evaluate(proposal(order_type=STOP, stop_price=1.09), ctx)
    check = next(c for c in d.checks if c.name == "order_side")
    assert not check.passed and "above the market 1.1" in check.reason
