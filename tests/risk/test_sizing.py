"""ATR and stop based sizing, and flooring sizes to an instrument's grid."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecrew.config import RiskSettings
from tradecrew.instruments import CATALOGUE
from tradecrew.risk import suggest_quantity
from tradecrew.risk.sizing import risk_units, round_down, stop_distance


def test_atr_units_risk_the_configured_fraction_of_equity() -> None:
    distance = stop_distance(100.0, stop_loss=None, atr=2.5, atr_stop_multiple=2.0)
    units = risk_units(50_000, 0.02, distance)
    assert distance == 5.0
    # Losing `distance` on every unit costs exactly the 2% budget.
    assert units * distance == pytest.approx(50_000 * 0.02)


def test_stop_loss_distance_replaces_atr() -> None:
    assert stop_distance(100.0, stop_loss=97.0, atr=50.0, atr_stop_multiple=2.0) == 3.0
    assert stop_distance(100.0, stop_loss=103.0, atr=None, atr_stop_multiple=2.0) == 3.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"stop_loss": None, "atr": None},
        {"stop_loss": 100.0, "atr": None},
        {"stop_loss": None, "atr": math.nan},
        {"stop_loss": None, "atr": 0.0},
        {"stop_loss": -1.0, "atr": None},
    ],
)
def test_sizing_without_a_usable_distance_raises(kwargs) -> None:
    with pytest.raises(ValueError):
        stop_distance(100.0, atr_stop_multiple=2.0, **kwargs)


@pytest.mark.parametrize("equity", [0.0, -1.0, math.nan, math.inf])
def test_sizing_with_nonsense_equity_raises(equity: float) -> None:
    with pytest.raises(ValueError, match="equity"):
        risk_units(equity, 0.01, 1.0)


@given(
    st.floats(1e-6, 1e9, allow_nan=False),
    st.sampled_from([1.0, 1000.0, 0.01, 0.0001, 0.001, 0.5, 0.3]),
)
def test_round_down_gives_the_largest_grid_size_not_above(quantity: float, step: float) -> None:
    result = round_down(quantity, step)
    assert result <= quantity
    steps = Decimal(repr(result)) / Decimal(repr(step))
    assert steps == steps.to_integral_value()
    assert quantity - result < step * (1 + 1e-9)


def test_round_down_keeps_exact_multiples() -> None:
    assert round_down(0.3, 0.1) == 0.3
    assert round_down(45_000.0, 1000.0) == 45_000.0
    assert round_down(45_999.99, 1000.0) == 45_000.0
    assert round_down(0.0, 1.0) == 0.0


def test_suggested_size_is_the_risk_budget_on_the_grid() -> None:
    # 1% of 100,000 over 2 x 12.5 = 400 oz, capped by 50,000 USD / 2,000 = 25 oz.
    gold = CATALOGUE["XAUUSD"]
    limits = RiskSettings(max_order_notional=50_000)
    assert suggest_quantity(100_000, 2000.0, atr=12.5, limits=limits, instrument=gold) == 25.0
    wide = RiskSettings(max_order_notional=1e9, max_position_notional=1e9)
    assert suggest_quantity(100_000, 2000.0, atr=12.5, limits=wide, instrument=gold) == 40.0


def test_suggested_size_respects_the_unit_cap() -> None:
    gold = CATALOGUE["XAUUSD"]
    limits = RiskSettings(max_position_units={"XAUUSD": 3.0})
    assert suggest_quantity(100_000, 2000.0, atr=12.5, limits=limits, instrument=gold) == 3.0


def test_suggested_size_below_the_minimum_is_zero() -> None:
    eurusd = CATALOGUE["EURUSD"]
    # 1% of 1,000 over a 0.02 stop is 500 EUR: under the 1,000 minimum.
    assert suggest_quantity(1_000, 1.1, stop_loss=1.08, instrument=eurusd) == 0.0


def test_suggested_size_needs_a_distance() -> None:
    with pytest.raises(ValueError, match="ATR or a stop"):
        suggest_quantity(100_000, 1.1)
