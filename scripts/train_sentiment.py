"""Train the packaged sentiment model (``tradecrew/tools/sentiment/data/sentiment_linear.npz``).

    uv run python scripts/train_sentiment.py \
        --tweets ../shared/data/twitter_fin_news_train.csv \
        --headlines ../shared/data/headlines_dev.jsonl \
        --valid ../shared/data/twitter_fin_news_valid.csv

Fits a multinomial logistic regression (scikit-learn, a development dependency; the desk
itself only reads the weights) on the tweets' train split and the headlines, with the
features of ``tradecrew.tools.sentiment.features``. The valid split is only measured, never
fitted. The headlines are fitted too, so their honest figure is the out-of-fold accuracy of
a 5-fold cross-validation, printed beside the in-sample one. Writes the weights and the data
card next to them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import StratifiedKFold

from tradecrew.tools.sentiment.features import (
    BUCKETS,
    LEXICON_FEATURES,
    lexicon_features,
    ngram_counts,
)
from tradecrew.tools.sentiment.linear import MODEL_FILE, analyze_linear, load_model

TWEET_LABELS = {"0": "negative", "1": "positive", "2": "neutral"}
CLASSES = ["negative", "neutral", "positive"]
OUT = Path(__file__).resolve().parents[1] / "tradecrew" / "tools" / "sentiment" / "data"


def read_tweets(path: Path) -> tuple[list[str], list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [TWEET_LABELS[r["label"]] for r in rows]


def read_headlines(path: Path) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [r["text"] for r in rows], [r["label"] for r in rows]


class Featurizer:
    """Document frequencies from the fitted texts; a bucket seen in fewer than min_df is dropped."""

    def __init__(self, texts: list[str], min_df: int) -> None:
        df: Counter[int] = Counter()
        for text in texts:
            df.update(ngram_counts(text).keys())
        kept = sorted(b for b, n in df.items() if n >= min_df)
        self.buckets = np.asarray(kept, dtype=np.int64)
        n = len(texts)
        self.idf = np.asarray([math.log((1 + n) / (1 + df[b])) + 1.0 for b in kept])

    def matrix(self, texts: list[str], lexicon_weight: float) -> csr_matrix:
        model = self.model(np.zeros((3, len(self.buckets))), np.zeros((3, 4)), np.zeros(3), 1.0)
        rows, cols, values = model.encode(texts)
        words = csr_matrix((values, (rows, cols)), shape=(len(texts), len(self.buckets)))
        lexicon = np.asarray([lexicon_features(t)[0] for t in texts]) * lexicon_weight
        return hstack([words, csr_matrix(lexicon)]).tocsr()

    def model(self, coef, dense, intercept, lexicon_weight):  # type: ignore[no-untyped-def]
        from tradecrew.tools.sentiment.linear import LinearModel

        return LinearModel(
            self.buckets, self.idf, coef, dense, intercept, tuple(CLASSES), lexicon_weight, {}
        )


def fit(texts, labels, weights, args):  # type: ignore[no-untyped-def]
    feats = Featurizer(texts, args.min_df)
    clf = LogisticRegression(C=args.C, max_iter=args.max_iter)
    clf.fit(feats.matrix(texts, args.lexicon_weight), labels, sample_weight=weights)
    assert list(clf.classes_) == CLASSES
    n = len(feats.buckets)
    return feats, clf.coef_[:, :n], clf.coef_[:, n:], clf.intercept_


def measure(model, texts: list[str], labels: list[str]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    predicted = [r.label for r in analyze_linear(texts, 0.1, model=model)]
    return report(labels, predicted)


def report(labels: list[str], predicted: list[str]) -> dict[str, object]:
    cm = confusion_matrix(labels, predicted, labels=CLASSES)
    recall = {c: float(cm[i, i] / cm[i].sum()) for i, c in enumerate(CLASSES)}
    return {
        "n": len(labels),
        "accuracy": float(np.trace(cm) / cm.sum()),
        "recall": recall,
        "confusion (rows true, columns predicted: negative, neutral, positive)": cm.tolist(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tweets", type=Path, required=True)
    parser.add_argument("--headlines", type=Path, required=True)
    parser.add_argument("--valid", type=Path, help="measured only, never fitted")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--C", type=float, default=2.0)
    parser.add_argument("--headline-weight", type=float, default=5.0)
    parser.add_argument("--lexicon-weight", type=float, default=3.0)
    parser.add_argument("--min-df", type=int, default=2)
    parser.add_argument("--max-iter", type=int, default=1000)
    args = parser.parse_args()

    tw_text, tw_label = read_tweets(args.tweets)
    hl_text, hl_label = read_headlines(args.headlines)
    texts, labels = tw_text + hl_text, tw_label + hl_label
    weights = np.r_[np.ones(len(tw_text)), np.full(len(hl_text), args.headline_weight)]

    # Honest figure for the headlines: each fold's headlines scored by a model fitted without them.
    out_of_fold = [""] * len(hl_text)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    for keep, held in folds.split(hl_text, hl_label):
        fold_texts = tw_text + [hl_text[i] for i in keep]
        fold_labels = tw_label + [hl_label[i] for i in keep]
        fold_w = np.r_[np.ones(len(tw_text)), np.full(len(keep), args.headline_weight)]
        feats, coef, dense, icpt = fit(fold_texts, fold_labels, fold_w, args)
        model = feats.model(coef, dense, icpt, args.lexicon_weight)
        for i, r in zip(
            held, analyze_linear([hl_text[i] for i in held], 0.1, model=model), strict=True
        ):
            out_of_fold[i] = r.label

    feats, coef, dense, icpt = fit(texts, labels, weights, args)
    meta = {
        "name": "sentiment_linear",
        "version": 1,
        "trained": dt.date.today().isoformat(),
        "classes": CLASSES,
        "buckets": BUCKETS,
        "lexicon_weight": args.lexicon_weight,
        "lexicon_features": list(LEXICON_FEATURES),
        "hyperparameters": {k: getattr(args, k) for k in ("C", "headline_weight", "min_df")},
        "data": {
            "tweets": {"file": args.tweets.name, "sha256": _sha256(args.tweets), "n": len(tw_text)},
            "headlines": {
                "file": args.headlines.name,
                "sha256": _sha256(args.headlines),
                "n": len(hl_text),
            },
        },
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / MODEL_FILE
    np.savez_compressed(
        path,
        buckets=feats.buckets.astype(np.int32),
        idf=feats.idf.astype(np.float32),
        coef=coef.astype(np.float32),
        dense=dense.astype(np.float32),
        intercept=icpt.astype(np.float32),
        meta=np.asarray(json.dumps(meta)),
    )
    model = load_model(path.read_bytes())
    figures = {
        "headlines, 5-fold out of fold": report(hl_label, out_of_fold),
        "headlines, in sample (fitted)": measure(model, hl_text, hl_label),
        "tweets train, in sample (fitted)": measure(model, tw_text, tw_label),
    }
    if args.valid:
        va_text, va_label = read_tweets(args.valid)
        figures["tweets valid (never fitted)"] = measure(model, va_text, va_label)
    (args.out / "sentiment_linear.json").write_text(
        json.dumps({**meta, "figures": figures}, indent=2) + "\n"
    )
    print(
        f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {len(feats.buckets)} n-gram buckets)"
    )
    for name, fig in figures.items():
        print(f"{name:34s} accuracy {fig['accuracy']:.4f}  recall {fig['recall']}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    main()
