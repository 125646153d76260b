"""One entry point over four backends: linear (default, offline), lexicon, finbert, llm."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradecrew.config_sections import LLMSettings, SentimentComponent
from tradecrew.tools.sentiment.models import SentimentResult, SentimentSummary

if TYPE_CHECKING:
    from tradecrew.tools.tool_settings import AnalysisSettings


def _linear(texts: list[str], threshold: float, **options: Any) -> list[SentimentResult]:
    from tradecrew.tools.sentiment.linear import analyze_linear

    if options:
        raise TypeError(f"the linear backend takes no options, got {sorted(options)}")
    return analyze_linear(texts, threshold)


def _lexicon(texts: list[str], threshold: float, **options: Any) -> list[SentimentResult]:
    from tradecrew.tools.sentiment.lexicon import analyze_lexicon

    if options:
        raise TypeError(f"the lexicon backend takes no options, got {sorted(options)}")
    return analyze_lexicon(texts, threshold)


def _finbert(texts: list[str], threshold: float, **options: Any) -> list[SentimentResult]:
    from tradecrew.tools.sentiment.finbert import analyze_finbert

    return analyze_finbert(texts, threshold, **options)


def _llm(texts: list[str], threshold: float, **options: Any) -> list[SentimentResult]:
    from tradecrew.tools.sentiment.llm import analyze_llm

    return analyze_llm(texts, threshold, **options)


# Backends import their heavy dependencies only when called, so importing tradecrew stays fast.
BACKENDS: dict[str, Callable[..., list[SentimentResult]]] = {
    "linear": _linear,
    "lexicon": _lexicon,
    "finbert": _finbert,
    "llm": _llm,
}


def backend_options(
    backend: str, sentiment: SentimentComponent, llm: LLMSettings, home: Path
) -> dict[str, Any]:
    """What the finbert and llm backends take from the settings, for the callers that hold
    them: the backends never read the settings themselves."""
    if backend == "finbert":
        from tradecrew.model_store import installed_path

        return {"model_path": sentiment.model_path or installed_path(home, "finbert")}
    if backend == "llm":
        return {
            "model": llm.model,
            "base_url": llm.base_url,
            "api_key": llm.api_key,
            "timeout_seconds": llm.timeout_seconds,
            "max_retries": llm.max_retries,
            "cache_path": home / "cache" / "sentiment_llm.sqlite3",
        }
    return {}


def _threshold(threshold: float | None) -> float:
    if threshold is None:
        threshold = SentimentComponent().threshold  # built-in; callers pass the configured one
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise TypeError(f"threshold must be a number, got {type(threshold).__name__}")
    if not 0.0 <= threshold < 1.0:
        raise ValueError(f"threshold must be in [0, 1), got {threshold}")
    return float(threshold)


def _empty(text: str, backend: str) -> SentimentResult:
    return SentimentResult(
        text=text, label="neutral", score=0.0, confidence=0.0, backend=backend, evidence=None
    )


def analyze_sentiment(
    texts: Sequence[str],
    backend: str = "linear",
    *,
    threshold: float | None = None,
    **options: Any,
) -> list[SentimentResult]:
    """Score each text with one backend; results keep input order, one per text.

    Texts are data: no backend acts on what they say. Blank texts are neutral with zero
    confidence without reaching any backend. ``threshold`` defaults to the built-in
    ``components.sentiment.threshold`` (callers pass the configured one, and the backend's
    settings through ``backend_options``); every label obeys ``label_for(score, threshold)``.
    """
    if backend not in BACKENDS:
        raise ValueError(
            f"unknown sentiment backend {backend!r}; valid backends: {', '.join(BACKENDS)}"
        )
    if isinstance(texts, str | bytes) or not isinstance(texts, Sequence):
        raise TypeError("texts must be a list of strings, not a single string or other object")
    for k, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{k}] is {type(text).__name__}, expected str")
    limit = _threshold(threshold)
    todo = [k for k, text in enumerate(texts) if text.strip()]
    scored = BACKENDS[backend]([texts[k] for k in todo], limit, **options) if todo else []
    results = [_empty(text, backend) for text in texts]
    for k, result in zip(todo, scored, strict=True):
        results[k] = result
    return results


def analyze_configured(
    texts: Sequence[str], settings: AnalysisSettings, backend: str | None = None
) -> list[SentimentResult]:
    """``analyze_sentiment`` as ``settings`` configure it: their backend (unless ``backend``
    names another), threshold and backend options (``backend_options``)."""
    cfg = settings.components.sentiment
    chosen = backend or cfg.backend
    options = backend_options(chosen, cfg, settings.llm, settings.home)
    return analyze_sentiment(texts, backend=chosen, threshold=cfg.threshold, **options)


def summarize(results: Sequence[SentimentResult]) -> SentimentSummary:
    """Mean score and confidence and the count per label of a batch (all zero when empty)."""
    n = len(results)
    counts = {"positive": 0, "negative": 0, "neutral": 0}
    for result in results:
        counts[result.label] += 1
    mean_score = sum(r.score for r in results) / n if n else 0.0
    mean_confidence = sum(r.confidence for r in results) / n if n else 0.0
    return SentimentSummary(
        n=n,
        mean_score=max(-1.0, min(1.0, mean_score)),
        mean_confidence=max(0.0, min(1.0, mean_confidence)),
        **counts,
    )
