"""Regime classifier figures: median time of ``regime_series`` on 5,000 bars, and accuracy.

Run: ``.venv/bin/python bench/bench_regime.py``. Accuracy is scored against the synthetic
generator's true labels, after warm-up and skipping 30 bars after each regime switch.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from tradecrew.data.synthetic import generate_regime_path
from tradecrew.models import Timeframe
from tradecrew.tools.regime import regime_series

SEEDS = range(1, 11)
SKIP_AFTER_SWITCH = 30


def median_ms(n_bars: int = 5000, repeats: int = 50) -> float:
    bars, _ = generate_regime_path(n_bars, 1)
    regime_series(bars)  # warm caches and imports
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        regime_series(bars)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def accuracy(timeframe: Timeframe, seed: int, n_bars: int = 5000) -> float:
    bars, truth = generate_regime_path(n_bars, seed, timeframe=timeframe)
    got = regime_series(bars)["regime"]
    age = truth.groupby((truth != truth.shift()).cumsum()).cumcount()
    scored = (age >= SKIP_AFTER_SWITCH) & (got != "unknown")
    return float((got[scored] == truth[scored]).mean())


def main() -> None:
    print(f"regime_series, 5,000 bars: median {median_ms():.2f} ms")
    for timeframe in (Timeframe.D1, Timeframe.H1):
        scores = [accuracy(timeframe, seed) for seed in SEEDS]
        per_seed = " ".join(f"{s}:{a:.3f}" for s, a in zip(SEEDS, scores, strict=True))
        print(
            f"{timeframe.value} accuracy over {len(scores)} seeds: mean {np.mean(scores):.3f}, "
            f"min {min(scores):.3f}  ({per_seed})"
        )


if __name__ == "__main__":
    main()
