"""How well a backend's labels agree with known ones: accuracy, recall per class, confusion."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from tradecrew.tools.sentiment.models import Label

LABELS: tuple[Label, ...] = ("positive", "negative", "neutral")


class SentimentEvaluation(BaseModel):
    """Agreement of predicted with expected labels over ``n`` labelled texts."""

    n: int = Field(ge=0)
    accuracy: float = Field(ge=0.0, le=1.0, description="share of texts labelled as expected")
    recall: dict[str, float | None] = Field(
        description="per expected class, the share found (None when the class is absent)"
    )
    support: dict[str, int] = Field(description="labelled texts per expected class")
    confusion: dict[str, dict[str, int]] = Field(
        description="confusion[expected][predicted] = count"
    )


def evaluate(expected: Sequence[Label], predicted: Sequence[Label]) -> SentimentEvaluation:
    """Compare two equally long label sequences (an empty pair scores 0)."""
    if len(expected) != len(predicted):
        raise ValueError(f"{len(expected)} expected labels but {len(predicted)} predictions")
    confusion: dict[str, dict[str, int]] = {e: dict.fromkeys(LABELS, 0) for e in LABELS}
    for e, p in zip(expected, predicted, strict=True):
        confusion[e][p] += 1
    support: dict[str, int] = {e: sum(row.values()) for e, row in confusion.items()}
    hits = sum(confusion[c][c] for c in LABELS)
    n = len(expected)
    return SentimentEvaluation(
        n=n,
        accuracy=hits / n if n else 0.0,
        recall={c: confusion[c][c] / support[c] if support[c] else None for c in LABELS},
        support=support,
        confusion=confusion,
    )
