"""State-changing MCP tools. None of them places an order by itself: proposals wait for
``approve_proposal``, which asks the user (elicitation) where the client can, and then
goes through the desk's risk gate like every other order."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from tradecrew.mcp_server.bulk import BulkActions
from tradecrew.mcp_server.schemas import OrderTypeArg, SideArg, envelope
from tradecrew.models import Origin, ProposalRequest, ProposalStatus, Side

if TYPE_CHECKING:
    from tradecrew.desk import Desk, ProposalOutcome

PROPOSES = ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False
)
PLACES = ToolAnnotations(
    readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=True
)
ACTOR = "mcp"
HUMAN = "mcp-user"

Price = Annotated[float | None, Field(gt=0, description="price; omit for none")]


class Confirm(BaseModel):
    """What the client asks the user before an approval."""

    confirm: bool = Field(description="place this order now?")


async def confirm_with_user(ctx: Context[Any, Any, Any] | None, message: str) -> bool | None:
    """True/False when the user answered through the client, None when it cannot ask."""
    if ctx is None:
        return None
    params = ctx.request_context.session.client_params
    if params is None or params.capabilities.elicitation is None:
        return None
    answer = await ctx.elicit(message=message, schema=Confirm)
    return answer.action == "accept" and bool(answer.data and answer.data.confirm)


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
        "reasons": outcome.reasons,
        "message": outcome.message,
    }
    if status == "confirmation_required":
        result["next_step"] = "ask the user, then call approve_proposal with this proposal_id"
    if outcome.order is not None:
        result["order"] = outcome.order.model_dump(mode="json")
        result["fills"] = [f.model_dump(mode="json") for f in outcome.fills]
    return envelope(outcome.mode, result)


def register(mcp: FastMCP, desk: Desk) -> None:
    bulk = BulkActions(desk)

    def propose(request: ProposalRequest) -> dict[str, Any]:
        return proposal_result(desk.propose(request, actor=ACTOR))

    @mcp.tool(annotations=PROPOSES, title="Propose trade")
    def propose_trade(
        symbol: Annotated[str, Field(min_length=1, max_length=32)],
        side: SideArg,
        quantity: Annotated[float, Field(gt=0, description="units: shares, ounces, currency")],
        order_type: OrderTypeArg = "market",  # type: ignore[assignment]
        limit_price: Price = None,
        stop_price: Price = None,
        stop_loss: Price = None,
        take_profit: Price = None,
        rationale: str = "",
    ) -> dict[str, Any]:
        """Create a trade proposal; the risk engine decides at once (approve, shrink or veto).
        Nothing is placed: a risk-approved proposal waits for approve_proposal."""
        from tradecrew.instruments import normalize_symbol

        return propose(
            ProposalRequest(
                symbol=normalize_symbol(symbol),
                side=side,
                quantity=quantity,
                order_type=order_type,
                limit_price=limit_price,
                stop_price=stop_price,
                stop_loss=stop_loss,
                take_profit=take_profit,
                rationale=rationale,
                origin=Origin.MCP,
            )
        )

    @mcp.tool(annotations=PROPOSES, title="Trade command")
    def trade_command(
        text: Annotated[str, Field(min_length=1, max_length=500, description="what to do")],
    ) -> dict[str, Any]:
        """Natural language such as 'buy 10 SPX', 'sell 0.5 lots of EURUSD at 1.0850 with stop
        1.0800', 'close half my XAUUSD', 'cancel all EURUSD orders', 'what's my exposure to
        USD?'. Returns a proposal for approval or an answer, never an executed order."""
        from tradecrew.mcp_server.commands import run_command

        return run_command(desk, bulk, text)

    @mcp.tool(annotations=PLACES, title="Approve proposal")
    async def approve_proposal(
        proposal_id: str, ctx: Context[Any, Any, Any] | None = None
    ) -> dict[str, Any]:
        """Approve a pending proposal (or bulk action) as the user: it then goes through the
        risk gate to the broker. The user is asked to confirm where the client supports it."""
        if bulk.owns(proposal_id):
            answer = await confirm_with_user(ctx, f"Run {bulk.describe(proposal_id)}?")
            if answer is False:
                return envelope(desk.mode, {"proposal_id": proposal_id, "status": "declined"})
            return bulk.approve(proposal_id, HUMAN)
        current = desk.get(proposal_id)
        if current.status is not ProposalStatus.PENDING:
            return proposal_result(desk.approve(proposal_id, actor=HUMAN, channel="mcp"))
        answer = await confirm_with_user(ctx, f"Place {current.summary}?")
        if answer is False:
            result = proposal_result(current)
            result.update(status="declined", message="the user declined; still pending")
            return result
        return proposal_result(desk.approve(proposal_id, actor=HUMAN, channel="mcp"))

    @mcp.tool(annotations=PROPOSES, title="Reject proposal")
    def reject_proposal(proposal_id: str, reason: str = "") -> dict[str, Any]:
        """Reject a pending proposal (or bulk action)."""
        if bulk.owns(proposal_id):
            return bulk.reject(proposal_id, reason)
        return proposal_result(desk.reject(proposal_id, actor=HUMAN, reason=reason))

    @mcp.tool(annotations=PLACES, title="Cancel order")
    def cancel_order(order_id: str) -> dict[str, Any]:
        """Cancel one working order by its id (works even when trading is halted)."""
        return envelope(desk.mode, desk.cancel_order(order_id, actor=HUMAN))

    @mcp.tool(annotations=PROPOSES, title="Close position")
    def close_position(
        symbol: Annotated[str, Field(min_length=1, max_length=32)],
        fraction: Annotated[float, Field(gt=0, le=1, description="1 closes all, 0.5 half")] = 1.0,
    ) -> dict[str, Any]:
        """Create a proposal that closes all or part of a position; it needs approval."""
        return closing_proposal(desk, symbol, fraction)

    @mcp.tool(annotations=PROPOSES, title="Cancel all orders")
    def cancel_all_orders(symbol: str | None = None) -> dict[str, Any]:
        """Propose cancelling every working order (of one symbol); needs approve_proposal."""
        return bulk.propose_cancel_all(symbol)

    @mcp.tool(annotations=PROPOSES, title="Close all positions")
    def close_all_positions() -> dict[str, Any]:
        """Propose closing every position; needs approve_proposal."""
        return bulk.propose_close_all()

    @mcp.tool(annotations=PLACES, title="Kill switch")
    def set_kill_switch(enabled: bool, reason: str) -> dict[str, Any]:
        """On: halt all trading and cancel working orders. Off: resume (a human decision)."""
        return envelope(desk.mode, desk.set_kill_switch(enabled, reason, actor=HUMAN))


def closing_proposal(desk: Desk, symbol: str, fraction: float) -> dict[str, Any]:
    """A reduce-only proposal for ``fraction`` of the position in ``symbol``."""
    from tradecrew.desk import DeskError
    from tradecrew.instruments import get_instrument, normalize_symbol

    sym = normalize_symbol(symbol)
    held = {p.symbol: p.quantity for p in desk.broker.positions()}
    qty = held.get(sym, 0.0)
    if qty == 0:
        raise DeskError(f"there is no open {sym} position to close")
    if not 0 < fraction <= 1 or math.isnan(fraction):
        raise DeskError("fraction must be above 0 and at most 1")
    step = get_instrument(sym).quantity_step
    size = math.floor(abs(qty) * fraction / step + 1e-9) * step
    size = round(size, 10)
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
