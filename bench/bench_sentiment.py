"""Lexicon sentiment on the SemEval-2017 headline file: accuracy, held-out fifth, speed.

The rules were written looking only at lines whose index % 5 != 0 ("seen"); lines with
index % 5 == 0 ("held-out") measure how well they carry over to headlines not looked at.
Run: ``python bench/bench_sentiment.py [path/to/headlines_dev.jsonl]``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from _quick import args

from tradecrew.tools.sentiment import analyze_sentiment

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "headlines_dev.jsonl"
LABELS = ("positive", "neutral", "negative")


def _accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(gold == pred for gold, pred in pairs) / len(pairs) if pairs else float("nan")


def main() -> None:
    path = Path(args()[0]) if args() else DEFAULT
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    texts = [row["text"] for row in rows]
    results = analyze_sentiment(texts, threshold=0.1)
    pairs = [(row["label"], res.label) for row, res in zip(rows, results, strict=True)]
    seen = [p for k, p in enumerate(pairs) if k % 5]
    held = [p for k, p in enumerate(pairs) if k % 5 == 0]
    print(f"file: {path} ({len(rows)} headlines)")
    print(f"accuracy full      {_accuracy(pairs):.3f}  (n={len(pairs)})")
    print(f"accuracy seen      {_accuracy(seen):.3f}  (n={len(seen)}, index % 5 != 0)")
    print(f"accuracy held-out  {_accuracy(held):.3f}  (n={len(held)}, index % 5 == 0)")
    majority = Counter(gold for gold, _ in pairs).most_common(1)[0]
    print(f"majority baseline  {majority[1] / len(pairs):.3f}  (always {majority[0]})")

    counts = Counter(pairs)
    print("\nconfusion (rows gold, columns predicted)")
    print(" " * 10 + "".join(f"{label:>10}" for label in LABELS))
    for gold in LABELS:
        print(f"{gold:>10}" + "".join(f"{counts[(gold, pred)]:>10}" for pred in LABELS))

    repeats = 20
    start = time.perf_counter()
    for _ in range(repeats):
        analyze_sentiment(texts, threshold=0.1)
    elapsed = time.perf_counter() - start
    print(
        f"\nspeed: {repeats * len(texts) / elapsed:,.0f} headlines/s (analyze_sentiment, lexicon)"
    )


if __name__ == "__main__":
    main()
