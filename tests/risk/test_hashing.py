"""The order hash binds exactly one order: equal orders agree, any change disagrees."""

from __future__ import annotations

import hashlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradecrew.models import OrderType, Side
from tradecrew.risk import order_hash, proposal_hash

from .factories import proposal

BASE = ("EURUSD", Side.BUY, 10_000.0, OrderType.LIMIT, 1.1, None, 1.08, 1.15)


def test_hash_is_a_sha256_hex_digest() -> None:
    digest = order_hash(*BASE)
    assert len(digest) == len(hashlib.sha256().hexdigest())
    int(digest, 16)


def test_float_noise_does_not_change_the_hash() -> None:
    noisy = list(BASE)
    noisy[2] = 9_999.999999999999
    noisy[4] = 0.1 + 1.0000000000000002
    assert order_hash(*noisy) == order_hash(*BASE)


def test_enum_and_text_spellings_hash_alike() -> None:
    assert order_hash("eurusd ", "buy", 10_000, "limit", 1.1, None, 1.08, 1.15) == order_hash(*BASE)


@pytest.mark.parametrize(
    ("index", "value"),
    [
        (0, "GBPUSD"),
        (1, Side.SELL),
        (2, 11_000.0),
        (3, OrderType.STOP_LIMIT),
        (4, 1.1001),
        (5, 1.2),
        (6, None),
        (7, 1.16),
    ],
)
def test_changing_any_field_changes_the_hash(index: int, value) -> None:
    changed = list(BASE)
    changed[index] = value
    assert order_hash(*changed) != order_hash(*BASE)


@given(st.floats(1e-4, 1e8), st.floats(1e-4, 1e8))
def test_different_quantities_hash_differently(a: float, b: float) -> None:
    same = round(a, 10) == round(b, 10)
    assert (
        order_hash("X", "buy", a, "market", None, None, None, None)
        == order_hash("X", "buy", b, "market", None, None, None, None)
    ) is same


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_nonfinite_numbers_cannot_be_hashed(bad: float) -> None:
    with pytest.raises(ValueError, match="quantity"):
        order_hash("EURUSD", "buy", bad, "market", None, None, None, None)


def test_unknown_side_cannot_be_hashed() -> None:
    with pytest.raises(ValueError):
        order_hash("EURUSD", "long", 1, "market", None, None, None, None)


def test_proposal_hash_matches_order_hash_at_any_quantity() -> None:
    p = proposal(quantity=20_000, stop_loss=1.05)
    assert proposal_hash(p) == order_hash("EURUSD", "buy", 20_000, "market", None, None, 1.05, None)
    assert proposal_hash(p, 5_000) == order_hash(
        "EURUSD", "buy", 5_000, "market", None, None, 1.05, None
    )
