"""Sentiment accuracy and speed of the packaged model (``linear``, the default) beside the
rules (``lexicon``) in the same run: SemEval-2017 headlines and the finance-news tweets'
valid split (never fitted). The model was fitted on the headlines, so their in-sample figure
is printed beside the out-of-fold one recorded when it was trained.

Run: ``uv run python bench/bench_sentiment.py [--quick]`` (needs ../shared/data).
Targets: tweets valid >= 80 %, headlines >= 78 %, at least 5,000 texts/s.
"""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from importlib import resources
from pathlib import Path

from _quick import QUICK, exit_code

from tradecrew.tools.sentiment import analyze_sentiment

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LABELS = ("positive", "neutral", "negative")
TWEET_LABELS = {"0": "negative", "1": "positive", "2": "neutral"}


def datasets() -> dict[str, tuple[list[str], list[str]]]:
    rows = [json.loads(x) for x in (DATA / "headlines_dev.jsonl").read_text().splitlines() if x]
    with (DATA / "twitter_fin_news_valid.csv").open(encoding="utf-8", newline="") as f:
        tweets = list(csv.DictReader(f))
    return {
        "headlines": ([r["text"] for r in rows], [r["label"] for r in rows]),
        "tweets valid": ([r["text"] for r in tweets], [TWEET_LABELS[r["label"]] for r in tweets]),
    }


def measure(texts: list[str], gold: list[str], backend: str) -> tuple[float, Counter]:
    got = [r.label for r in analyze_sentiment(texts, backend, threshold=0.1)]
    pairs = Counter(zip(gold, got, strict=True))
    return sum(n for (g, p), n in pairs.items() if g == p) / len(gold), pairs


def speed(texts: list[str], backend: str, repeats: int) -> float:
    analyze_sentiment(texts[:10], backend)
    start = time.perf_counter()
    for _ in range(repeats):
        analyze_sentiment(texts, backend, threshold=0.1)
    return repeats * len(texts) / (time.perf_counter() - start)


def main() -> int:
    data = datasets()
    met = True
    for name, (texts, gold) in data.items():
        print(f"{name} ({len(texts)} texts; majority class {Counter(gold).most_common(1)[0]})")
        for backend in ("linear", "lexicon"):
            accuracy, pairs = measure(texts, gold, backend)
            recall = {c: pairs[(c, c)] / max(1, sum(n for (g, _), n in pairs.items() if g == c))
                      for c in LABELS}  # fmt: skip
            shown = "  ".join(f"{c} {r:.1%}" for c, r in recall.items())
            print(f"  {backend:8s} accuracy {accuracy:6.1%}   recall {shown}")
            if backend == "linear":
                print("    confusion (rows gold, columns predicted: positive neutral negative)")
                for g in LABELS:
                    print("    " + f"{g:>9}" + "".join(f"{pairs[(g, p)]:>7}" for p in LABELS))
                met &= accuracy >= (0.78 if name == "headlines" else 0.80)
    card = resources.files("tradecrew.tools.sentiment").joinpath("data", "sentiment_linear.json")
    figures = json.loads(card.read_text())["figures"]
    oof = figures.get("headlines, 5-fold out of fold")
    if oof:
        print(f"headlines out of fold when trained: {oof['accuracy']:.1%}")
    texts = data["headlines"][0]
    repeats = 2 if QUICK else 20
    linear, lexicon = speed(texts, "linear", repeats), speed(texts, "lexicon", repeats)
    print(f"speed: linear {linear:,.0f} texts/s, lexicon {lexicon:,.0f} texts/s")
    print(f"  (the rules are one of the model's features: ratio {linear / lexicon:.2f}x)")
    return exit_code(met and linear >= 5_000)


if __name__ == "__main__":
    raise SystemExit(main())
