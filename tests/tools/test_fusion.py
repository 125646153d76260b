from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tradecrew.models import Direction
from tradecrew.tools.fusion import ComponentInput, fuse

W = {"trend": 0.30, "momentum": 0.25, "regime": 0.20, "volume": 0.10, "sentiment": 0.15}


def c(name: str, score: float, confidence: float = 1.0, detail: str = "") -> ComponentInput:
    return ComponentInput(name=name, score=score, confidence=confidence, detail=detail)


def test_weighted_sum_contributions_and_confidence_by_hand() -> None:
    sig = fuse("eurusd", [c("trend", 0.5, 0.8), c("momentum", -0.2, 0.6)], W, neutral_band=0.1)
    # Weights renormalise over the two present: 0.30/0.55 and 0.25/0.55.
    w_t, w_m = 0.30 / 0.55, 0.25 / 0.55
    score = w_t * 0.5 + w_m * -0.2
    assert sig.symbol == "EURUSD"
    assert sig.score == pytest.approx(score)
    assert sig.strength == pytest.approx(abs(score))
    assert sig.direction is Direction.LONG
    by = {s.name: s for s in sig.components}
    assert by["trend"].weight == pytest.approx(w_t) and by["momentum"].weight == pytest.approx(w_m)
    assert by["trend"].contribution == pytest.approx(w_t * 0.5)
    assert by["momentum"].contribution == pytest.approx(w_m * -0.2)
    agreement = abs(score) / (w_t * 0.5 + w_m * 0.2)
    assert sig.confidence == pytest.approx((w_t * 0.8 + w_m * 0.6) * agreement)


def test_all_components_present_use_the_configured_weights_as_given() -> None:
    scores = {"trend": 1.0, "momentum": 0.5, "regime": -0.5, "volume": 0.0, "sentiment": 1.0}
    sig = fuse("X", [c(k, v) for k, v in scores.items()], W, neutral_band=0.0)
    assert sig.score == pytest.approx(0.30 + 0.125 - 0.10 + 0.0 + 0.15)
    assert sum(s.weight for s in sig.components) == pytest.approx(1.0)


def test_unknown_component_takes_no_part_and_says_why() -> None:
    with_unknown = fuse("X", [c("trend", 0.4), c("astrology", -1.0, detail="moon")], W, 0.1)
    alone = fuse("X", [c("trend", 0.4)], W, 0.1)
    assert with_unknown.score == pytest.approx(alone.score) == pytest.approx(0.4)
    extra = next(s for s in with_unknown.components if s.name == "astrology")
    assert extra.weight == 0.0 and extra.contribution == 0.0
    assert "moon" in extra.detail and "no weight configured" in extra.detail


def test_nan_scores_are_excluded_not_propagated() -> None:
    sig = fuse("X", [c("trend", math.nan), c("momentum", -0.6, 0.5)], W, 0.1)
    assert sig.score == pytest.approx(-0.6) and sig.direction is Direction.SHORT
    nan_part = next(s for s in sig.components if s.name == "trend")
    assert nan_part.score == 0.0 and nan_part.weight == 0.0 and "NaN" in nan_part.detail
    assert sig.confidence == pytest.approx(0.5)
    everything_nan = fuse("X", [c("trend", math.nan)], W, 0.1)
    assert everything_nan.score == 0.0 and everything_nan.direction is Direction.FLAT
    assert everything_nan.confidence == 0.0


def test_neutral_band_makes_small_scores_flat_but_keeps_their_strength() -> None:
    small = fuse("X", [c("trend", 0.05)], W, neutral_band=0.1)
    assert small.direction is Direction.FLAT and small.strength == pytest.approx(0.05)
    at_band = fuse("X", [c("trend", 0.1)], W, neutral_band=0.1)
    assert at_band.direction is Direction.LONG  # "below the band is flat"
    assert fuse("X", [c("trend", -0.3)], W, neutral_band=0.1).direction is Direction.SHORT
    assert fuse("X", [c("trend", 0.0)], W, neutral_band=0.0).direction is Direction.FLAT


def test_cancelling_votes_have_zero_confidence() -> None:
    sig = fuse("X", [c("trend", 0.5), c("momentum", -0.6)], {"trend": 1.0, "momentum": 1.0}, 0.0)
    assert sig.score == pytest.approx(-0.05)
    assert sig.confidence == pytest.approx(0.05 / 0.55)


