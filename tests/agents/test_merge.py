"""Merging the crew's answers: the LLM may refuse or shrink the desk plan, never enlarge it."""

from __future__ import annotations

import pytest

from tradecrew.agents.grounding import EvidencePool
from tradecrew.agents.merge import evidence_texts, merge_decision
from tradecrew.agents.schemas import DeskDecision, ExecutionProposal, RiskReview, TradePlan
from tradecrew.models import Direction

BASE = DeskDecision(
    symbol="XAUUSD",
    direction=Direction.LONG,
    quantity=19.78,
    entry_price=2239.03,
    stop_loss=2188.49,
    take_profit=2340.11,
    rationale="desk",
    confidence=0.9,
    risk_verdict="approve",
    mode="deterministic",
)
POOL = EvidencePool(['{"stop": 2188.49, "target": 2340.11, "price": 2239.03}'])


def _plan(**kw) -> TradePlan:
    values = {
        "side": "buy",
        "quantity": 19.78,
        "stop_loss": 2188.49,
        "take_profit": 2340.11,
        "rationale": "trend",
        "confidence": 0.8,
    } | kw
    return TradePlan(**values)


def _merge(plan=None, review=None, execution=None):
    outputs = {"trade_plan": plan, "risk_review": review, "execution_proposal": execution}
    return merge_decision(BASE, {k: v for k, v in outputs.items() if v}, POOL)


@pytest.mark.parametrize("asked", [20.0, 1_000_000.0, 19.79])
def test_larger_plan_quantity_is_capped_at_the_desk_size(asked: float) -> None:
    decision, propose = _merge(_plan(quantity=asked), RiskReview(verdict="approve"))
    assert decision.quantity == BASE.quantity and propose
    assert any("capped" in n for n in decision.notes)


def test_plan_against_the_desk_signal_goes_flat() -> None:
    decision, propose = _merge(_plan(side="sell"), RiskReview(verdict="approve"))
    assert decision.direction is Direction.FLAT and decision.quantity == 0 and not propose


def test_veto_and_shrink_apply_but_a_larger_review_quantity_is_ignored() -> None:
    vetoed, propose = _merge(_plan(), RiskReview(verdict="veto", reasons=["too risky"]))
    assert vetoed.direction is Direction.FLAT and vetoed.risk_verdict == "veto" and not propose
    shrunk, _ = _merge(_plan(), RiskReview(verdict="shrink", quantity=5.555))
    assert shrunk.quantity == 5.55 and shrunk.risk_verdict == "shrink"
    bigger, _ = _merge(_plan(quantity=10), RiskReview(verdict="approve", quantity=15))
    assert bigger.quantity == 10 and any("can only shrink" in n for n in bigger.notes)


def test_every_risk_review_counts_one_veto_vetoes_and_the_smallest_shrink_holds() -> None:
    approve, veto = RiskReview(verdict="approve"), RiskReview(verdict="veto", reasons=["no"])
    first_approves = {"trade_plan": _plan(), "risk_review": approve, "second_review": veto}
    vetoed, propose = merge_decision(BASE, first_approves, POOL)
    assert vetoed.risk_verdict == "veto" and vetoed.quantity == 0 and not propose
    assert "vetoed by the risk manager: no" in vetoed.rationale
    shrinks = {
        "trade_plan": _plan(),
        "risk_review": RiskReview(verdict="shrink", quantity=8.0),
        "second_review": RiskReview(verdict="shrink", quantity=3.0),
    }
    shrunk, _ = merge_decision(BASE, shrinks, POOL)
    assert shrunk.quantity == 3.0 and shrunk.risk_verdict == "shrink"


@pytest.mark.parametrize(
    "answer",
    [None, '{"verdict": "VETO"}', '{"verdict": "veto", "quantity": -1}', "I veto this trade."],
)
def test_a_missing_or_unreadable_risk_review_means_no_trade(answer: str | None) -> None:
    """The review CrewAI could not parse arrives as raw text (or not at all): it may have been
    a veto, so nothing is proposed."""
    outputs = {"trade_plan": _plan(), "risk_review": answer, "second_review": None}
    decision, propose = merge_decision(
        BASE, {k: v for k, v in outputs.items() if v}, POOL, review_tasks=["risk_review"]
    )
    assert decision.quantity == 0 and decision.risk_verdict == "veto" and not propose
    assert any("could not be read" in n for n in decision.notes)
    # One of two review tasks unreadable: the readable approval does not carry it.
    both = {"trade_plan": _plan(), "risk_review": RiskReview(verdict="approve")}
    if answer:
        both["second_review"] = answer
    two, propose = merge_decision(BASE, both, POOL, review_tasks=["risk_review", "second_review"])
    assert two.quantity == 0 and not propose


def test_a_crew_without_a_risk_task_keeps_the_desk_limits() -> None:
    decision, propose = merge_decision(BASE, {"trade_plan": _plan()}, POOL, review_tasks=[])
    assert decision.quantity == BASE.quantity and propose
    assert any("no risk review" in n for n in decision.notes)


@pytest.mark.parametrize("second", [None, RiskReview(verdict="approve")])
def test_a_shrink_without_a_quantity_allows_nothing(second: RiskReview | None) -> None:
    outputs = {"trade_plan": _plan(), "risk_review": RiskReview(verdict="shrink")}
    if second is not None:
        outputs["second_review"] = second
    decision, propose = merge_decision(BASE, outputs, POOL)
    assert decision.quantity == 0 and decision.risk_verdict == "veto" and not propose
    assert any("without a quantity" in n for n in decision.notes)


def test_wider_stop_is_replaced_by_the_desk_stop_and_tighter_one_kept() -> None:
    wide, _ = _merge(_plan(stop_loss=2100.0, take_profit=2400.0), RiskReview(verdict="approve"))
    assert (wide.stop_loss, wide.take_profit) == (BASE.stop_loss, BASE.take_profit)
    tight, _ = _merge(_plan(stop_loss=2200.0, take_profit=2300.0), RiskReview(verdict="approve"))
    assert (tight.stop_loss, tight.take_profit) == (2200.0, 2300.0)


def test_missing_plan_means_no_trade_and_trader_can_decline() -> None:
    decision, propose = _merge(None, RiskReview(verdict="approve"))
    assert decision.direction is Direction.FLAT and not propose
    declined, propose = _merge(
        _plan(), RiskReview(verdict="approve"), ExecutionProposal(propose=False)
    )
    assert declined.direction is Direction.LONG and not propose


def test_untrusted_headline_text_echoed_by_a_tool_is_not_evidence() -> None:
    echoed = '{"results": [{"text": "buy 1,000,000 at 1234.5", "score": 0.25}]}'
    pool = EvidencePool(evidence_texts([echoed]))
    assert not pool.supports(1234.5, 1) and pool.supports(0.25, 2)
