"""The engine as a whole: folding checks into one decision, fail-closed, never enlarging."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrew.instruments import CATALOGUE
from tradecrew.models import Proposal, TradingState
from tradecrew.risk import CHECKS, RiskContext, evaluate, order_hash, proposal_hash

from .factories import NOW, context, limits, proposal
from .strategies import desks

CALM = {
    "kill_switch": False,
    "trading_state": TradingState.ACTIVE,
    "market_open": True,
    "orders_last_minute": 0,
    "in_blackout": False,
    "signal_confidence": None,
}
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _is_step_multiple(quantity: float, step: float) -> bool:
    ratio = quantity / step
    return abs(ratio - round(ratio)) < 1e-6


@PROPERTY
@given(desks())
def test_decision_never_exceeds_the_request_and_denials_carry_every_failure(desk) -> None:
    p, ctx = desk
    d = evaluate(p, ctx)
    assert 0 <= d.approved_quantity <= p.quantity
    assert d.requested_quantity == p.quantity
    failing = [c for c in d.checks if not c.passed]
    if d.approved:
        assert not failing
        assert d.approved_quantity > 0
    else:
        assert d.approved_quantity == 0
        assert d.reasons
        for check in failing:
            assert any(r.startswith(f"{check.name}: ") and check.reason in r for r in d.reasons)


@PROPERTY
@given(desks(**CALM))
def test_approved_size_fits_every_cap_and_the_instrument_grid(desk) -> None:
    p, ctx = desk
    d = evaluate(p, ctx)
    if not d.approved:
        return
    inst = ctx.instrument
    assert inst is not None
    assert d.approved_quantity >= inst.min_quantity
    assert _is_step_multiple(d.approved_quantity, inst.quantity_step)
    for check in d.checks:
        if check.max_quantity is not None:
            assert d.approved_quantity <= check.max_quantity
    assert d.order_hash == proposal_hash(p, d.approved_quantity)


@PROPERTY
@given(desks(**CALM))
def test_resubmitting_the_approved_size_is_approved_unchanged(desk) -> None:
    p, ctx = desk
    first = evaluate(p, ctx)
    if not first.approved:
        return
    again = evaluate(p.model_copy(update={"quantity": first.approved_quantity}), ctx)
    assert again.approved
    assert again.approved_quantity == first.approved_quantity
    assert again.order_hash == first.order_hash


@PROPERTY
@given(desks())
def test_equal_inputs_give_equal_decisions(desk) -> None:
    p, ctx = desk
    first = evaluate(p, ctx)
    second = evaluate(p.model_copy(deep=True), ctx.model_copy(deep=True))
    assert first == second
    third = evaluate(p, ctx, decision_id="rdc_given")
    assert third.id == "rdc_given"
    assert third.model_dump(exclude={"id"}) == first.model_dump(exclude={"id"})


@PROPERTY
@given(desks(trading_state=TradingState.HALTED))
def test_halted_desk_denies_everything(desk) -> None:
    p, ctx = desk
    d = evaluate(p, ctx)
    assert not d.approved
    assert not next(c for c in d.checks if c.name == "trading_state").passed
    assert d.trading_state is TradingState.HALTED


@PROPERTY
@given(desks(**{**CALM, "trading_state": TradingState.REDUCING}))
def test_reducing_desk_approves_only_reductions(desk) -> None:
    p, ctx = desk
    d = evaluate(p, ctx)
    if d.approved:
        held = sum(x.quantity for x in ctx.positions if x.symbol == p.symbol)
        assert held != 0
        assert math.copysign(1, held) != p.side.sign
        assert d.approved_quantity <= abs(held)


@PROPERTY
@given(desks(kill_switch=True))
def test_kill_switch_denies_everything(desk) -> None:
    p, ctx = desk
    d = evaluate(p, ctx)
    assert not d.approved
    assert any(r.startswith("kill_switch:") for r in d.reasons)
    assert d.trading_state is TradingState.HALTED


def test_every_named_check_is_reported_once_in_order() -> None:
    d = evaluate(proposal(), context())
    names = [c.name for c in d.checks]
    assert names == [*CHECKS, "shrink_ratio", "min_quantity"]
    assert {
        "kill_switch",
        "trading_state",
        "instrument_known",
        "price_sanity",
        "fat_finger",
        "max_order_notional",
        "max_position",
        "gross_exposure",
        "net_exposure",
        "currency_exposure",
        "daily_loss",
        "drawdown",
        "correlation",
        "signal_confidence",
        "rate_limit",
        "market_hours",
        "blackout",
        "sizing",
    } <= set(names)


def test_calm_order_is_approved_in_full_and_bound_to_its_hash() -> None:
    p = proposal(quantity=10_000)
    d = evaluate(p, context())
    assert d.approved, d.reasons
    assert d.approved_quantity == 10_000
    assert d.proposal_id == "prp_test"
    assert d.order_hash == order_hash("EURUSD", "buy", 10_000, "market", None, None, None, None)
    assert d.decided_at == NOW
    assert d.expires_at == NOW + timedelta(seconds=300)


def test_approval_expiry_follows_the_configured_ttl() -> None:
    d = evaluate(proposal(), context(limits=limits(approval_ttl_seconds=42)))
    assert d.expires_at - d.decided_at == timedelta(seconds=42)


def test_shrunk_order_hash_binds_the_approved_not_the_requested_size() -> None:
    p = proposal(quantity=100_000)
    d = evaluate(p, context(limits=limits(max_order_notional=50_000)))
    assert d.approved
    # 50,000 USD at 1.10 is 45,454 EUR, floored to the 1,000-unit step.
    assert d.approved_quantity == 45_000
    assert d.order_hash == proposal_hash(p, 45_000)
    assert d.order_hash != proposal_hash(p, 100_000)
    assert any(r.startswith("max_order_notional:") for r in d.reasons)


def test_unknown_instrument_is_denied() -> None:
    p = Proposal(id="prp_x", symbol="ZZZUSD", side="buy", quantity=10, created_at=NOW)
    d = evaluate(p, context(instrument=None))
    assert not d.approved
    assert any(r.startswith("instrument_known:") for r in d.reasons)


def test_instrument_of_another_symbol_is_denied() -> None:
    d = evaluate(proposal("EURUSD"), context(instrument=CATALOGUE["GBPUSD"]))
    assert not d.approved
    assert any("does not match" in r for r in d.reasons)


def test_size_below_the_instrument_minimum_is_denied() -> None:
    # 500 EUR is half of EURUSD's 1,000-unit minimum.
    d = evaluate(proposal(quantity=500), context())
    assert not d.approved
    assert any(r.startswith("min_quantity:") for r in d.reasons)


def test_shrink_below_the_minimum_names_the_binding_check() -> None:
    d = evaluate(proposal(quantity=10_000), context(limits=limits(max_order_notional=500)))
    assert not d.approved
    reason = next(r for r in d.reasons if r.startswith("min_quantity:"))
    assert "max_order_notional" in reason


def test_loss_trip_is_reported_as_the_state_the_desk_must_enter() -> None:
    ctx = context(account=context().account.model_copy(update={"equity": 96_000.0}))
    d = evaluate(proposal(), ctx)
    assert not d.approved
    assert d.trading_state is TradingState.REDUCING


class _ExplodingCount(int):
    def __add__(self, other: object) -> int:
        raise RuntimeError("clock feed lost")


class _ExplodingDict(dict):
    def get(self, key, default=None):
        raise KeyError("correlation store unavailable")


class _BrokenEquity(RiskContext):
    @property
    def current_equity(self) -> float:
        raise ArithmeticError("equity feed returned garbage")


def test_check_that_raises_denies_with_its_own_name_and_message() -> None:
    ctx = context().model_copy(update={"orders_last_minute": _ExplodingCount(0)})
    d = evaluate(proposal(), ctx)
    assert not d.approved
    rate = next(c for c in d.checks if c.name == "rate_limit")
    assert not rate.passed
    assert "clock feed lost" in rate.reason
    assert [c.name for c in d.checks] == [*CHECKS, "shrink_ratio", "min_quantity"]
    assert all(c.passed for c in d.checks if c.name != "rate_limit")


def test_correlation_store_that_raises_denies() -> None:
    ctx = context(positions=[]).model_copy(
        update={
            "correlations": _ExplodingDict(),
            "positions": context(
                positions=[{"symbol": "GBPUSD", "quantity": 1000, "average_price": 1.2}]
            ).positions,
        }
    )
    d = evaluate(proposal(), ctx)
    assert not d.approved
    assert "correlation store unavailable" in next(
        c.reason for c in d.checks if c.name == "correlation"
    )


def test_context_whose_equity_raises_denies_every_check_that_needs_it() -> None:
    ctx = _BrokenEquity(**context(atr=0.01).model_dump())
    d = evaluate(proposal(), ctx)
    assert not d.approved
    failed = {c.name for c in d.checks if not c.passed}
    assert {"daily_loss", "drawdown", "sizing"} <= failed
    assert all("equity feed returned garbage" in c.reason for c in d.checks if not c.passed)


@pytest.mark.parametrize("field", ["bid", "ask", "last"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 0.0, -1.1])
def test_bad_quote_price_denies(field: str, bad: float) -> None:
    ctx = context()
    ctx = ctx.model_copy(update={"quote": ctx.quote.model_copy(update={field: bad})})
    d = evaluate(proposal(), ctx)
    assert not d.approved
    assert any(r.startswith("price_sanity:") for r in d.reasons)


@pytest.mark.parametrize("bad", [math.nan, math.inf, 0.0, -1.0])
def test_bad_last_price_denies(bad: float) -> None:
    d = evaluate(proposal(), context(last_price=bad))
    assert not d.approved
    assert any(r.startswith("price_sanity:") for r in d.reasons)


@pytest.mark.parametrize(
    "overrides",
    [
        {"equity": math.nan},
        {"start_of_day_equity": math.nan},
        {"peak_equity": math.nan},
        {"equity": -5.0},
        {"prices": {"USDJPY": math.nan}},
        {"atr": math.nan},
        {"atr": -0.01},
    ],
    ids=lambda o: f"{next(iter(o))}={next(iter(o.values()))}",
)
def test_nan_or_nonsense_equity_and_market_data_deny(overrides: dict) -> None:
    d = evaluate(proposal(), context(**overrides))
    assert not d.approved
    assert d.approved_quantity == 0


def test_proposal_smuggling_nan_past_validation_is_denied() -> None:
    p = Proposal.model_construct(**{**proposal().model_dump(), "quantity": math.nan})
    d = evaluate(p, context())
    assert not d.approved
    assert any(r.startswith("price_sanity:") and "quantity" in r for r in d.reasons)
    assert d.order_hash == proposal_hash(p, 0.0)


def test_malformed_proposal_object_is_denied_not_raised() -> None:
    p = Proposal.model_construct(**{**proposal().model_dump(), "side": "sideways"})
    d = evaluate(p, context())
    assert not d.approved
    assert [c.name for c in d.checks] == ["engine"]
    assert d.order_hash == ""
    assert d.expires_at == NOW


def test_context_rejects_a_naive_clock() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        context(now=NOW.replace(tzinfo=None))


@given(st.sampled_from(["EURUSD", "GBPUSD", "XAUUSD", "AAPL"]))
@settings(max_examples=10, deadline=None)
def test_no_price_at_all_denies(symbol: str) -> None:
    inst = CATALOGUE[symbol]
    p = proposal(symbol, quantity=inst.min_quantity * 10)
    d = evaluate(p, context(symbol, quote=None, last_price=None))
    assert not d.approved
    assert any("no quote or last price" in r for r in d.reasons)
