"""A proposal as an MCP client sees it, and the reduce-only proposal that closes a position:
shared by the typed tools, the natural-language commands and the pending bulk actions."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tradecrew.mcp_server.schemas import UNTRUSTED_NOTICE, envelope, mark_untrusted, untrusted
from tradecrew.models import Origin, ProposalRequest, ProposalStatus, Side

if TYPE_CHECKING:
    from tradecrew.desk import Desk, ProposalOutcome

ACTOR = "mcp"


def proposal_result(outcome: ProposalOutcome) -> dict[str, Any]:
    """A proposal as the client sees it; risk-approved pending ones need an explicit approval."""
    status = outcome.status.value
    if outcome.status is ProposalStatus.PENDING:
        status = "confirmation_required"
    result: dict[str, Any] = {
        "proposal_id": outcome.proposal_id,
        "status": status,
        "proposal_status": outcome.status.value,
        "summary": outcome.summary,
        "requested_quantity": outcome.proposal.quantity,
        "approved_quantity": outcome.approved_quantity,
        # Reasons and messages may quote an agent's verdict or a broker's rejection.
        "reasons": [untrusted(r) for r in outcome.reasons],
        "message": untrusted(outcome.message),
        "notice": UNTRUSTED_NOTICE,
    }
    if status == "confirmation_required":
        result["next_step"] = "ask the user, then call approve_proposal with this proposal_id"
    if outcome.order is not None:
        result["order"] = mark_untrusted(outcome.order.model_dump(mode="json"))
        result["fills"] = [f.model_dump(mode="json") for f in outcome.fills]
    return envelope(outcome.mode, result)


def closing_size(quantity: float, fraction: float, step: float) -> float:
    """Whole steps of ``fraction`` of the position ``quantity`` (long or short), never more."""
    return round(math.floor(abs(quantity) * fraction / step + 1e-9) * step, 10)


def closing_proposal(desk: Desk, symbol: str, fraction: float) -> dict[str, Any]:
    """A reduce-only proposal for ``fraction`` of the position in ``symbol``."""
    # Imported here: the server answers ``initialize`` before the desk's modules load.
    from tradecrew.desk import DeskError
    from tradecrew.instruments import normalize_symbol

    sym = normalize_symbol(symbol)
    held = {p.symbol: p.quantity for p in desk.broker.positions()}
    qty = held.get(sym, 0.0)
    if qty == 0:
        raise DeskError(f"there is no open {sym} position to close")
    if not 0 < fraction <= 1 or math.isnan(fraction):
        raise DeskError("fraction must be above 0 and at most 1")
    step = desk.instrument(sym).quantity_step
    size = closing_size(qty, fraction, step)
    if size <= 0:
        raise DeskError(f"{fraction:g} of {abs(qty):g} {sym} is below the smallest step {step:g}")
    side = Side.SELL if qty > 0 else Side.BUY
    return proposal_result(
        desk.propose(
            ProposalRequest(
                symbol=sym,
                side=side,
                quantity=size,
                reduce_only=True,
                origin=Origin.MCP,
                rationale=f"close {fraction:.0%} of the position",
            ),
            actor=ACTOR,
        )
    )
