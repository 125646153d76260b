"""News sentiment behind one interface: ``analyze_sentiment(texts, backend=...)``.

Backends: ``linear`` (default: a compact model shipped in the package, offline), ``lexicon``
(finance-aware rules, also one of the model's features), ``finbert`` (local weights via
transformers) and ``llm`` (the configured OpenAI-compatible model).
"""

from tradecrew.tools.sentiment.api import (
    BACKENDS,
    analyze_configured,
    analyze_sentiment,
    backend_options,
    summarize,
)
from tradecrew.tools.sentiment.models import SentimentResult, SentimentSummary, label_for

__all__ = [
    "BACKENDS",
    "SentimentResult",
    "SentimentSummary",
    "analyze_configured",
    "analyze_sentiment",
    "backend_options",
    "label_for",
    "summarize",
]
