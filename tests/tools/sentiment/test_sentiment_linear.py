"""The default backend: the packaged linear model, measured on data it never saw."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import shared_file
from tradecrew.tools.sentiment import analyze_sentiment, label_for
from tradecrew.tools.sentiment.linear import decide, load_model

ROOT = Path(__file__).resolve().parents[3]
TWEET_LABELS = {"0": "negative", "1": "positive", "2": "neutral"}


def _tweets(name: str) -> tuple[list[str], list[str]]:
    with shared_file(name).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [TWEET_LABELS[r["label"]] for r in rows]


def _accuracy(texts: list[str], labels: list[str]) -> tuple[float, dict[str, float]]:
    got = [r.label for r in analyze_sentiment(texts, threshold=0.1)]
    hits = Counter(g for g, want in zip(got, labels, strict=True) if g == want)
    support = Counter(labels)
    recall = {c: hits[c] / support[c] for c in support}
    return sum(hits.values()) / len(labels), recall


def test_default_backend_is_the_packaged_model() -> None:
    (result,) = analyze_sentiment(["Acme shares jump after record profit"])
    assert result.backend == "linear"
    assert result.label == "positive"
    assert result.evidence and result.evidence[0].startswith("p(positive)=")


def test_neutral_business_news_is_called_neutral() -> None:
    # The rules alone call much of this positive; the model learnt that most news is neutral.
    texts = [
        "The company is headquartered in Helsinki and employs 200 people.",
        "$AAPL - Apple to present at the Goldman Sachs conference",
        "Board to meet on Thursday to consider quarterly results",
    ]
    assert [r.label for r in analyze_sentiment(texts)] == ["neutral"] * 3


def test_tweets_valid_split_scores_at_least_80_percent() -> None:
    accuracy, recall = _accuracy(*_tweets("twitter_fin_news_valid.csv"))
    assert accuracy >= 0.80, (accuracy, recall)
    assert min(recall.values()) >= 0.6, recall  # no class given up for the majority


def test_headlines_score_at_least_78_percent() -> None:
    rows = [json.loads(x) for x in shared_file("headlines_dev.jsonl").read_text().splitlines()]
    accuracy, recall = _accuracy([r["text"] for r in rows], [r["label"] for r in rows])
    assert accuracy >= 0.78, (accuracy, recall)


def test_the_valid_split_was_never_fitted() -> None:
    meta = load_model().meta
    fitted = {d["sha256"] for d in meta["data"].values()}  # type: ignore[union-attr]
    valid = hashlib.sha256(shared_file("twitter_fin_news_valid.csv").read_bytes()).hexdigest()
    train = hashlib.sha256(shared_file("twitter_fin_news_train.csv").read_bytes()).hexdigest()
    assert train in fitted
    assert valid not in fitted


@given(
    st.dictionaries(
        st.sampled_from(["positive", "neutral", "negative"]),
        st.floats(0.0, 1.0),
        min_size=3,
        max_size=3,
    ),
    st.floats(0.0, 0.999),
)
def test_decided_label_is_the_one_the_score_gives(raw: dict[str, float], threshold: float) -> None:
    total = sum(raw.values()) or 1.0
    p = {k: v / total for k, v in raw.items()}
    label, score = decide(p, threshold)
    assert -1.0 <= score <= 1.0
    assert label_for(score, threshold) == label
    if label != "neutral":
        assert p[label] == max(p.values())


def test_a_higher_threshold_only_moves_labels_towards_neutral() -> None:
    texts = ["Shares edge up", "Profit slips slightly", "Acme beats forecasts", "Board meets"]
    low = analyze_sentiment(texts, threshold=0.0)
    high = analyze_sentiment(texts, threshold=0.9)
    for a, b in zip(low, high, strict=True):
        assert b.label in (a.label, "neutral")


@pytest.mark.slow
def test_the_training_script_rebuilds_a_working_model(tmp_path: Path) -> None:
    tweets = tmp_path / "tweets.csv"
    with shared_file("twitter_fin_news_train.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))[:600]
    with tweets.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["text", "label"])
        writer.writeheader()
        writer.writerows(rows)
    headlines = tmp_path / "headlines.jsonl"
    lines = shared_file("headlines_dev.jsonl").read_text().splitlines()[:200]
    headlines.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, "scripts/train_sentiment.py", "--tweets", str(tweets),
         "--headlines", str(headlines), "--out", str(tmp_path / "out"), "--max-iter", "200"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    model = load_model((tmp_path / "out" / "sentiment_linear.npz").read_bytes())
    card = json.loads((tmp_path / "out" / "sentiment_linear.json").read_text())
    assert card["data"]["tweets"]["n"] == 600
    assert card["figures"]["headlines, 5-fold out of fold"]["n"] == 200
    assert 0 < len(model.buckets) < 1 << 18
    texts = ["Profit soars to a record", "Shares collapse after fraud charges"]
    from tradecrew.tools.sentiment.linear import analyze_linear

    labels = [r.label for r in analyze_linear(texts, 0.1, model=model)]
    assert labels == ["positive", "negative"]


def test_the_packaged_model_is_small() -> None:
    from importlib import resources

    data = resources.files("tradecrew.tools.sentiment").joinpath("data", "sentiment_linear.npz")
    assert data.read_bytes()[:2] == b"PK"
    assert len(data.read_bytes()) < 1_000_000
