"""Full analysis figures: one symbol on 5,000 bars warm, and 100 symbols on 2 processes.

Run: uv run python bench/bench_analyze.py
Targets: one analyze (every analyzer + fusion) median under 25 ms warm; 100 symbols of
5,000 bars in under 3 s on 2 cores.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ProcessPoolExecutor

import pandas as pd

from tradecrew.config import get_settings
from tradecrew.data.calendar_file import CalendarFile
from tradecrew.data.calendars import calendar_loader
from tradecrew.data.synthetic import generate_bars
from tradecrew.instruments import CATALOGUE
from tradecrew.models import Timeframe
from tradecrew.runtime import tune_allocator
from tradecrew.tools.analysis import analyze_frames
from tradecrew.tools.catalog import AnalyzeQuery, analyze_symbol

END = pd.Timestamp("2018-12-31", tz="UTC")


def _frames(n_symbols: int) -> list[tuple[str, pd.DataFrame]]:
    names = sorted(CATALOGUE)
    out = []
    for i in range(n_symbols):
        sym = names[i % len(names)]
        out.append((sym, generate_bars(sym, Timeframe.D1, 5000, END, seed=1000 + i)))
    return out


def _analyze_batch(batch: list[tuple[str, pd.DataFrame]]) -> int:
    peers = {"DXY": generate_bars("DXY", Timeframe.D1, 5000, END, seed=7)}
    settings = get_settings()
    calendar = CalendarFile(settings.components.calendar.file)  # parsed once for the batch
    for sym, bars in batch:
        analyze_frames(
            sym,
            bars,
            timeframe=Timeframe.D1,
            peers=peers,
            events=calendar.calendar,
            settings=settings,
        )
    return len(batch)


def main() -> None:
    tune_allocator()  # as the CLI and the MCP server do at start
    q = AnalyzeQuery(symbol="XAUUSD", timeframe="D1", source="sample")
    settings = get_settings()
    calendar = calendar_loader(settings)
    analyze_symbol(q, settings, calendar=calendar)
    times = []
    for _ in range(50):
        t = time.perf_counter()
        analyze_symbol(q, settings, calendar=calendar)
        times.append(time.perf_counter() - t)
    print(
        f"analyze XAUUSD D1 (5,000 bars, 4 peers), warm: median "
        f"{statistics.median(times) * 1e3:.1f} ms, best {min(times) * 1e3:.1f} ms "
        f"(target < 25 ms)"
    )

    frames = _frames(100)
    halves = [frames[0::2], frames[1::2]]
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_analyze_batch, [h[:2] for h in halves]))  # warm the workers
        t = time.perf_counter()
        done = sum(pool.map(_analyze_batch, halves))
        elapsed = time.perf_counter() - t
    print(f"{done} symbols x 5,000 bars on 2 processes: {elapsed:.2f} s (target < 3 s)")


if __name__ == "__main__":
    main()
