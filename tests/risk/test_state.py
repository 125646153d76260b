"""The trading-state machine: anyone escalates, only a human channel de-escalates."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecrew.models import HUMAN_CHANNELS, ApprovalChannel, IllegalTransition, Side, TradingState
from tradecrew.risk import IllegalStateTransition, allows, transition

from .factories import position, proposal

A, R, H = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED
_RANK = {A: 0, R: 1, H: 2}
_NOT_HUMAN = [
    None,
    ApprovalChannel.MCP_UNCONFIRMED,
    ApprovalChannel.AUTO,
    ApprovalChannel.LEGACY_MCP,
    "email",
    "",
]


@pytest.mark.parametrize(("current", "new"), [(A, R), (A, H), (R, H)])
@pytest.mark.parametrize("channel", [None, ApprovalChannel.CLI, ApprovalChannel.MCP_UNCONFIRMED])
def test_escalation_is_allowed_to_anyone(current, new, channel) -> None:
    assert transition(current, new, "system", "loss limit", channel) is new


@pytest.mark.parametrize(("current", "new"), [(R, A), (H, A), (H, R)])
def test_only_a_human_channel_clears_a_tripped_state(current, new) -> None:
    for channel in HUMAN_CHANNELS:
        assert transition(current, new, "alice", "reviewed the losses", channel) is new
    for channel in _NOT_HUMAN:
        with pytest.raises(IllegalStateTransition, match="only a person"):
            transition(current, new, "alice", "timer expired", channel)


@pytest.mark.parametrize("actor", ["alice", "cli", "human", "mcp-user", "Alice Smith"])
def test_a_persons_name_without_a_human_channel_clears_nothing(actor) -> None:
    # The old rule trusted any actor name that was not a known machine's.
    with pytest.raises(IllegalStateTransition, match="only a person"):
        transition(H, A, actor, "resume", ApprovalChannel.MCP_UNCONFIRMED)


@given(
    st.sampled_from(list(TradingState)),
    st.sampled_from(list(TradingState)),
    st.sampled_from([*_NOT_HUMAN, *HUMAN_CHANNELS]),
)
def test_machines_never_lower_the_state(current, new, channel) -> None:
    human = channel in HUMAN_CHANNELS
    try:
        result = transition(current, new, "someone", "because", channel)
    except IllegalStateTransition:
        assert _RANK[new] < _RANK[current] and not human
        return
    assert result is new
    if not human:
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
