"""Deterministic mode: the decision the tools justify, and the cap on anything an LLM says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.front_end import analyze
from tradecrew.agents.deterministic import deterministic_decision, render_report
from tradecrew.config import get_settings
from tradecrew.instruments import get_instrument
from tradecrew.models import Direction
from tradecrew.risk import suggest_quantity
from tradecrew.tools.catalog import AnalyzeQuery


@pytest.fixture
def gold(home: Path):
    return analyze(AnalyzeQuery(symbol="XAUUSD"))


def test_direction_stop_target_and_size_follow_signal_atr_and_risk(gold) -> None:
    settings = get_settings()
    decision = deterministic_decision(gold, equity=100_000, settings=settings)
    assert gold.signal.direction is not Direction.FLAT and not gold.signal.vetoes
    assert decision.direction is gold.signal.direction
    sign = 1 if decision.direction is Direction.LONG else -1
    distance = settings.risk.atr_stop_multiple * gold.indicators.atr
    assert decision.stop_loss == pytest.approx(gold.last_price - sign * distance, abs=0.01)
    assert decision.take_profit == pytest.approx(gold.last_price + sign * 2 * distance, abs=0.01)
    expected = suggest_quantity(
        100_000,
        gold.last_price,
        atr=gold.indicators.atr,
        limits=settings.risk,
        instrument=get_instrument("XAUUSD"),
    )
    assert decision.quantity == expected > 0
    assert decision.mode == "deterministic" and decision.grounded


def test_low_confidence_or_veto_goes_flat(gold, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADECREW_RISK__MIN_SIGNAL_CONFIDENCE", "1.0")
    get_settings.cache_clear()
    decision = deterministic_decision(gold, equity=100_000, settings=get_settings())
    assert decision.direction is Direction.FLAT and decision.quantity == 0
    assert "below the minimum" in decision.rationale
    vetoed = gold.model_copy(
        update={
            "signal": gold.signal.model_copy(update={"vetoes": ["correlation above 0.80 with DXY"]})
        }
    )
    get_settings.cache_clear()
    decision = deterministic_decision(vetoed, equity=100_000, settings=get_settings())
    assert decision.direction is Direction.FLAT and decision.risk_verdict == "veto"


def test_calendar_risk_reduction_shrinks_the_size(gold) -> None:
    settings = get_settings()
    full = deterministic_decision(gold, equity=100_000, settings=settings)
    halved = gold.model_copy(
        update={"signal": gold.signal.model_copy(update={"risk_reduction": 0.5})}
    )
    decision = deterministic_decision(halved, equity=100_000, settings=settings)
    assert decision.risk_verdict == "shrink"
    assert 0 < decision.quantity <= full.quantity / 2


def test_tiny_equity_is_flat_not_an_error(gold) -> None:
    decision = deterministic_decision(gold, equity=1.0, settings=get_settings())
    assert decision.direction is Direction.FLAT and "minimum quantity" in decision.rationale


def test_report_states_the_decision(gold) -> None:
    decision = deterministic_decision(gold, equity=100_000, settings=get_settings())
    report = render_report(decision, gold)
    assert report.startswith("XAUUSD D1")
    assert f"{decision.direction.value.upper()} {decision.quantity:g}" in report
