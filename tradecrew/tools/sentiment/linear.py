"""The default sentiment backend: a compact linear model shipped inside the package.

A multinomial logistic regression over hashed word n-grams (TF-IDF) and the lexicon's
verdict, trained on labelled finance-news tweets and headlines by
``scripts/train_sentiment.py`` (its data card is ``data/sentiment_linear.md``). It knows
that most business news is neutral, which the rules alone do not. Offline, deterministic,
loaded in milliseconds; the label is the most probable class (see ``decide``) and the score
keeps to the rule every backend obeys (``label_for(score, threshold)`` gives the label).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

import numpy as np

from tradecrew.tools.sentiment.features import lexicon_features, ngram_counts
from tradecrew.tools.sentiment.models import Label, SentimentResult

MODEL_FILE = "sentiment_linear.npz"
_CUES = 3


@dataclass(frozen=True, eq=False)
class LinearModel:
    """The weights; ``buckets`` is sorted so a text's buckets are found by binary search."""

    buckets: np.ndarray  # int64 (n,)
    idf: np.ndarray  # float64 (n,)
    coef: np.ndarray  # float64 (classes, n)
    dense: np.ndarray  # float64 (classes, 4): the lexicon features' weights
    intercept: np.ndarray  # float64 (classes,)
    classes: tuple[Label, ...]
    lexicon_weight: float
    meta: dict[str, object]

    @cached_property
    def index(self) -> dict[int, int]:
        return {int(b): k for k, b in enumerate(self.buckets)}

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sparse rows: text number, model column and L2-normalised sublinear TF-IDF value
        of every known word and word pair, texts in order."""
        index = self.index
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[int] = []
        for i, text in enumerate(texts):
            for bucket, n in ngram_counts(text).items():
                column = index.get(bucket)
                if column is not None:
                    rows.append(i)
                    cols.append(column)
                    tfs.append(n)
        row = np.asarray(rows, dtype=np.int64)
        col = np.asarray(cols, dtype=np.int64)
        values = (1.0 + np.log(np.asarray(tfs, dtype=np.float64))) * self.idf[col]
        norms = np.sqrt(np.bincount(row, weights=values * values, minlength=len(texts)))
        return row, col, values / norms[row] if len(row) else values

    def probabilities(self, texts: list[str]) -> tuple[np.ndarray, list[list[str]]]:
        """Class probabilities of each text (rows), and the lexicon's cues for each text."""
        row, col, values = self.encode(texts)
        weighted = self.coef[:, col] * values
        logits = np.stack(
            [np.bincount(row, weights=w, minlength=len(texts)) for w in weighted], axis=1
        ).astype(np.float64)  # bincount of nothing is integer
        rules = [lexicon_features(t) for t in texts]
        lexicon = np.asarray([f for f, _ in rules]).reshape(len(texts), 4)
        logits += (lexicon * self.lexicon_weight) @ self.dense.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True), [cues for _, cues in rules]


def load_model(data: bytes | None = None) -> LinearModel:
    """The packaged model, or one read from ``data`` (the bytes of an ``.npz`` file)."""
    if data is None:
        return _packaged()
    return _parse(data)


@cache
def _packaged() -> LinearModel:
    return _parse(resources.files(__package__).joinpath("data", MODEL_FILE).read_bytes())


def _parse(data: bytes) -> LinearModel:
    import io

    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return LinearModel(
            buckets=z["buckets"].astype(np.int64),
            idf=z["idf"].astype(np.float64),
            coef=z["coef"].astype(np.float64),
            dense=z["dense"].astype(np.float64),
            intercept=z["intercept"].astype(np.float64),
            classes=tuple(meta["classes"]),
            lexicon_weight=float(meta["lexicon_weight"]),
            meta=meta,
        )


def decide(p: dict[str, float], threshold: float) -> tuple[Label, float]:
    """Label and signed score from the class probabilities.

    The score is the lean p(positive) - p(negative). The most probable class is the label,
    except that a directional class whose lean is within the threshold is called neutral;
    a neutral label keeps its score inside the threshold, so ``label_for(score, threshold)``
    gives back the label as it does for every backend.
    """
    lean = max(-1.0, min(1.0, p["positive"] - p["negative"]))
    best = max(p, key=p.__getitem__)
    if best != "neutral" and abs(lean) > threshold:
        return best, lean  # type: ignore[return-value]
    if best == "neutral":
        lean *= threshold * 0.999
    return "neutral", lean


def analyze_linear(
    texts: list[str], threshold: float, *, model: LinearModel | None = None
) -> list[SentimentResult]:
    """Score texts with the packaged model (or ``model``); deterministic, no I/O."""
    model = model or load_model()
    probs, cues = model.probabilities(texts)
    results = []
    for text, row, rules in zip(texts, probs.tolist(), cues, strict=True):
        p = dict(zip(model.classes, row, strict=True))
        label, score = decide(p, threshold)
        shown = " ".join(f"p({c})={p[c]:.2f}" for c in ("positive", "neutral", "negative"))
        results.append(
            SentimentResult(
                text=text,
                label=label,
                score=score,
                confidence=p[label],
                backend="linear",
                evidence=[shown, *(f"rule {cue}" for cue in rules[:_CUES])],
            )
        )
    return results
