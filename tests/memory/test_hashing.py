"""The offline hashing embedding: deterministic, unit length, similar texts closer."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.memory.hashing import DEFAULT_DIM, hash_embed, tokens


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=200), min_size=1, max_size=5))
def test_every_text_gets_a_finite_unit_vector(texts: list[str]) -> None:
    out = hash_embed(texts)
    assert out.shape == (len(texts), DEFAULT_DIM)
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=300))
def test_same_text_gives_bit_identical_vector(text: str) -> None:
    a, b = hash_embed([text, text])
    assert a.tobytes() == b.tobytes()


def test_vectors_are_identical_in_another_process() -> None:
    text = "Gold trending_bull breakout above 2,300 with RSI 68"
    code = (
        "from tradecrew.memory.hashing import hash_embed;"
        f"import sys; sys.stdout.write(hash_embed([{text!r}]).tobytes().hex())"
    )
    # A different PYTHONHASHSEED would change Python's own hash(); ours must not depend on it.
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert other.stdout == hash_embed([text]).tobytes().hex()


def test_shared_words_make_texts_closer() -> None:
    base, near, far = hash_embed(
        [
            "gold breaks out above resistance on strong momentum",
            "gold breaks out on momentum",
            "the euro is stuck in a quiet range before the central bank",
        ]
    )
    assert float(base @ near) > float(base @ far)


def test_word_order_matters_through_bigrams() -> None:
    a, b = hash_embed(["dollar beats gold", "gold beats dollar"])
    # Same unigrams, different bigrams: close but not identical.
    assert 0.0 < float(a @ b) < 0.999


def test_tokens_keep_regime_names_and_decimals_whole() -> None:
    assert tokens("XAUUSD trending_bull at 2.5%") == ["xauusd", "trending_bull", "at", "2.5"]


@pytest.mark.parametrize("dim", [0, 15, 10_000, 3.5, True])
def test_unusable_dimension_is_refused(dim: object) -> None:
    with pytest.raises(ValueError, match="dim"):
        hash_embed(["x"], dim=dim)  # type: ignore[arg-type]


def test_a_bare_string_or_non_text_is_refused() -> None:
    with pytest.raises(TypeError):
        hash_embed("not a list")
    with pytest.raises(TypeError):
        hash_embed(["ok", 3])  # type: ignore[list-item]
