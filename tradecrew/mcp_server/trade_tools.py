"""State-changing MCP tools. None of them places an order by itself: proposals wait for
``approve_proposal``, which asks the user (elicitation) and then goes through the desk's
risk gate like every other order. The exception is a paper account whose user turned
``broker.auto_approve_paper`` on: there a risk-approved proposal is placed at once, and the
proposing tools are registered as destructive and say so.

A tool call alone is a model's, not a person's: only an elicitation the user accepted counts
as a human approval (``ApprovalChannel.MCP_CONFIRMED``) and is recorded as ``mcp-user``;
anything else is recorded as ``mcp-client``. Without one, an approval fills only on a paper
account whose user turned ``mcp.approve_without_confirmation`` on, and trading never resumes
after a halt; the refusal says what the user can do instead."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations
from pydantic import Field

from tradecrew.mcp_server.bulk import BulkActions
from tradecrew.mcp_server.confirm import (
    CONFIRMED_ACTOR,
    UNCONFIRMED_ACTOR,
    actor_of,
    channel_of,
    confirm_with_user,
    needs_a_person,
)
from tradecrew.mcp_server.proposals import ACTOR, closing_proposal, proposal_result
from tradecrew.mcp_server.schemas import (
    OrderTypeArg,
    SideArg,
    envelope,
    mark_untrusted,
)
from tradecrew.models import (
    ApprovalChannel,
    Origin,
    ProposalRequest,
    ProposalStatus,
    TradingState,
)

if TYPE_CHECKING:
    from tradecrew.desk import Desk

# Files a proposal or a pending action (nothing is sent); may read the broker's quotes and
# positions or ask the configured LLM to read a command.
PROPOSES = ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=True
)
# Paper with auto-approval on: files a proposal that, once the risk engine approves it, is
# sent at once; a repeat files and places another.
PROPOSES_AND_PLACES = ToolAnnotations(
    readOnlyHint=False, destructiveHint=True, idempotentHint=False, openWorldHint=True
)
# Sends to the broker or cancels there; a proposal is sent at most once, so a repeat is a
# no-op.
PLACES = ToolAnnotations(
    readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=True
)
# Ends a pending proposal for good; the ledger only.
REJECTS = ToolAnnotations(
    readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=False
)
# Halts (cancelling every working order at the broker) or resumes trading.
KILL_SWITCH = ToolAnnotations(
    readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=True
)

Price = Annotated[float | None, Field(gt=0, description="price; omit for none")]


AUTO_PLACES = (
    "On this paper account auto-approval is on (TRADECREW_BROKER__AUTO_APPROVE_PAPER): a "
    "proposal the risk engine approves is PLACED AT ONCE, with no approval step."
)


def register(mcp: FastMCP, desk: Desk, *, places_at_once: bool = False) -> None:
    """The state-changing tools; ``places_at_once``: the account auto-approves (paper with
    ``auto_approve_paper``), so the proposing tools say they place, in hints and words."""
    bulk = BulkActions(desk)
    proposes = PROPOSES_AND_PLACES if places_at_once else PROPOSES

    def described(func: Any, waits: str, places: str) -> str:
        return f"{(func.__doc__ or '').strip()} {places if places_at_once else waits}"

    def propose(request: ProposalRequest) -> dict[str, Any]:
        return proposal_result(desk.propose(request, actor=ACTOR))

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
        """Create a trade proposal; the risk engine decides at once (approve, shrink or veto)."""
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

    mcp.tool(
        annotations=proposes,
        title="Propose trade",
        description=described(
            propose_trade,
            "Nothing is placed: a risk-approved proposal waits for approve_proposal.",
            AUTO_PLACES,
        ),
    )(propose_trade)

    def trade_command(
        text: Annotated[str, Field(min_length=1, max_length=500, description="what to do")],
    ) -> dict[str, Any]:
        """Natural language such as 'buy 10 SPX', 'sell 0.5 lots of EURUSD at 1.0850 with stop
        1.0800', 'close half my XAUUSD', 'cancel all EURUSD orders', 'what's my exposure to
        USD?'."""
        from tradecrew.mcp_server.commands import run_command

        return run_command(desk, bulk, text)

    mcp.tool(
        annotations=proposes,
        title="Trade command",
        description=described(
            trade_command,
            "Returns a proposal for approval or an answer, never an executed order.",
            f"{AUTO_PLACES} That holds for trades and closes it reads; cancels still wait "
            "for approve_proposal.",
        ),
    )(trade_command)

    @mcp.tool(annotations=PLACES, title="Approve proposal")
    async def approve_proposal(
        proposal_id: str, ctx: Context[Any, Any, Any] | None = None
    ) -> dict[str, Any]:
        """Approve a pending proposal (or pending action) for the user: it then goes through
        the risk gate to the broker. The client asks the user to confirm (elicitation); a
        call the user did not confirm fills only where the user allowed that (paper)."""
        if bulk.owns(proposal_id):
            return await bulk.approve_as_user(proposal_id, ctx)
        current = desk.get(proposal_id)
        if current.status is not ProposalStatus.PENDING:
            from tradecrew.desk import DeskError

            raise DeskError(
                f"proposal {proposal_id} is {current.status.value}; only pending proposals "
                "can be approved or rejected"
            )
        answer = await confirm_with_user(ctx, f"Place {current.summary}?")
        if answer is False:
            result = proposal_result(current)
            result.update(status="declined", message="the user declined; still pending")
            return result
        channel = channel_of(answer)
        if channel not in desk.accepted_channels:
            refused = needs_a_person(
                desk.mode,
                f"placing {current.summary}",
                f"tradecrew proposals approve {proposal_id}",
                paper_opt_in=True,
            )
            return {**refused, "proposal_id": proposal_id, "proposal_status": "pending"}
        # The terms the user confirmed: a re-decision while the dialog was open sends nothing.
        shown = current.decision.order_hash if current.decision else None
        return proposal_result(
            desk.approve(proposal_id, actor=actor_of(answer), channel=channel, order_hash=shown)
        )

    @mcp.tool(annotations=REJECTS, title="Reject proposal")
    def reject_proposal(proposal_id: str, reason: str = "") -> dict[str, Any]:
        """Reject a pending proposal (or pending action)."""
        if bulk.owns(proposal_id):
            return bulk.reject(proposal_id, reason)
        return proposal_result(desk.reject(proposal_id, actor=UNCONFIRMED_ACTOR, reason=reason))

    @mcp.tool(annotations=PLACES, title="Cancel order")
    def cancel_order(order_id: str) -> dict[str, Any]:
        """Cancel one working order by its id (works even when trading is halted)."""
        cancelled = desk.cancel_order(order_id, actor=UNCONFIRMED_ACTOR)
        return mark_untrusted(envelope(desk.mode, cancelled))

    def close_position(
        symbol: Annotated[str, Field(min_length=1, max_length=32)],
        fraction: Annotated[float, Field(gt=0, le=1, description="1 closes all, 0.5 half")] = 1.0,
    ) -> dict[str, Any]:
        """Create a proposal that closes all or part of a position."""
        return closing_proposal(desk, symbol, fraction)

    mcp.tool(
        annotations=proposes,
        title="Close position",
        description=described(close_position, "It needs approval.", AUTO_PLACES),
    )(close_position)

    @mcp.tool(annotations=PROPOSES, title="Cancel all orders")
    def cancel_all_orders(symbol: str | None = None) -> dict[str, Any]:
        """Propose cancelling every working order (of one symbol); needs approve_proposal."""
        return bulk.propose_cancel_all(symbol)

    @mcp.tool(annotations=PROPOSES, title="Close all positions")
    def close_all_positions() -> dict[str, Any]:
        """Propose closing every position; needs approve_proposal."""
        return bulk.propose_close_all()

    @mcp.tool(annotations=KILL_SWITCH, title="Kill switch")
    async def set_kill_switch(
        enabled: bool, reason: str, ctx: Context[Any, Any, Any] | None = None
    ) -> dict[str, Any]:
        """On: halt all trading and cancel working orders, at once. Off: resume trading, a
        person's decision: the client asks the user to confirm (elicitation)."""
        from tradecrew.desk import DeskError

        if not reason.strip():
            raise DeskError("a reason is required to change the kill switch")
        # Halting never waits for a confirmation; a bare call is the client's, not the user's.
        bare, client = ApprovalChannel.MCP_UNCONFIRMED, UNCONFIRMED_ACTOR
        if enabled:
            return risk_result(desk.set_kill_switch(True, reason, actor=client, channel=bare))
        state = desk.ledger.get_trading_state()
        if state.state is TradingState.ACTIVE:
            return risk_result(desk.set_kill_switch(False, reason, actor=client, channel=bare))
        answer = await confirm_with_user(
            ctx, f"Resume trading on the {desk.mode.value} account? It is {state.state.value}."
        )
        if answer is False:
            return envelope(
                desk.mode,
                {"status": "declined", "changed": False, "trading_state": state.state.value},
            )
        if answer is None:
            refused = needs_a_person(
                desk.mode,
                f"resuming trading (the desk is {state.state.value})",
                'tradecrew risk kill-switch off --reason "..."',
            )
            return {**refused, "trading_state": state.state.value}
        return risk_result(
            desk.set_kill_switch(
                False, reason, actor=CONFIRMED_ACTOR, channel=ApprovalChannel.MCP_CONFIRMED
            )
        )


def risk_result(status: Any) -> dict[str, Any]:
    """A RiskStatus for the client: the kill-switch reason is whoever set it's text."""
    return mark_untrusted(envelope(status.mode, status))
