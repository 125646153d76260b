"""Valuing holdings: FX conversion, currency legs and the linear cap."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tradecrew.instruments import UnknownSymbol
from tradecrew.risk import FxUnavailable, currency_exposures, fx_rate
from tradecrew.risk.exposure import exposure, linear_cap


def test_fx_rate_uses_the_direct_then_the_inverse_pair() -> None:
    assert fx_rate("EUR", "USD", {"EURUSD": 1.1}).value == 1.1
    assert fx_rate("JPY", "USD", {"USDJPY": 150.0}).value == pytest.approx(1 / 150)
    assert fx_rate("USD", "USD", {}).value == 1.0


def test_fx_rate_crosses_through_the_dollar() -> None:
    rate = fx_rate("GBP", "JPY", {"GBPUSD": 1.25, "USDJPY": 150.0})
    assert rate.value == pytest.approx(187.5)
    assert not rate.approximate


def test_fx_rate_falls_back_to_typical_prices_and_says_so() -> None:
    rate = fx_rate("CHF", "USD", {})
    assert rate.approximate
    assert rate.value == pytest.approx(1 / 0.88)


def test_fx_rate_without_price_or_fallback_raises() -> None:
    with pytest.raises(FxUnavailable, match="CHF"):
        fx_rate("CHF", "USD", {}, fallback="deny")
    with pytest.raises(FxUnavailable):
        fx_rate("XYZ", "USD", {})


@pytest.mark.parametrize("bad", [math.nan, 0.0, -1.0, math.inf])
def test_fx_rate_refuses_a_bad_price(bad: float) -> None:
    with pytest.raises(ValueError):
        fx_rate("EUR", "USD", {"EURUSD": bad})


def test_gold_contributes_an_xau_and_a_usd_leg() -> None:
    legs = currency_exposures({"XAUUSD": 10}, {"XAUUSD": 2300.0})
    assert legs == {"XAU": pytest.approx(23_000), "USD": pytest.approx(-23_000)}


def test_eur_legs_of_eurusd_and_eurjpy_add_up() -> None:
    prices = {"EURUSD": 1.10, "EURJPY": 165.0, "USDJPY": 150.0}
    legs = currency_exposures({"EURUSD": 100_000, "EURJPY": 100_000}, prices)
    assert legs["EUR"] == pytest.approx(110_000 + 100_000 * 165 / 150)
    assert legs["USD"] == pytest.approx(-110_000)
    assert legs["JPY"] == pytest.approx(-100_000 * 165 / 150)


def test_equity_exposure_is_its_quote_currency_only() -> None:
    assert currency_exposures({"AAPL": -10}, {"AAPL": 200.0}) == {"USD": pytest.approx(-2000)}


def test_gross_and_net_of_a_book() -> None:
    book = exposure({"AAPL": 10, "MSFT": -5}, {"AAPL": 200.0, "MSFT": 400.0})
    assert book.gross == pytest.approx(4000)
    assert book.net == pytest.approx(0)


def test_unknown_or_unpriced_holdings_raise() -> None:
    with pytest.raises(UnknownSymbol):
        exposure({"ZZZ": 1}, {"ZZZ": 1.0})
    with pytest.raises(ValueError, match="no price"):
        exposure({"AAPL": 1}, {})


@example(0.01, 1.0, 0.010000000000000002)  # room of one ulp: the cap is 1.7e-18 units
@given(
    st.floats(-1e6, 1e6),
    st.floats(-1e3, 1e3).filter(lambda x: abs(x) > 1e-6),
    st.floats(0.01, 1e6),  # limits are money amounts above zero (RiskSettings: gt=0)
)
def test_linear_cap_is_the_largest_size_within_the_limit(
    current: float, per_unit: float, limit: float
) -> None:
    cap = linear_cap(current, per_unit, limit)
    assert cap >= 0
    if cap == 0:
        # Only an exposure already at or over the limit, pushed further, gets no room.
        assert current * per_unit >= 0 and abs(current) >= limit * (1 - 1e-9)
        return
    assert abs(current + cap * per_unit) <= limit * (1 + 1e-9) + 1e-6
    # Tight: 0.1 % more breaks the limit. Checked in exact rationals, because in floats a
    # cap far below the current exposure's last digit (current=0.01, limit one ulp above)
    # vanishes in the sum, though the cap itself is exact.
    over = Fraction(current) + Fraction(cap) * Fraction(1001, 1000) * Fraction(per_unit)
    assert abs(over) > Fraction(limit)


@given(st.floats(1, 1e6), st.floats(1, 1e3), st.floats(-1e6, -1))
def test_linear_cap_always_allows_going_back_to_flat(current, per_unit, room) -> None:
    # A negative room (the book is over its limit elsewhere) still lets a position close.
    assert linear_cap(current, -per_unit, room) >= current / per_unit
