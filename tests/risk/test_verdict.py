"""Agent verdicts: veto or shrink, never enlarge, and the hash follows the size."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tradecrew.models import AgentVerdict
from tradecrew.risk import apply_agent_verdict, evaluate, proposal_hash

from .factories import context, proposal

P = proposal(quantity=40_000)
APPROVED = evaluate(P, context())


def test_veto_denies_with_the_agent_reason() -> None:
    d = apply_agent_verdict(APPROVED, AgentVerdict(verdict="veto", reason="NFP in 10 min"), P)
    assert not d.approved
    assert d.approved_quantity == 0
    assert d.reasons == ["vetoed by risk_agent: NFP in 10 min"]
    assert d.order_hash == proposal_hash(P, 0)
    assert d.id != APPROVED.id
    assert d.checks[-1].name == "agent_verdict" and not d.checks[-1].passed


def test_shrink_lowers_the_size_to_the_grid_and_rehashes() -> None:
    d = apply_agent_verdict(APPROVED, AgentVerdict(verdict="shrink", quantity=25_500), P)
    assert d.approved
    assert d.approved_quantity == 25_000
    assert d.order_hash == proposal_hash(P, 25_000)
    assert d.expires_at == APPROVED.expires_at


def test_agent_cannot_enlarge_a_decision() -> None:
    d = apply_agent_verdict(APPROVED, AgentVerdict(verdict="shrink", quantity=90_000), P)
    assert d.approved_quantity == APPROVED.approved_quantity
    assert d.order_hash == APPROVED.order_hash
    assert "ignored" in d.reasons[-1]


@given(st.sampled_from(["approve", "shrink", "veto"]), st.none() | st.floats(1, 1e6))
def test_verdict_never_raises_the_approved_quantity(action, quantity) -> None:
    d = apply_agent_verdict(APPROVED, AgentVerdict(verdict=action, quantity=quantity), P)
    assert d.approved_quantity <= APPROVED.approved_quantity
    assert d.order_hash == proposal_hash(P, d.approved_quantity)
    if not d.approved:
        assert d.approved_quantity == 0


def test_shrink_below_the_instrument_minimum_denies() -> None:
    d = apply_agent_verdict(APPROVED, AgentVerdict(verdict="shrink", quantity=500), P)
    assert not d.approved
    assert "minimum" in d.reasons[-1]


def test_shrink_without_a_quantity_denies() -> None:
    assert not apply_agent_verdict(APPROVED, AgentVerdict(verdict="shrink"), P).approved


def test_approval_of_a_denied_decision_stays_a_denial() -> None:
    denied = evaluate(P, context(kill_switch=True))
    d = apply_agent_verdict(denied, AgentVerdict(verdict="approve", quantity=10_000), P)
    assert not d.approved
    assert d.approved_quantity == 0


def test_verdict_on_another_proposal_denies() -> None:
    other = proposal(quantity=40_000, id="prp_other")
    d = apply_agent_verdict(APPROVED, AgentVerdict(verdict="approve"), other)
    assert not d.approved
    tampered = P.model_copy(update={"stop_loss": 1.0})
    assert not apply_agent_verdict(APPROVED, AgentVerdict(verdict="approve"), tampered).approved


def test_verdict_is_deterministic() -> None:
    v = AgentVerdict(verdict="shrink", quantity=10_000, reason="thin book")
    assert apply_agent_verdict(APPROVED, v, P) == apply_agent_verdict(APPROVED, v, P)


@pytest.mark.parametrize(
    "fields",
    [
        {"verdict": "enlarge"},
        {"verdict": "veto", "extra": 1},
        {"verdict": "shrink", "quantity": "lots"},
    ],
)
def test_malformed_verdict_is_rejected(fields) -> None:
    with pytest.raises(ValidationError):
        AgentVerdict(**fields)
