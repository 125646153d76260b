"""One sentiment number per symbol from its scored headlines over time. Pure.

Point in time (only headlines published before ``asof``), deduplicated (the same story from
several sources counts once, at its first report, with its most trusted source's weight),
recency-weighted (a headline's weight halves every ``half_life_hours``) and source-weighted.
``effective_n`` (Kish: (sum w)^2 / sum w^2) says how many equally weighted headlines the
aggregate is worth, so one fresh headline is not mistaken for a consensus.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ScoredHeadline(BaseModel):
    """A headline already scored by a sentiment backend."""

    model_config = ConfigDict(extra="forbid")

    story: str = Field(description="the dedup key: the same story from any source")
    score: float = Field(ge=-1.0, le=1.0)
    confidence: float = Field(1.0, ge=0.0, le=1.0)
    published_at: datetime
    source: str = ""


class SentimentAggregate(BaseModel):
    """A symbol's news sentiment at ``asof``."""

    model_config = ConfigDict(extra="forbid")

    score: float = Field(0.0, ge=-1.0, le=1.0, description="weighted mean score")
    confidence: float = Field(0.0, ge=0.0, le=1.0, description="weighted mean confidence")
    n: int = Field(0, ge=0, description="distinct stories counted")
    effective_n: float = Field(0.0, ge=0.0)
    duplicates: int = Field(0, ge=0, description="reports of a story already counted")
    latest: datetime | None = Field(None, description="when the newest counted story appeared")


def aggregate_sentiment(
    items: Sequence[ScoredHeadline],
    asof: datetime,
    *,
    half_life_hours: float = 24.0,
    source_weights: Mapping[str, float] | None = None,
    window_hours: float | None = None,
) -> SentimentAggregate:
    """The recency- and source-weighted sentiment of the distinct stories before ``asof``."""
    if asof.tzinfo is None:
        raise ValueError("asof needs a timezone (UTC)")
    if not math.isfinite(half_life_hours) or half_life_hours <= 0:
        raise ValueError(f"half_life_hours must be above zero, got {half_life_hours}")
    weights = {k.strip().lower(): v for k, v in (source_weights or {}).items()}
    stories: dict[str, tuple[ScoredHeadline, float]] = {}
    duplicates = 0
    for item in sorted(items, key=lambda h: h.published_at):
        age = (asof - item.published_at).total_seconds() / 3600.0
        if age <= 0 or (window_hours is not None and age > window_hours):
            continue  # not yet published at asof (no look-ahead), or out of the window
        trust = float(weights.get(item.source.strip().lower(), 1.0))
        key = item.story.strip().lower()
        if key in stories:
            duplicates += 1
            first, best = stories[key]
            stories[key] = (first, max(best, trust))
        else:
            stories[key] = (item, trust)
    rows = [
        (h, trust * 0.5 ** ((asof - h.published_at).total_seconds() / 3600.0 / half_life_hours))
        for h, trust in stories.values()
    ]
    rows = [(h, w) for h, w in rows if w > 0]
    total = sum(w for _, w in rows)
    if total <= 0:
        return SentimentAggregate(n=len(stories), duplicates=duplicates)
    score = sum(h.score * w for h, w in rows) / total
    confidence = sum(h.confidence * w for h, w in rows) / total
    return SentimentAggregate(
        score=max(-1.0, min(1.0, score)),
        confidence=max(0.0, min(1.0, confidence)),
        n=len(rows),
        effective_n=total**2 / sum(w * w for _, w in rows),
        duplicates=duplicates,
        latest=max(h.published_at for h, _ in rows),
    )
