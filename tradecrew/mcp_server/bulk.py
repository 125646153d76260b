"""Bulk actions (cancel all, close all) as their own proposals that need their own approval.

They live in the server process and expire quickly: a stale "cancel everything" should never
run by surprise. Each one is audited in the ledger when proposed, approved or rejected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from tradecrew.mcp_server.schemas import envelope
from tradecrew.models import new_id, utcnow

if TYPE_CHECKING:
    from tradecrew.desk import Desk

TTL = timedelta(minutes=5)


@dataclass
class BulkAction:
    id: str
    kind: Literal["cancel_all", "close_all"]
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

    def _new(
        self, kind: Literal["cancel_all", "close_all"], symbol: str | None, detail: dict[str, Any]
    ) -> dict[str, Any]:
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

    def propose_close_all(self) -> dict[str, Any]:
        held = {p.symbol: p.quantity for p in self._desk.broker.positions() if p.quantity}
        return self._new("close_all", None, {"positions": held})

    def approve(self, action_id: str, actor: str) -> dict[str, Any]:
        from tradecrew.desk import DeskError
        from tradecrew.mcp_server.trade_tools import closing_proposal

        action = self._get(action_id)
        if action.status != "confirmation_required":
            raise DeskError(f"bulk action {action_id} is already {action.status}")
        if action.expires_at <= utcnow():
            action.status = "expired"
            raise DeskError(f"bulk action {action_id} has expired; propose it again")
        action.status = "approved"
        self._desk.ledger.audit(
            actor,
            "bulk.approved",
            "bulk_action",
            action.id,
            None,
            {"kind": action.kind, "symbol": action.symbol},
        )
        if action.kind == "cancel_all":
            done = self._desk.cancel_all(action.symbol, actor=actor)
            action.status = "done"
            return self._result(action, cancelled=done.cancelled, failed=done.failed)
        closing = []
        for symbol in action.detail.get("positions", {}):
            proposal = closing_proposal(self._desk, symbol, 1.0)
            if proposal["status"] == "confirmation_required":
                proposal = _approve_closing(self._desk, proposal["proposal_id"], actor)
            closing.append(proposal)
        action.status = "done"
        return self._result(action, closing=closing)

    def reject(self, action_id: str, reason: str) -> dict[str, Any]:
        action = self._get(action_id)
        action.status = "rejected"
        self._desk.ledger.audit(
            "mcp-user", "bulk.rejected", "bulk_action", action.id, None, {"reason": reason}
        )
        return self._result(action)


def _approve_closing(desk: Desk, proposal_id: str, actor: str) -> dict[str, Any]:
    """The user approved "close all": each closing proposal still passes the gate."""
    from tradecrew.mcp_server.trade_tools import proposal_result

    return proposal_result(desk.approve(proposal_id, actor=actor, channel="mcp"))
