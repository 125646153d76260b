"""Pre-trade risk: a pure, deterministic engine that approves, shrinks or denies proposals.

``evaluate(proposal, ctx)`` runs every named check and returns a RiskDecision bound to the
approved order by ``order_hash``; the caller persists it and applies ``state_after(ctx)``.
"""

from tradecrew.risk.context import RiskContext
from tradecrew.risk.engine import CHECKS, evaluate
from tradecrew.risk.exposure import FxUnavailable, currency_exposures, fx_rate
from tradecrew.risk.hashing import order_hash, proposal_hash
from tradecrew.risk.limits import required_state, state_after
from tradecrew.risk.sizing import suggest_quantity
from tradecrew.risk.state import IllegalStateTransition, allows, transition
from tradecrew.risk.verdict import apply_agent_verdict

__all__ = [
    "CHECKS",
    "FxUnavailable",
    "IllegalStateTransition",
    "RiskContext",
    "allows",
    "apply_agent_verdict",
    "currency_exposures",
    "evaluate",
    "fx_rate",
    "order_hash",
    "proposal_hash",
    "required_state",
    "state_after",
    "suggest_quantity",
    "transition",
]
