"""Result models of the sentiment tool and the one rule that turns a score into a label."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Label = Literal["positive", "negative", "neutral"]


def label_for(score: float, threshold: float) -> Label:
    """The label every backend uses: beyond ``±threshold`` is directional, inside it neutral."""
    if score > threshold:
        return "positive"
    if score < -threshold:
        return "negative"
    return "neutral"


class SentimentResult(BaseModel):
    """Sentiment of one text: label, signed score in [-1, 1], confidence, and why."""

    model_config = ConfigDict(extra="forbid")

    text: str
    label: Label
    score: float = Field(ge=-1.0, le=1.0, description="negative..positive for the company")
    confidence: float = Field(ge=0.0, le=1.0, description="0 when nothing was recognised")
    backend: str
    evidence: list[str] | None = Field(
        None, description="short cues that drove the score (matched rules, model probabilities)"
    )


class SentimentSummary(BaseModel):
    """A batch of results in a few numbers: how many, mean score, counts per label."""

    model_config = ConfigDict(extra="forbid")

    n: int = Field(ge=0)
    mean_score: float = Field(ge=-1.0, le=1.0)
    mean_confidence: float = Field(ge=0.0, le=1.0)
    positive: int = Field(ge=0)
    negative: int = Field(ge=0)
    neutral: int = Field(ge=0)
