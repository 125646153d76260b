"""Signal fusion: many analyzers' votes in, one ``Signal`` out, with every contribution recorded.

score        = sum_i w_i * s_i, with w_i the configured weights renormalised over the
               components that take part (known name, finite score, weight above zero)
direction    = long / short by the sign of score, flat when |score| < neutral_band (or 0)
strength     = |score|
confidence   = (sum_i w_i * c_i) * agreement, where agreement = |sum_i w_i s_i| / sum_i w_i |s_i|
               (1 when every vote points the same way, 0 when they cancel or all are 0)
Vetoes are recorded, never acted on here: the risk gate decides what a veto means.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradecrew.config_sections import FusionSettings
from tradecrew.models import ComponentSignal, Direction, Signal


class ComponentInput(BaseModel):
    """One analyzer's vote: score in [-1, 1] (NaN means "no opinion"), confidence in [0, 1]."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    score: float
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    detail: str = ""

    @field_validator("score")
    @classmethod
    def _score_range(cls, v: float) -> float:
        if not math.isnan(v) and not -1.0 <= v <= 1.0:
            raise ValueError(f"score must be within [-1, 1] or NaN, got {v}")
        return v


def _defaults(
    weights: Mapping[str, float] | None, neutral_band: float | None
) -> tuple[Mapping[str, float], float]:
    if weights is None or neutral_band is None:
        cfg = FusionSettings()  # the built-in defaults; the desk passes its configured ones
        weights = cfg.weights if weights is None else weights
        neutral_band = cfg.neutral_band if neutral_band is None else neutral_band
    return weights, neutral_band


def _note(detail: str, note: str) -> str:
    return f"{detail} [{note}]" if detail else f"[{note}]"


def fuse(
    symbol: str,
    components: Sequence[ComponentInput],
    weights: Mapping[str, float] | None = None,
    neutral_band: float | None = None,
    vetoes: Iterable[str] = (),
    risk_reduction: float = 1.0,
    timestamp: datetime | None = None,
) -> Signal:
    """Fuse component votes into a Signal with the formula in this module's docstring.

    Weights and band default to the built-in ``fusion.weights`` and ``fusion.neutral_band``
    (callers pass the configured ones: tools never read the settings themselves);
    a component with an unknown name or a NaN score takes no part and says so in its detail.
    """
    weights, neutral_band = _defaults(weights, neutral_band)
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError("symbol must be a non-empty string")
    if not 0.0 <= neutral_band <= 1.0:
        raise ValueError(f"neutral_band must be within [0, 1], got {neutral_band}")
    if not 0.0 <= risk_reduction <= 1.0:
        raise ValueError(f"risk_reduction must be within [0, 1], got {risk_reduction}")
    for name, w in weights.items():
        if not math.isfinite(w) or w < 0:
            raise ValueError(f"weight for {name!r} must be a finite number >= 0, got {w}")
    comps = [
        c if isinstance(c, ComponentInput) else ComponentInput.model_validate(c) for c in components
    ]
    names = [c.name for c in comps]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"component names must be unique; repeated: {', '.join(dupes)}")

    taking_part: dict[str, float] = {}
    notes: dict[str, str] = {}
    for c in comps:
        if math.isnan(c.score):
            notes[c.name] = "excluded: score is NaN"
        elif c.name not in weights:
            notes[c.name] = "excluded: no weight configured for this component"
        elif weights[c.name] == 0:
            notes[c.name] = "excluded: weight is 0"
        else:
            taking_part[c.name] = float(weights[c.name])
    total_weight = sum(taking_part.values())

    signals: list[ComponentSignal] = []
    score = gross = conf = 0.0
    for c in comps:
        w = taking_part.get(c.name, 0.0) / total_weight if total_weight > 0 else 0.0
        s = 0.0 if math.isnan(c.score) else c.score
        contribution = w * s
        score += contribution
        gross += w * abs(s)
        conf += w * c.confidence
        detail = _note(c.detail, notes[c.name]) if c.name in notes else c.detail
        signals.append(
            ComponentSignal(
                name=c.name,
                score=s,
                confidence=c.confidence,
                weight=w,
                contribution=contribution,
                detail=detail,
            )
        )
    score = max(-1.0, min(1.0, score))
    agreement = min(abs(score) / gross, 1.0) if gross > 0 else 0.0
    if score == 0.0 or abs(score) < neutral_band:
        direction = Direction.FLAT
    else:
        direction = Direction.LONG if score > 0 else Direction.SHORT
    return Signal(
        symbol=symbol.strip().upper(),
        timestamp=timestamp,
        direction=direction,
        score=score,
        strength=abs(score),
        confidence=max(0.0, min(1.0, conf * agreement)),
        components=signals,
        vetoes=list(vetoes),
        risk_reduction=risk_reduction,
    )
