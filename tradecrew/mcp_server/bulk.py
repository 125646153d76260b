"""Pending actions (cancel one order, cancel all, close all) as their own proposals that need
their own approval: a cancel typed as text waits for approve_proposal like any other change.

They live in the server process and expire quickly: a stale "cancel everything" should never
run by surprise. Each one is audited in the ledger when proposed, approved or rejected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tradecrew.mcp_server.confirm import (
    UNCONFIRMED_ACTOR,
    actor_of,
    channel_of,
    confirm_with_user,
    needs_a_person,
)
from tradecrew.mcp_server.proposals import closing_proposal, closing_size, proposal_result
from tradecrew.mcp_server.schemas import envelope, mark_untrusted
from tradecrew.models import ApprovalChannel, Side, new_id, utcnow

if TYPE_CHECKING:
    from mcp.server.fastmcp import Context

    from tradecrew.desk import Desk

TTL = timedelta(minutes=5)
Kind = Literal["cancel_order", "cancel_all", "close_all"]


@dataclass
class BulkAction:
    id: str
    kind: Kind
    symbol: str | None
    expires_at: datetime
    status: str = "confirmation_required"
    detail: dict[str, Any] = field(default_factory=dict)


class BulkActions:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk
        self._actions: dict[str, BulkAction] = {}

    def owns(self, action_id: str) -> bool:
        return action_id.startswith("act_")

    def describe(self, action_id: str) -> str:
        action = self._get(action_id)
        if action.kind == "cancel_order":
            return f"cancel order {action.detail['orders'][0]}"
        target = f" for {action.symbol}" if action.symbol else ""
        return f"{action.kind.replace('_', ' ')}{target}"

    def _get(self, action_id: str) -> BulkAction:
        from tradecrew.desk import DeskError

        action = self._actions.get(action_id)
        if action is None:
            raise DeskError(f"no bulk action {action_id!r} (they expire after 5 minutes)")
        return action

    def _result(self, action: BulkAction, **extra: Any) -> dict[str, Any]:
        return envelope(
            self._desk.mode,
            {
                "proposal_id": action.id,
                "status": action.status,
                "kind": action.kind,
                "symbol": action.symbol,
                "summary": self.describe(action.id),
                "expires_at": action.expires_at.isoformat(),
                **action.detail,
                **extra,
            },
        )

    def _new(self, kind: Kind, symbol: str | None, detail: dict[str, Any]) -> dict[str, Any]:
        action = BulkAction(new_id("act"), kind, symbol, utcnow() + TTL, detail=detail)
        self._actions[action.id] = action
        self._desk.ledger.audit(
            "mcp", "bulk.proposed", "bulk_action", action.id, None, {"kind": kind, "symbol": symbol}
        )
        return self._result(
            action, next_step="ask the user, then call approve_proposal with this proposal_id"
        )

    def propose_cancel_all(self, symbol: str | None) -> dict[str, Any]:
        from tradecrew.instruments import normalize_symbol

        sym = normalize_symbol(symbol) if symbol else None
        working = [
            o.id for o in self._desk.orders(open_only=True) if sym is None or o.symbol == sym
        ]
        return self._new("cancel_all", sym, {"orders": working})

    def propose_cancel_order(self, order_id: str) -> dict[str, Any]:
        """Cancelling one order by its desk, client or broker id, once approved."""
        from tradecrew.desk import DeskError

        for order in self._desk.orders(open_only=True):
            if order_id in (order.id, order.client_order_id, order.broker_order_id):
                return self._new("cancel_order", order.symbol, {"orders": [order.id]})
        # The id is not quoted back: it is the caller's text, and errors are not wrapped.
        raise DeskError("no working order has that id; get_orders lists them")

    def _held(self) -> dict[str, float]:
        return {p.symbol: p.quantity for p in self._desk.broker.positions() if p.quantity}

    def propose_close_all(self) -> dict[str, Any]:
        return self._new("close_all", None, {"positions": self._held()})

    async def approve_as_user(
        self, action_id: str, ctx: Context[Any, Any, Any] | None
    ) -> dict[str, Any]:
        """Run the action once the user confirmed it in the client. Cancelling needs no
        confirmation where the client cannot ask (it only ever lowers risk), and is then
        recorded as the client's, not the user's; closing places orders, so it takes a
        channel the account accepts, like any approval."""
        action = self._get(action_id)
        self._check_open(action)
        answer = await confirm_with_user(ctx, self._question(action))
        if answer is False:
            return self._result(action, status="declined")
        channel, actor = channel_of(answer), actor_of(answer)
        if action.kind == "close_all" and channel not in self._desk.accepted_channels:
            refused = needs_a_person(
                self._desk.mode,
                "closing every position (propose each close with close_position, then approve "
                "each)",
                "tradecrew proposals approve <proposal_id>",
                paper_opt_in=True,
            )
            return {**refused, "proposal_id": action.id}
        return self.approve(action_id, actor, channel)

    def approve(self, action_id: str, actor: str, channel: ApprovalChannel | str) -> dict[str, Any]:
        action = self._get(action_id)
        self._check_open(action)
        listed: dict[str, float] = action.detail.get("positions", {})
        if action.kind == "close_all" and not _same_book(self._held(), listed):
            # The user confirmed closing the positions listed to them; other orders would
            # be sent now (a position grown, flipped or opened since): nothing is.
            action.status = "expired"
            return self._result(
                action,
                status="changed",
                message="the positions changed since the user confirmed; nothing was closed: "
                "call close_all_positions again",
            )
        action.status = "approved"
        self._desk.ledger.audit(
            actor,
            "bulk.approved",
            "bulk_action",
            action.id,
            None,
            {
                "kind": action.kind,
                "symbol": action.symbol,
                "channel": ApprovalChannel(channel).value,
            },
        )
        if action.kind in ("cancel_order", "cancel_all"):
            if action.kind == "cancel_order":
                done = self._desk.cancel_order(action.detail["orders"][0], actor=actor)
            else:
                done = self._desk.cancel_all(action.symbol, actor=actor)
            action.status = "done"
            # A broker's refusal is its text, not ours.
            return self._result(
                action, cancelled=done.cancelled, **mark_untrusted({"failed": done.failed})
            )
        closing = []
        for symbol, quantity in listed.items():
            proposal = closing_proposal(self._desk, symbol, 1.0)
            if proposal["status"] == "confirmation_required":
                if _closes(self._desk, proposal["proposal_id"], symbol, quantity):
                    proposal = _approve_closing(self._desk, proposal["proposal_id"], actor, channel)
                else:  # the position moved between the check and this proposal
                    proposal = proposal_result(
                        self._desk.reject(
                            proposal["proposal_id"], actor, "not the position the user confirmed"
                        )
                    )
            closing.append(proposal)
        action.status = "done"
        return self._result(action, closing=closing)

    def reject(self, action_id: str, reason: str) -> dict[str, Any]:
        """Drop a pending action; one that already ran (or ended) is refused, unchanged:
        a record that says "rejected" must never stand for something that happened."""
        action = self._get(action_id)
        self._check_open(action)
        action.status = "rejected"
        self._desk.ledger.audit(
            UNCONFIRMED_ACTOR,
            "bulk.rejected",
            "bulk_action",
            action.id,
            None,
            {"reason": reason, "channel": ApprovalChannel.MCP_UNCONFIRMED.value},
        )
        return self._result(action)

    def _check_open(self, action: BulkAction) -> None:
        """Only a pending, unexpired action may be approved or rejected."""
        from tradecrew.desk import DeskError

        if action.status != "confirmation_required":
            raise DeskError(
                f"bulk action {action.id} is already {action.status}; nothing was changed"
            )
        if action.expires_at <= utcnow():
            action.status = "expired"
            raise DeskError(f"bulk action {action.id} has expired; propose it again")

    def _question(self, action: BulkAction) -> str:
        """What the client asks the user: for "close all", every position and quantity."""
        where = f"on the {self._desk.mode.value} account"
        if action.kind != "close_all":
            return f"Run {self.describe(action.id)} {where}?"
        held = action.detail.get("positions", {})
        if not held:
            return f"Close all positions {where}? There are none open now."
        lines = ", ".join(
            f"{'sell' if qty > 0 else 'buy'} {abs(qty):g} {symbol}" for symbol, qty in held.items()
        )
        return f"Close every position {where}: {lines}?"


def _same_book(held: dict[str, float], listed: dict[str, float]) -> bool:
    return held.keys() == listed.keys() and all(
        math.isclose(held[s], listed[s], rel_tol=1e-9, abs_tol=1e-12) for s in held
    )


def _closes(desk: Desk, proposal_id: str, symbol: str, listed: float) -> bool:
    """The closing proposal sells (buys) exactly the long (short) position the user saw."""
    proposal = desk.get(proposal_id).proposal
    side = Side.SELL if listed > 0 else Side.BUY
    step = desk.instrument(symbol).quantity_step
    whole = closing_size(listed, 1.0, step)
    return proposal.side is side and abs(proposal.quantity - whole) < step / 2


def _approve_closing(
    desk: Desk, proposal_id: str, actor: str, channel: ApprovalChannel | str
) -> dict[str, Any]:
    """The user approved "close all": each closing proposal still passes the gate."""
    return proposal_result(desk.approve(proposal_id, actor=actor, channel=channel))
