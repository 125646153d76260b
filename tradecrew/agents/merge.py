"""From the crew's answers to the desk decision: the LLM may refuse or shrink, never enlarge.

The deterministic plan is the ceiling: a plan against the desk signal goes flat, a quantity
above the risk-based size is capped, a stop wider than the desk's is replaced, and a risk
review (from whichever agent's task answers with one; every one counts) can only veto or
shrink. Then every stated figure is checked for grounding.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from tradecrew.agents.grounding import EvidencePool, ungrounded_numbers
from tradecrew.agents.schemas import DeskDecision, ExecutionProposal, RiskReview, TradePlan
from tradecrew.instruments import find_instrument
from tradecrew.models import Direction, Verdict
from tradecrew.risk.sizing import round_down

_SIDES = {"buy": Direction.LONG, "sell": Direction.SHORT, "flat": Direction.FLAT}
_UNTRUSTED_KEYS = {"text"}  # tools echo the headlines they scored; those are not evidence


def _first(outputs: Mapping[str, Any], model: type[BaseModel]) -> Any:
    return next((o for o in outputs.values() if isinstance(o, model)), None)


def _bracket_ok(
    direction: Direction,
    price: float | None,
    stop: float | None,
    target: float | None,
    max_distance: float | None,
) -> bool:
    if price is None or stop is None or target is None or max_distance is None:
        return False
    sign = 1.0 if direction is Direction.LONG else -1.0
    risk = sign * (price - stop)
    reward = sign * (target - price)
    return 0 < risk <= max_distance + 1e-12 and reward > 0


def _strip_untrusted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_untrusted(v) for k, v in value.items() if k not in _UNTRUSTED_KEYS}
    if isinstance(value, list):
        return [_strip_untrusted(v) for v in value]
    return value


def evidence_texts(tool_outputs: Iterable[str], extra: Iterable[str] = ()) -> list[str]:
    """Tool outputs as evidence, without the untrusted text they echo."""
    texts = list(extra)
    for output in tool_outputs:
        try:
            texts.append(json.dumps(_strip_untrusted(json.loads(output))))
        except ValueError:
            texts.append(output)
    return texts


def claims_of(outputs: Mapping[str, Any]) -> list[str]:
    """What the agents stated, minus their sizing decisions (those are capped, not facts)."""
    claims = []
    for output in outputs.values():
        if isinstance(output, BaseModel):
            skip = {"quantity"} | (
                {"confidence"} if isinstance(output, TradePlan | ExecutionProposal) else set()
            )
            claims.append(output.model_dump_json(exclude=skip))
        elif output:
            claims.append(str(output))
    return claims


def _combined_review(reviews: list[RiskReview]) -> RiskReview | None:
    """Every task that answers with a risk review counts: one veto vetoes, else the smallest
    quantity any review allows holds (each review may only shrink)."""
    if len(reviews) < 2:
        return reviews[0] if reviews else None
    vetoes = [r for r in reviews if r.verdict == "veto"]
    unsized = [r for r in reviews if r.verdict == "shrink" and r.quantity is None]
    if unsized and not vetoes:
        return unsized[0]  # a shrink that names no size allows nothing: read below
    if vetoes:
        return RiskReview(verdict="veto", reasons=[why for r in vetoes for why in r.reasons])
    sized = [r for r in reviews if r.quantity is not None]
    return min(sized, key=lambda r: r.quantity or 0.0) if sized else reviews[0]


def merge_decision(
    baseline: DeskDecision,
    outputs: Mapping[str, Any],
    pool: EvidencePool,
    *,
    review_tasks: Collection[str] = ("risk_review",),
) -> tuple[DeskDecision, bool]:
    """The LLM-mode decision and whether the execution trader asked for a proposal.

    ``review_tasks``: the crew's tasks that answer with a risk review. Any of them without a
    readable answer means no trade: an unreadable review may have been a veto."""
    notes: list[str] = list(baseline.notes)
    instrument = find_instrument(baseline.symbol)
    step = instrument.quantity_step if instrument else 1e-9
    plan: TradePlan | None = _first(outputs, TradePlan)
    review = _combined_review([o for o in outputs.values() if isinstance(o, RiskReview)])
    unread = [name for name in review_tasks if not isinstance(outputs.get(name), RiskReview)]
    execution: ExecutionProposal | None = _first(outputs, ExecutionProposal)

    direction, quantity = Direction.FLAT, 0.0
    stop, target = baseline.stop_loss, baseline.take_profit
    rationale = plan.rationale if plan else ""
    if plan is None:
        notes.append("no readable trade plan from the crew: no trade")
    else:
        wanted = _SIDES[plan.side]
        if wanted is not Direction.FLAT and wanted is not baseline.direction:
            notes.append(
                f"plan to {plan.side} is not what the tools justify (desk signal "
                f"{baseline.direction.value}): no trade"
            )
        elif wanted is not Direction.FLAT:
            direction = wanted
            quantity = plan.quantity if plan.quantity > 0 else baseline.quantity
            if quantity > baseline.quantity:
                notes.append(
                    f"plan quantity {plan.quantity:g} above the desk's risk-based maximum "
                    f"{baseline.quantity:g}: capped"
                )
            quantity = round_down(min(quantity, baseline.quantity), step)
            max_distance = (
                abs(baseline.entry_price - baseline.stop_loss)
                if baseline.entry_price is not None and baseline.stop_loss is not None
                else None
            )
            if _bracket_ok(
                direction, baseline.entry_price, plan.stop_loss, plan.take_profit, max_distance
            ):
                stop, target = plan.stop_loss, plan.take_profit
            elif plan.stop_loss is not None or plan.take_profit is not None:
                notes.append(
                    "plan stop/target wider than the desk's or on the wrong side: "
                    "desk stop and target kept"
                )

    verdict = baseline.risk_verdict
    if unread:
        verdict = Verdict.VETO
        direction, quantity = Direction.FLAT, 0.0
        notes.append(
            f"the risk review of {', '.join(unread)} could not be read (it may have been a "
            "veto): no trade"
        )
    elif review is None:
        notes.append("the crew has no risk review: the desk's limits apply unchanged")
    elif review.verdict is Verdict.SHRINK and review.quantity is None:
        # As the risk engine reads it: a shrink that names no size allows nothing.
        verdict = Verdict.VETO
        direction, quantity = Direction.FLAT, 0.0
        notes.append("the risk review said shrink without a quantity: no trade")
    elif review.verdict is Verdict.VETO:
        verdict = Verdict.VETO
        direction, quantity = Direction.FLAT, 0.0
        rationale += " | vetoed by the risk manager: " + review.reason
    elif review.quantity is not None and review.quantity < quantity:
        quantity = round_down(review.quantity, step)
        verdict = Verdict.SHRINK
        rationale += " | shrunk by the risk manager: " + review.reason
    elif (
        review.quantity is not None
        and review.quantity > quantity
        and direction is not (Direction.FLAT)
    ):
        notes.append(
            f"risk review quantity {review.quantity:g} is above the plan's {quantity:g}: "
            "ignored (the risk manager can only shrink)"
        )
    if instrument is not None and 0 < quantity < instrument.min_quantity:
        quantity = 0.0
    if quantity <= 0 or direction is Direction.FLAT:
        direction, quantity, stop, target = Direction.FLAT, 0.0, None, None
    propose = direction is not Direction.FLAT
    if propose and execution is not None and not execution.propose:
        notes.append("the execution trader declined to write a proposal")
        propose = False

    missing = ungrounded_numbers(claims_of(outputs), pool, baseline.symbol)
    if missing:
        notes.append(
            "ungrounded figures (no tool output of this run states them): " + ", ".join(missing)
        )
    confidence = min(plan.confidence, baseline.confidence) if plan else 0.0
    decision = DeskDecision(
        symbol=baseline.symbol,
        timestamp=baseline.timestamp,
        direction=direction,
        quantity=quantity,
        entry_price=baseline.entry_price,
        stop_loss=stop,
        take_profit=target,
        rationale=(rationale.strip(" |") or baseline.rationale),
        confidence=confidence,
        risk_verdict=verdict,
        grounded=not missing,
        ungrounded_numbers=missing,
        mode="llm",
        notes=notes,
    )
    return decision, propose