def test_vetoes_are_recorded_and_the_direction_is_kept() -> None:
    ts = datetime(2024, 7, 5, 12, tzinfo=UTC)
    sig = fuse(
        "EURUSD",
        [c("trend", 0.8)],
        W,
        0.1,
        vetoes=["correlation breach: DXY -0.93"],
        risk_reduction=0.5,
        timestamp=ts,
    )
    assert sig.direction is Direction.LONG
    assert sig.vetoes == ["correlation breach: DXY -0.93"]
    assert sig.risk_reduction == 0.5 and sig.timestamp == ts


def test_no_components_give_a_flat_signal() -> None:
    sig = fuse("X", [], W, 0.1)
    assert sig.direction is Direction.FLAT and sig.score == 0.0 and sig.confidence == 0.0


def test_weights_and_band_default_to_the_built_in_ones_never_the_process_settings(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tools take their settings from their caller: what the process is configured with
    reaches ``fuse`` only when the caller passes it."""
    from tradecrew.config import get_settings
    from tradecrew.config_sections import FusionSettings

    monkeypatch.setenv("TRADECREW_FUSION__NEUTRAL_BAND", "0.5")
    monkeypatch.setenv("TRADECREW_FUSION__WEIGHTS", '{"trend": 1.0, "momentum": 3.0}')
    get_settings.cache_clear()
    votes = [c("trend", 0.8), c("momentum", 0.2)]
    built_in = FusionSettings()
    assert fuse("X", votes) == fuse("X", votes, built_in.weights, built_in.neutral_band)
    cfg = get_settings().fusion
    sig = fuse("X", votes, cfg.weights, cfg.neutral_band)
    assert sig.score == pytest.approx(0.25 * 0.8 + 0.75 * 0.2)
    assert sig.direction is Direction.FLAT  # 0.35 is inside the configured 0.5 band


names = st.sampled_from([*W, "unknown_a", "unknown_b"])
scores = st.one_of(st.floats(-1.0, 1.0), st.just(math.nan))
parts = st.lists(
    st.tuples(names, scores, st.floats(0.0, 1.0)), max_size=8, unique_by=lambda t: t[0]
)


@settings(max_examples=200, deadline=None)
@given(parts, st.floats(0.0, 1.0))
def test_fused_signal_stays_in_bounds_and_contributions_add_up(
    items: list[tuple[str, float, float]], band: float
) -> None:
    sig = fuse("X", [c(n, s, k) for n, s, k in items], W, neutral_band=band)
    assert -1.0 <= sig.score <= 1.0 and 0.0 <= sig.confidence <= 1.0
    assert sig.strength == pytest.approx(abs(sig.score))
    assert sum(s.contribution for s in sig.components) == pytest.approx(sig.score, abs=1e-12)
    total = sum(s.weight for s in sig.components)
    assert total == pytest.approx(1.0) or total == 0.0
    assert all(math.isfinite(s.score) for s in sig.components)
    if sig.direction is not Direction.FLAT:
        assert abs(sig.score) >= band and (sig.score > 0) == (sig.direction is Direction.LONG)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValidationError):
        ComponentInput(name="trend", score=1.5)
    with pytest.raises(ValidationError):
        ComponentInput(name="trend", score=math.inf)
    with pytest.raises(ValidationError):
        ComponentInput(name="trend", score=0.1, confidence=math.nan)
    with pytest.raises(ValidationError):
        ComponentInput(name="", score=0.1)
    with pytest.raises(ValueError, match="unique"):
        fuse("X", [c("trend", 0.1), c("trend", 0.2)], W, 0.1)
    with pytest.raises(ValueError, match="weight"):
        fuse("X", [c("trend", 0.1)], {"trend": -1.0}, 0.1)
    with pytest.raises(ValueError, match="risk_reduction"):
        fuse("X", [c("trend", 0.1)], W, 0.1, risk_reduction=2.0)
    with pytest.raises(ValueError, match="neutral_band"):
        fuse("X", [c("trend", 0.1)], W, neutral_band=1.5)
    with pytest.raises(ValueError, match="symbol"):
        fuse(" ", [c("trend", 0.1)], W, 0.1)
