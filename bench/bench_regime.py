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


def median_ms(n_bars: int = 5000, repeats: int = 50) -> tuple[float, float]:
    """Median wall and CPU milliseconds (CPU is less disturbed by a busy machine)."""
    bars, _ = generate_regime_path(n_bars, 1)
    regime_series(bars)  # warm caches and imports
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        regime_series(bars)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall) * 1e3, statistics.median(cpu) * 1e3


def accuracy(timeframe: Timeframe, seed: int, n_bars: int = 5000) -> float:
    bars, truth = generate_regime_path(n_bars, seed, timeframe=timeframe)
    got = regime_series(bars)["regime"]
    age = truth.groupby((truth != truth.shift()).cumsum()).cumcount()
    scored = (age >= SKIP_AFTER_SWITCH) & (got != "unknown")
    return float((got[scored] == truth[scored]).mean())


def main() -> None:
    wall, cpu = median_ms()
    print(f"regime_series, 5,000 bars: median {wall:.2f} ms wall, {cpu:.2f} ms CPU")
    for timeframe in (Timeframe.D1, Timeframe.H1):
        scores = [accuracy(timeframe, seed) for seed in SEEDS]
        per_seed = " ".join(f"{s}:{a:.3f}" for s, a in zip(SEEDS, scores, strict=True))
        print(
            f"{timeframe.value} accuracy over {len(scores)} seeds: mean {np.mean(scores):.3f}, "
            f"min {min(scores):.3f}  ({per_seed})"
        )


if __name__ == "__main__":
    main()
