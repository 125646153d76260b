"""Asking the user to confirm through the MCP client (elicitation), and what a refusal
says when no person confirmed.

Only an elicitation the user accepted is a person's approval through MCP: a tool call by
itself may be the model's alone."""

from __future__ import annotations

from typing import Any

from mcp.server.fastmcp import Context
from pydantic import BaseModel, Field

from tradecrew.mcp_server.schemas import envelope
from tradecrew.models import AccountMode, ApprovalChannel


class Confirm(BaseModel):
    """What the client asks the user before an approval."""

    confirm: bool = Field(description="yes, do it now")


async def confirm_with_user(ctx: Context[Any, Any, Any] | None, message: str) -> bool | None:
    """True/False when the user answered through the client, None when it cannot ask."""
    if ctx is None:
        return None
    params = ctx.request_context.session.client_params
    if params is None or params.capabilities.elicitation is None:
        return None
    answer = await ctx.elicit(message=message, schema=Confirm)
    return answer.action == "accept" and bool(answer.data and answer.data.confirm)


#: Who the ledger records for an MCP call: the user only once they confirmed it in the
#: client; a bare tool call may be the model's alone, so it is recorded as the client's.
CONFIRMED_ACTOR = "mcp-user"
UNCONFIRMED_ACTOR = "mcp-client"


def actor_of(answer: bool | None) -> str:
    """The actor an MCP call is recorded under: a person's name only for a confirmed one."""
    return CONFIRMED_ACTOR if answer else UNCONFIRMED_ACTOR


def channel_of(answer: bool | None) -> ApprovalChannel:
    """The channel an MCP approval came through: a person's only if they confirmed it."""
    return ApprovalChannel.MCP_CONFIRMED if answer else ApprovalChannel.MCP_UNCONFIRMED


def needs_a_person(
    mode: AccountMode, subject: str, cli: str, *, paper_opt_in: bool = False
) -> dict[str, Any]:
    """A refused MCP approval or resumption: nothing changed; say what the user can do."""
    why = (
        "on a live account only a person approves"
        if mode is AccountMode.LIVE
        else "this client did not ask you to confirm (it does not support elicitation)"
    )
    options = [
        "confirm it in an MCP client that supports elicitation (the client then asks you)",
        f"or run `{cli}` in a terminal",
    ]
    if paper_opt_in and mode is AccountMode.PAPER:
        options.append(
            "or, for paper trading only, restart the server with "
            "TRADECREW_MCP__APPROVE_WITHOUT_CONFIRMATION=true"
        )
    return envelope(
        mode,
        {
            "status": "person_required",
            "changed": False,
            "message": f"{subject} needs a person: {why}; nothing was changed",
            "next_step": "; ".join(options),
        },
    )
