"""The desk's trading-state machine: ACTIVE, REDUCING (only shrink), HALTED (kill switch).

Escalation (a loss trip, the kill switch) may come from anyone; de-escalation only through a
channel a person drives (``HUMAN_CHANNELS``), so a tripped desk never re-arms itself on a
timer, a restart or a model's tool call.
"""

from __future__ import annotations

from tradecrew.models import (
    ApprovalChannel,
    IllegalTransition,
    Position,
    ProposalRequest,
    TradingState,
)
from tradecrew.risk.approvals import is_human_channel

_A, _R, _H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED

#: (from, to) -> True when only a human may make the move.
STATE_TRANSITIONS: dict[tuple[TradingState, TradingState], bool] = {
    (_A, _R): False,
    (_A, _H): False,
    (_R, _H): False,
    (_R, _A): True,
    (_H, _A): True,
    (_H, _R): True,
}


class IllegalStateTransition(IllegalTransition):
    """The trading state was asked to move in a way the state machine forbids."""


def transition(
    current: TradingState,
    new: TradingState,
    actor: str,
    reason: str,
    channel: ApprovalChannel | str | None = None,
) -> TradingState:
    """The new state if the move from ``current`` to ``new`` is allowed; else raise.

    A move back towards trading needs ``channel`` on the human allow-list; ``actor`` only
    names who it was, for the audit. Staying in the same state is a no-op (a second trip
    while REDUCING changes nothing).
    """
    current, new = TradingState(current), TradingState(new)
    if not reason or not reason.strip():
        raise IllegalStateTransition("a trading-state change needs a reason for the audit log")
    if current is new:
        return current
    human_only = STATE_TRANSITIONS.get((current, new))
    if human_only is None:
        raise IllegalStateTransition(f"trading state cannot go from {current.value} to {new.value}")
    if human_only and not is_human_channel(channel):
        via = "no channel" if channel is None else f"channel {str(channel)!r}"
        raise IllegalStateTransition(
            f"only a person may move the desk from {current.value} to {new.value} (the CLI or a "
            f"confirmed MCP elicitation); {actor!r} came through {via}"
        )
    return new


def reduces_position(proposal: ProposalRequest, position: Position | float | None) -> bool:
    """True when the order only shrinks an existing position (opposite side, not past flat)."""
    held = _held(position)
    if held == 0:
        return False
    return proposal.side.sign != (1 if held > 0 else -1) and proposal.quantity <= abs(held)


def allows(
    state: TradingState, proposal: ProposalRequest, position: Position | float | None
) -> tuple[bool, str]:
    """Whether ``state`` lets this order through, and why (REDUCING: only reductions)."""
    state = TradingState(state)
    if state is TradingState.HALTED:
        return False, "trading is halted: no order may be submitted"
    if state is TradingState.REDUCING:
        if reduces_position(proposal, position):
            return True, "reducing: order shrinks the existing position"
        return False, (
            f"trading is reducing: only orders that shrink an existing position are allowed, "
            f"{proposal.side.value} {proposal.quantity:g} {proposal.symbol} against a position "
            f"of {_held(position):g} is not one"
        )
    return True, "trading is active"


def _held(position: Position | float | None) -> float:
    if position is None:
        return 0.0
    if isinstance(position, Position):
        return float(position.quantity)
    return float(position)
