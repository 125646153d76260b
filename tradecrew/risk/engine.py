"""The risk engine: every pre-trade check on one proposal, folded into one RiskDecision.

Pure and deterministic: no clock, no I/O. It fails closed: a check that raises is a failed
check, and the result only ever shrinks the request.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from tradecrew.models import ProposalRequest, RiskCheck, RiskDecision, TradingState
from tradecrew.risk import checks, limits
from tradecrew.risk.context import RiskContext
from tradecrew.risk.hashing import proposal_hash
from tradecrew.risk.sizing import round_down
from tradecrew.risk.view import OrderView

Check = Callable[[OrderView], RiskCheck]

#: Every check, in the order it is reported; the names are stable.
CHECKS: dict[str, Check] = {
    "kill_switch": checks.kill_switch,
    "trading_state": checks.trading_state,
    "instrument_known": checks.instrument_known,
    "price_sanity": checks.price_sanity,
    "fat_finger": checks.fat_finger,
    "order_side": checks.order_side,
    "max_order_notional": limits.max_order_notional,
    "max_position": limits.max_position,
    "gross_exposure": limits.gross_exposure,
    "net_exposure": limits.net_exposure,
    "currency_exposure": limits.currency_exposure,
    "daily_loss": limits.daily_loss,
    "drawdown": limits.drawdown,
    "correlation": checks.correlation,
    "signal_confidence": checks.signal_confidence,
    "rate_limit": checks.rate_limit,
    "market_hours": checks.market_hours,
    "blackout": checks.blackout,
    "sizing": limits.sizing,
}

#: The check run on the others' caps: a request far beyond a hard limit is refused, not shrunk.
SHRINK_RATIO = "shrink_ratio"
#: The check added after the caps are combined: the rounded size must reach the minimum.
MIN_QUANTITY = "min_quantity"
#: The lone check of a decision on a proposal too malformed to check at all.
ENGINE = "engine"


def run_check(name: str, check: Check, view: OrderView) -> RiskCheck:
    """Run one check; an exception or a nonsense cap becomes a failed check (fail closed)."""
    try:
        result = check(view)
    except Exception as exc:
        return RiskCheck(name=name, passed=False, reason=f"{type(exc).__name__}: {exc}")
    cap = result.max_quantity
    if result.name != name or (cap is not None and not (math.isfinite(cap) and cap >= 0)):
        return RiskCheck(name=name, passed=False, reason=f"invalid result: {result.reason}")
    return result


def _size(view: OrderView, results: list[RiskCheck]) -> tuple[float, RiskCheck]:
    """The smallest cap of the passing checks, rounded down to the instrument's step, and the
    min-quantity check (failing checks deny on their own and do not size).
    """
    caps = [c.max_quantity for c in results if c.passed and c.max_quantity is not None]
    quantity = min([view.requested, *caps])
    try:
        inst = view.instrument
        rounded = round_down(quantity, inst.quantity_step)
        if rounded < inst.min_quantity or rounded <= 0:
            binding = [c.name for c in results if c.passed and c.max_quantity == quantity]
            by = ", ".join(binding) or "the request"
            reason = (
                f"size {rounded:.6g} (capped by {by}) is below the "
                f"{inst.symbol} minimum of {inst.min_quantity:g}"
            )
            return 0.0, RiskCheck(name=MIN_QUANTITY, passed=False, reason=reason, max_quantity=0.0)
        reason = f"size {rounded:.6g} in steps of {inst.quantity_step:g}"
        return rounded, RiskCheck(name=MIN_QUANTITY, passed=True, reason=reason)
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return 0.0, RiskCheck(name=MIN_QUANTITY, passed=False, reason=reason)


def derive_decision_id(proposal_id: str, now: datetime, order_hash: str, salt: str = "") -> str:
    """A decision id that is a function of its inputs, so equal evaluations agree."""
    text = json.dumps([proposal_id, now.isoformat(), order_hash, salt])
    return "rdc_" + hashlib.sha256(text.encode()).hexdigest()[:16]


def evaluate(
    proposal: ProposalRequest, ctx: RiskContext, *, decision_id: str | None = None
) -> RiskDecision:
    """Run every check on ``proposal`` at ``ctx.now`` and decide.

    Approved only when every check passes; the approved quantity is the smallest cap,
    rounded down to the instrument's step, and never above the request. ``order_hash``
    binds the approved size; ``trading_state`` is the state the desk must be in afterwards
    (REDUCING after a loss trip, which the caller applies and only a human clears).
    Never raises for a RiskContext: whatever cannot be evaluated is a denial.
    """
    try:
        return _evaluate(proposal, ctx, decision_id)
    except Exception as exc:
        return _unevaluable(proposal, ctx, decision_id, exc)


def _unevaluable(
    proposal: ProposalRequest, ctx: RiskContext, decision_id: str | None, exc: Exception
) -> RiskDecision:
    """A denial for a proposal the checks could not even look at (a malformed object)."""
    proposal_id = str(getattr(proposal, "id", ""))
    reason = f"{ENGINE}: {type(exc).__name__}: {exc}"
    try:
        requested = float(proposal.quantity)
    except Exception:
        requested = math.nan
    return RiskDecision(
        id=decision_id or derive_decision_id(proposal_id, ctx.now, "", reason),
        proposal_id=proposal_id,
        approved=False,
        requested_quantity=requested,
        approved_quantity=0.0,
        checks=[RiskCheck(name=ENGINE, passed=False, reason=reason[len(ENGINE) + 2 :])],
        reasons=[reason],
        order_hash="",
        decided_at=ctx.now,
        expires_at=ctx.now,
        trading_state=TradingState(ctx.trading_state),
    )


def _evaluate(proposal: ProposalRequest, ctx: RiskContext, decision_id: str | None) -> RiskDecision:
    view = OrderView(proposal, ctx)
    results = [run_check(name, check, view) for name, check in CHECKS.items()]
    caps = list(results)
    results.append(run_check(SHRINK_RATIO, lambda v: limits.shrink_ratio(v, caps), view))
    quantity, size_check = _size(view, results)
    results.append(size_check)
    approved = all(c.passed for c in results) and quantity > 0
    if approved:
        reasons = [f"{c.name}: {c.reason}" for c in results if c.max_quantity is not None]
        if quantity < view.requested and not reasons:
            reasons = [f"rounded down to {quantity:.6g}"]
    else:
        quantity = 0.0
        reasons = [f"{c.name}: {c.reason}" for c in results if not c.passed]
        if not reasons:
            reasons = ["no quantity could be approved"]
    try:
        digest = proposal_hash(proposal, quantity)
    except Exception as exc:
        approved, quantity, digest = False, 0.0, ""
        reasons.append(f"order_hash: {type(exc).__name__}: {exc}")
    try:
        state = limits.state_after(ctx)
    except Exception:
        state = TradingState(ctx.trading_state)
    proposal_id = str(getattr(proposal, "id", ""))
    return RiskDecision(
        id=decision_id or derive_decision_id(proposal_id, ctx.now, digest, repr(approved)),
        proposal_id=proposal_id,
        approved=approved,
        requested_quantity=view.requested,
        approved_quantity=quantity,
        checks=results,
        reasons=reasons,
        order_hash=digest,
        decided_at=ctx.now,
        expires_at=ctx.now + timedelta(seconds=ctx.limits.approval_ttl_seconds),
        trading_state=state,
    )
