"""The desk's trading-state machine: ACTIVE, REDUCING (only shrink), HALTED (kill switch).

Escalation (a loss trip, the kill switch) may come from anyone; de-escalation only from a
human, so a tripped desk never re-arms itself on a timer or a restart.
"""

from __future__ import annotations

from tradecrew.models import IllegalTransition, Position, ProposalRequest, TradingState

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

#: Actors that are machines; prefixes such as ``agent:risk`` count too.
MACHINE_ACTORS = frozenset({"system", "timer", "scheduler", "engine", "crew", "agent", "optimizer"})


class IllegalStateTransition(IllegalTransition):
    """The trading state was asked to move in a way the state machine forbids."""


def is_human(actor: str) -> bool:
    """True for a named person; machines (``system``, ``agent:risk``...) are not."""
    name = actor.strip().lower()
    if not name:
        return False
    return name.split(":", 1)[0] not in MACHINE_ACTORS


def transition(current: TradingState, new: TradingState, actor: str, reason: str) -> TradingState:
    """The new state if ``actor`` may move the desk from ``current`` to ``new``; else raise.

    Staying in the same state is a no-op (a second trip while REDUCING changes nothing).
    """
    current, new = TradingState(current), TradingState(new)
    if not reason or not reason.strip():
        raise IllegalStateTransition("a trading-state change needs a reason for the audit log")
    if current is new:
        return current
    human_only = STATE_TRANSITIONS.get((current, new))
    if human_only is None:
        raise IllegalStateTransition(f"trading state cannot go from {current.value} to {new.value}")
    if human_only and not is_human(actor):
        raise IllegalStateTransition(
            f"only a human may move the desk from {current.value} to {new.value}; "
            f"actor {actor!r} is not one"
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
