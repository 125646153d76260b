"""FinBERT (or any 3-class sequence classifier) from local files only; never downloads.

The model comes from ``tradecrew models pull finbert`` (into ``TRADECREW_HOME/models/finbert``)
or from ``components.sentiment.model_path``; it is loaded with ``local_files_only``, so scoring
never reaches a hub. transformers and torch are imported inside the functions so
``import tradecrew`` stays fast and the package works without them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from tradecrew.tools.sentiment.models import SentimentResult, label_for

_SETTING = "components.sentiment.model_path (env TRADECREW_COMPONENTS__SENTIMENT__MODEL_PATH)"
PULL_COMMAND = "tradecrew models pull finbert"
TORCH_CPU = "uv pip install torch --index-url https://download.pytorch.org/whl/cpu"
_SYNONYMS = {
    "positive": "positive", "pos": "positive", "bullish": "positive",
    "negative": "negative", "neg": "negative", "bearish": "negative",
    "neutral": "neutral", "neu": "neutral", "none": "neutral",
}  # fmt: skip


class FinBertUnavailable(RuntimeError):
    """The model or its libraries are not available locally."""


def _label_order(id2label: dict[int, str], labels: tuple[str, ...] | None) -> list[str]:
    """Our label for each output index, from the model config or an explicit ``labels``."""
    if labels is not None:
        names = [str(name).lower() for name in labels]
    else:
        names = [str(id2label[k]).lower() for k in sorted(id2label)]
    mapped = [_SYNONYMS.get(name) for name in names]
    if sorted(m for m in mapped if m) != ["negative", "neutral", "positive"]:
        raise FinBertUnavailable(
            f"cannot map model labels {names} to positive/negative/neutral; pass "
            "labels=(...) naming each output index, e.g. ('positive', 'negative', 'neutral')"
        )
    return [m or "" for m in mapped]


@lru_cache(maxsize=2)
def _load(model_path: str) -> tuple[Any, Any]:
    """Tokenizer and model from a local directory or the local HF cache, loaded once."""
    try:
        import torch  # noqa: F401 - transformers loads no model without it
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
    except ImportError:  # pragma: no cover - depends on the installation
        raise FinBertUnavailable(
            "the finbert backend needs transformers and torch: install "
            f"'tradecrew[finbert]' and the CPU build of torch ({TORCH_CPU})"
        ) from None
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(
            model_path, local_files_only=True
        )
    except (OSError, ValueError) as exc:
        raise FinBertUnavailable(
            f"no local FinBERT model at {model_path!r} (downloads are disabled); run "
            f"`{PULL_COMMAND}`, or set {_SETTING} to a local model directory"
        ) from exc
    model.to("cpu").eval()
    return tokenizer, model


def _resolve_path(model_path: str | Path | None) -> str:
    """The path the caller gives (``backend_options`` reads the setting, else the model pulled
    under TRADECREW_HOME); the backend never reads the settings itself."""
    if not model_path:
        raise FinBertUnavailable(
            f"no FinBERT model here: run `{PULL_COMMAND}` once (or set {_SETTING} "
            "to a local model directory)"
        )
    return str(model_path)


def analyze_finbert(
    texts: list[str],
    threshold: float,
    *,
    model_path: str | Path | None = None,
    batch_size: int = 16,
    max_length: int = 128,
    labels: tuple[str, ...] | None = None,
) -> list[SentimentResult]:
    """Score texts with a local classifier: score = p(positive) - p(negative)."""
    if batch_size < 1 or max_length < 8:
        raise ValueError("batch_size must be >= 1 and max_length >= 8")
    tokenizer, model = _load(_resolve_path(model_path))
    order = _label_order(model.config.id2label, labels)
    if len(order) != model.config.num_labels:
        raise FinBertUnavailable(f"model has {model.config.num_labels} outputs, labels {order}")
    import torch

    results: list[SentimentResult] = []
    for start in range(0, len(texts), batch_size):
        batch = texts[start : start + batch_size]
        encoded = tokenizer(
            batch, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        with torch.no_grad():
            probs = torch.softmax(model(**encoded).logits.float(), dim=-1).tolist()
        for text, row in zip(batch, probs, strict=True):
            p = {name: 0.0 for name in ("positive", "negative", "neutral")}
            for name, value in zip(order, row, strict=True):
                if name:
                    p[name] += value
            score = max(-1.0, min(1.0, p["positive"] - p["negative"]))
            results.append(
                SentimentResult(
                    text=text,
                    label=label_for(score, threshold),
                    score=score,
                    confidence=max(0.0, min(1.0, max(p.values()))),
                    backend="finbert",
                    evidence=[f"{name} {p[name]:.2f}" for name in p],
                )
            )
    return results
