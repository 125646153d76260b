"""Regime classifier figures: median time of ``regime_series`` on 5,000 bars, and accuracy.

Run: ``.venv/bin/python bench/bench_regime.py`` (``--quick``: fewer repeats and seeds).
Accuracy is scored against the synthetic generator's true labels, after warm-up and skipping
30 bars after each regime switch. The time is printed beside a floor measured in the same run:
one pandas rolling mean over the same closes.
"""

from __future__ import annotations

import numpy as np
from _floors import median_ms as floor_ms
from _floors import median_wall_cpu_ms
from _quick import QUICK

from tradecrew.data.synthetic import generate_regime_path
from tradecrew.models import Timeframe
from tradecrew.tools.regime import regime_series

SEEDS = range(1, 3) if QUICK else range(1, 11)
SKIP_AFTER_SWITCH = 30


def median_ms(n_bars: int = 5000, repeats: int = 50) -> tuple[float, float, float]:
    """Median wall and CPU milliseconds of ``regime_series`` on ``n_bars`` bars, and the
    floor's wall milliseconds."""
    bars, _ = generate_regime_path(n_bars, 1)
    regime_series(bars)  # warm caches and imports
    wall, cpu = median_wall_cpu_ms(lambda: regime_series(bars), repeats)
    return wall, cpu, floor_ms(lambda: bars["close"].rolling(20).mean(), repeats)


def accuracy(timeframe: Timeframe, seed: int, n_bars: int = 5000) -> float:
    bars, truth = generate_regime_path(n_bars, seed, timeframe=timeframe)
    got = regime_series(bars)["regime"]
    age = truth.groupby((truth != truth.shift()).cumsum()).cumcount()
    scored = (age >= SKIP_AFTER_SWITCH) & (got != "unknown")
    return float((got[scored] == truth[scored]).mean())


def main() -> None:
    wall, cpu, floor = median_ms(repeats=5 if QUICK else 50)
    print(f"floor: one pandas rolling mean over 5,000 closes {floor:.3f} ms")
    print(
        f"regime_series, 5,000 bars: median {wall:.2f} ms wall, {cpu:.2f} ms CPU "
        f"({wall / floor:.0f}x the floor)"
    )
    for timeframe in (Timeframe.D1, Timeframe.H1):
        scores = [accuracy(timeframe, seed) for seed in SEEDS]
        per_seed = " ".join(f"{s}:{a:.3f}" for s, a in zip(SEEDS, scores, strict=True))
        print(
            f"{timeframe.value} accuracy over {len(scores)} seeds: mean {np.mean(scores):.3f}, "
            f"min {min(scores):.3f}  ({per_seed})"
        )


if __name__ == "__main__":
    main()
