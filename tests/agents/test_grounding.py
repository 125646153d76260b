"""Grounding: figures an agent states must trace to tool outputs of the same run."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tradecrew.agents.grounding import EvidencePool, numbers_in, ungrounded_numbers

EVIDENCE = [
    '{"last_price": 2239.03, "atr": 25.26910490736952, "confidence": 0.8959}',
    '{"summary": "RSI 69.5 (neutral)", "obv": -57806226.0}',
]


def test_invented_price_is_listed() -> None:
    pool = EvidencePool(EVIDENCE)
    claims = ["Gold trades at 2239.03 with ATR 25.27; resistance at 2301.5"]
    assert ungrounded_numbers(claims, pool) == ["2301.5"]


def test_rounding_to_shown_decimals_percent_and_sign_are_accepted() -> None:
    pool = EvidencePool(EVIDENCE)
    claims = ["price 2239, ATR 25.3, confidence 89.6%, RSI 69.5, OBV -57,806,226"]
    assert ungrounded_numbers(claims, pool) == []


def test_too_precise_a_figure_is_not_grounded() -> None:
    assert ungrounded_numbers(["ATR 25.2700"], EvidencePool(EVIDENCE)) == ["25.2700"]


def test_small_integers_years_dates_and_symbol_digits_are_skipped() -> None:
    pool = EvidencePool([])
    claims = ["3 of 5 tools agree since 2018; bar 2018-12-31T00:00:00Z at 14:30 on US500 H4"]
    assert ungrounded_numbers(claims, pool, symbol="US500") == []
    assert numbers_in("M15 and H1 bars") == []


def test_each_ungrounded_figure_is_listed_once_in_order() -> None:
    assert ungrounded_numbers(["12.5 then 99.1 then 12.5"], EvidencePool([])) == ["12.5", "99.1"]


@given(st.floats(min_value=11, max_value=1e6, allow_nan=False), st.integers(0, 6))
def test_any_tool_value_shown_at_any_precision_is_grounded(value: float, decimals: int) -> None:
    pool = EvidencePool([f'{{"x": {value!r}}}'])
    shown = f"{value:.{decimals}f}"
    assert ungrounded_numbers([f"value {shown}"], pool) == []
