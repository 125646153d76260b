"""Data-layer timings: reading a MetaTrader CSV and serving cached sample bars.

Run: ``python bench/bench_data.py`` (CSV figures need shared/data beside the checkout).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from tradecrew.data.csv import CsvProvider
from tradecrew.data.csv_read import read_bars_file
from tradecrew.data.sample import SampleProvider

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _time(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and best wall time in milliseconds."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs), min(runs)


def main() -> None:
    xau = SHARED / "XAUUSD_D1_mt5.csv"
    if xau.is_file():
        read_bars_file(xau)  # warm imports
        med, best = _time(lambda: read_bars_file(xau), 50)
        print(f"read XAUUSD_D1_mt5.csv (5,391 rows): median {med:.2f} ms, best {best:.2f} ms")
        provider = CsvProvider(xau)
        provider.bars("XAUUSD", "D1")
        med, best = _time(lambda: provider.bars("XAUUSD", "D1"), 200)
        print(f"CsvProvider.bars XAUUSD D1, warm: median {med * 1e3:.0f} us")
        med, best = _time(lambda: CsvProvider(xau).bars("XAUUSD", "W1"), 20)
        print(f"CsvProvider(...).bars XAUUSD W1 (read + resample): median {med:.2f} ms")
    else:
        print(f"shared data not found at {SHARED}; skipping the CSV figures")

    sample = SampleProvider()
    t0 = time.perf_counter()
    sample.bars("SPX", "D1")
    print(f"SampleProvider.bars SPX D1, first call: {(time.perf_counter() - t0) * 1000:.2f} ms")
    med, best = _time(lambda: sample.bars("SPX", "D1"), 1000)
    print(f"SampleProvider.bars SPX D1, warm: median {med * 1e3:.0f} us, best {best * 1e3:.0f} us")
    t0 = time.perf_counter()
    sample.bars("EURUSD", "H1")
    first = (time.perf_counter() - t0) * 1000
    print(f"SampleProvider.bars EURUSD H1 (synthetic), first call: {first:.2f} ms")
    med, _ = _time(lambda: sample.bars("EURUSD", "H1", start="2018-12-01"), 200)
    print(f"SampleProvider.bars EURUSD H1 with start filter, warm: median {med * 1e3:.0f} us")


if __name__ == "__main__":
    main()
