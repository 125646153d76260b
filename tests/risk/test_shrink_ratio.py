"""Fat fingers: a size near a hard limit is shrunk; one far beyond it is refused as a typo."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from tradecrew.config import RiskSettings
from tradecrew.risk import evaluate

from .factories import context, limits, position, proposal


def _check(decision, name):
    return next(c for c in decision.checks if c.name == name)


@pytest.mark.parametrize("quantity", [1_000_000_000, 1e308])
def test_request_far_beyond_the_order_limit_is_vetoed_as_a_probable_error(quantity) -> None:
    d = evaluate(proposal("SPX", quantity=quantity), context("SPX", 2500.0, limits=RiskSettings()))
    assert not d.approved and d.approved_quantity == 0
    check = _check(d, "shrink_ratio")
    assert not check.passed
    assert check.reason.startswith("probable error:")
    assert "× the order notional limit (50,000 USD)" in check.reason
    assert any(r.startswith("shrink_ratio: probable error") for r in d.reasons)


def test_size_twice_the_limit_still_shrinks() -> None:
    # 200 AAPL at 190 is 38,000 USD: 1.9x the 20,000 limit, shrunk to 105 shares.
    d = evaluate(
        proposal("AAPL", quantity=200),
        context("AAPL", 190.0, limits=limits(max_order_notional=20_000)),
    )
    assert d.approved and d.approved_quantity == 105
    assert _check(d, "shrink_ratio").passed


def test_the_ratio_is_a_setting() -> None:
    # 6x the limit: refused at the default 4x, shrunk when the desk allows 10x.
    p = proposal("AAPL", quantity=632)
    strict = evaluate(p, context("AAPL", 190.0, limits=limits(max_order_notional=20_000)))
    loose = evaluate(
        p,
        context("AAPL", 190.0, limits=limits(max_order_notional=20_000, max_shrink_ratio=10)),
    )
    assert not strict.approved and "6.0×" in _check(strict, "shrink_ratio").reason
    assert loose.approved and loose.approved_quantity == 105


@pytest.mark.parametrize("ratio", [1.0, 0.5, 0.0])
def test_a_ratio_of_one_or_less_is_not_a_setting(ratio: float) -> None:
    with pytest.raises(ValidationError):
        RiskSettings(max_shrink_ratio=ratio)


def test_unit_limit_counts_as_a_hard_limit() -> None:
    ctx = context("XAUUSD", 2300.0, limits=limits(max_position_units={"XAUUSD": 10}))
    refused = evaluate(proposal("XAUUSD", quantity=50), ctx)
    shrunk = evaluate(proposal("XAUUSD", quantity=20), ctx)
    assert not refused.approved
    assert "5.0× the position limit (10 units)" in _check(refused, "shrink_ratio").reason
    assert shrunk.approved and shrunk.approved_quantity == 10


def test_foreign_currency_limit_counts_as_a_hard_limit() -> None:
    ctx = context("EURUSD", 1.10, limits=limits(max_currency_exposure=100_000))
    d = evaluate(proposal("EURUSD", quantity=1_000_000), ctx)
    assert not d.approved
    assert "EUR exposure limit" in _check(d, "shrink_ratio").reason


def test_a_limit_the_order_does_not_bind_cannot_call_it_a_typo() -> None:
    # Buying back 50 of 100 AAPL held short is 4.75x the 2,000 position limit, but it only
    # reduces the short: the position limit does not bind, so nothing is refused.
    ctx = context(
        "AAPL",
        190.0,
        limits=limits(max_position_notional=2_000),
        positions=[position("AAPL", -100, 190.0)],
    )
    d = evaluate(proposal("AAPL", quantity=50), ctx)
    assert d.approved and d.approved_quantity == 50
    assert _check(d, "shrink_ratio").passed


@given(
    price=st.floats(10, 5_000),
    limit_units=st.floats(1, 1_000),
    quantity=st.floats(1, 1e12) | st.sampled_from([1e308, 1e15]),
    most=st.floats(1.01, 20),
)
def test_approved_size_is_within_the_limit_and_a_veto_comes_iff_the_ratio_is_exceeded(
    price: float, limit_units: float, quantity: float, most: float
) -> None:
    limit = price * limit_units  # room for at least one share
    ratio = quantity * price / limit
    assume(abs(ratio / most - 1) > 1e-9)  # a tie is float noise, either answer is right
    ctx = context("AAPL", price, limits=limits(max_order_notional=limit, max_shrink_ratio=most))
    d = evaluate(proposal("AAPL", quantity=float(int(quantity)) or 1.0), ctx)
    assert d.approved_quantity * price <= limit * (1 + 1e-9)
    vetoed = not _check(d, "shrink_ratio").passed
    requested = d.requested_quantity
    assert vetoed is (requested * price / limit > most)
    assert d.approved is (not vetoed)


def test_closing_a_position_far_above_the_order_limit_is_shrunk_not_vetoed() -> None:
    # 1,000 AAPL held (190,000 USD) closed at once: 9.5x the 20,000 order limit, but the size
    # is the position's, so it is shrunk to what one order may carry.
    ctx = context(
        "AAPL",
        190.0,
        limits=limits(max_order_notional=20_000),
        positions=[position("AAPL", 1_000, 190.0)],
    )
    d = evaluate(proposal("AAPL", side="sell", quantity=1_000, reduce_only=True), ctx)
    assert d.approved and d.approved_quantity == 105
    assert "reduction" in _check(d, "shrink_ratio").reason
