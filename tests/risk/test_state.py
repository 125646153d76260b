"""The trading-state machine: anyone escalates, only a human de-escalates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecrew.models import IllegalTransition, Side, TradingState
from tradecrew.risk import IllegalStateTransition, allows, transition
from tradecrew.risk.state import is_human

from .factories import position, proposal

A, R, H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
_RANK = {A: 0, R: 1, H: 2}


@pytest.mark.parametrize(("current", "new"), [(A, R), (A, H), (R, H)])
@pytest.mark.parametrize("actor", ["system", "alice"])
def test_escalation_is_allowed_to_anyone(current, new, actor) -> None:
    assert transition(current, new, actor, "loss limit") is new


@pytest.mark.parametrize(("current", "new"), [(R, A), (H, A), (H, R)])
def test_only_a_human_clears_a_tripped_state(current, new) -> None:
    assert transition(current, new, "alice", "reviewed the losses") is new
    for machine in ("system", "SYSTEM", "timer", "agent:risk", "crew", ""):
        with pytest.raises(IllegalStateTransition, match="only a human"):
            transition(current, new, machine, "timer expired")


@given(
    st.sampled_from(list(TradingState)),
    st.sampled_from(list(TradingState)),
    st.sampled_from(["system", "scheduler", "agent:risk", "bob", "carol"]),
)
def test_machines_never_lower_the_state(current, new, actor) -> None:
    try:
        result = transition(current, new, actor, "because")
    except IllegalStateTransition:
        assert _RANK[new] < _RANK[current] and not is_human(actor)
        return
    assert result is new
    if not is_human(actor):
        assert _RANK[new] >= _RANK[current]


def test_staying_in_place_is_a_no_op() -> None:
    assert transition(R, R, "system", "tripped again") is R


def test_a_change_without_a_reason_is_refused() -> None:
    with pytest.raises(IllegalStateTransition, match="reason"):
        transition(A, H, "alice", "  ")


def test_illegal_state_transition_is_an_illegal_transition() -> None:
    assert issubclass(IllegalStateTransition, IllegalTransition)


def test_halted_allows_nothing() -> None:
    ok, reason = allows(H, proposal(side="sell"), position("EURUSD", 50_000))
    assert not ok
    assert "halted" in reason


@pytest.mark.parametrize(
    ("held", "side", "quantity", "ok"),
    [
        (50_000, Side.SELL, 20_000, True),
        (50_000, Side.SELL, 50_000, True),
        (50_000, Side.SELL, 60_000, False),  # would flip short
        (50_000, Side.BUY, 10_000, False),
        (-50_000, Side.BUY, 10_000, True),
        (0, Side.SELL, 10_000, False),
        (None, Side.BUY, 10_000, False),
    ],
)
def test_reducing_allows_only_orders_that_shrink_the_position(held, side, quantity, ok) -> None:
    pos = None if held is None else position("EURUSD", held)
    assert allows(R, proposal(side=side, quantity=quantity), pos)[0] is ok
    assert allows(R, proposal(side=side, quantity=quantity), held)[0] is ok


def test_active_allows_anything() -> None:
    assert allows(A, proposal(), None) == (True, "trading is active")
