"""Data-layer timings: reading a MetaTrader CSV, serving cached sample bars, and the alpaca
provider against a stand-in Alpaca data server on 127.0.0.1 (no internet).

Run: ``python bench/bench_data.py`` (CSV figures need shared/data beside the checkout).
Targets (alpaca): a cached ``analyze`` of one symbol within 1.2x of the sample provider's
time; a 100-symbol refresh from the local stand-in server in under 2 s.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def alpaca_figures() -> None:
    """Cached analyze vs the sample provider on the same symbols, and batched refreshes."""
    import tempfile
    from datetime import UTC, datetime

    import pandas as pd
    from bench_live_data import serve_sample_bars, use_stand_in

    from tests.data.fake_alpaca_data import daily_bars
    from tradecrew.config import Settings, get_settings
    from tradecrew.data.alpaca import AlpacaProvider
    from tradecrew.data.calendars import calendar_loader
    from tradecrew.tools.catalog import AnalyzeQuery, analyze_symbol, provider_for

    last_day = datetime.now(UTC) - pd.Timedelta(days=1)
    srv = use_stand_in(tempfile.mkdtemp(prefix="tradecrew-bench-"))
    # The peers are served by both sources, so both do equal work.
    serve_sample_bars(srv, ["AAPL", "SPY", "QQQ", "MSFT", "NVDA"])
    settings = get_settings()
    calendar = calendar_loader(settings)  # one reader of the calendar file, as a desk holds

    def analyze(q: AnalyzeQuery) -> Any:
        return analyze_symbol(q, settings, calendar=calendar)

    try:
        queries = {
            source: AnalyzeQuery(symbol="AAPL", timeframe="D1", source=source)
            for source in ("sample", "alpaca")
        }
        sizes = {s: analyze(q).bars for s, q in queries.items()}  # fill cache / memo
        assert sizes["sample"] == sizes["alpaca"], sizes  # the same work on both sides
        runs: dict[str, list[float]] = {"sample": [], "alpaca": []}
        for _ in range(40):  # interleaved, so a busy machine slows both alike
            for source, q in queries.items():
                t0 = time.perf_counter()
                analyze(q)
                runs[source].append((time.perf_counter() - t0) * 1000)
        figures = {s: statistics.median(r) for s, r in runs.items()}
        requests_before = len(srv.log)
        q = AnalyzeQuery(symbol="AAPL", timeframe="D1", source="alpaca")

        def fresh_process() -> None:
            provider_for.cache_clear()  # a new provider reads the parquet files, as a new CLI run
            analyze(q)

        from_disk, _ = _time(fresh_process, 15)
        assert len(srv.log) == requests_before, "a cached analyze made a request"
        ratio = figures["alpaca"] / figures["sample"]
        print(
            f"analyze AAPL D1 (5,000 bars, 4 peers): sample {figures['sample']:.1f} ms, "
            f"alpaca cached {figures['alpaca']:.1f} ms ({ratio:.2f}x, target <= 1.2x); "
            f"alpaca from the disk cache (new provider) {from_disk:.1f} ms; 0 requests"
        )

        symbols = [f"S{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(100)]
        for i, sym in enumerate(symbols):
            srv.bars[(sym, "1Day")] = daily_bars(252, last_day, 50.0 + i)
        clock = {"now": pd.Timestamp.now(tz="UTC")}
        settings = Settings()
        provider = AlpacaProvider(settings, clock=lambda: clock["now"])
        provider.refresh(symbols[:2], "D1")  # imports and the connection, outside the timing
        n0 = len(srv.log)
        t0 = time.perf_counter()
        got = provider.refresh(symbols, "D1")
        cold = time.perf_counter() - t0
        assert len(got) == 100
        print(
            f"refresh 100 symbols x 252 D1 bars, first fetch: {cold:.2f} s in "
            f"{len(srv.log) - n0} requests (target < 2 s)"
        )
        for sym in symbols:  # one new day everywhere, then the TTL runs out
            bar = dict(srv.bars[(sym, "1Day")][-1])
            bar["t"] = (pd.Timestamp(bar["t"]) + pd.Timedelta(days=1)).isoformat()
            srv.bars[(sym, "1Day")].append(bar)
        clock["now"] += pd.Timedelta(hours=2)
        n0 = len(srv.log)
        t0 = time.perf_counter()
        provider.refresh(symbols, "D1")
        warm = time.perf_counter() - t0
        print(
            f"refresh 100 symbols, incremental (stale cache): {warm:.2f} s in "
            f"{len(srv.log) - n0} request(s) (target < 2 s)"
        )
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
    alpaca_figures()
