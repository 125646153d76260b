"""Live-data timings against stand-in servers on 127.0.0.1 (no internet), each printed beside
a floor measured in the same run.

Targets: a cached ``analyze`` of one symbol within 1.2x of the sample provider's time; a
100-symbol refresh from the stand-in Alpaca server in under 2 s (batched requests: one per
asset class, not 100 round trips); the paper venue matching 100,000 bars of pending orders
in under 1 s. Floors: one HTTP round trip to the stand-in, one fsynced SQLite commit (the
venue writes its fills in one), one NumPy pass over the bars, and importing pandas in a
fresh process (what any CLI run pays before its first line of work).

Run: ``uv run python bench/bench_live_data.py [--quick]`` (quick: small sizes, < 20 s).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from _floors import floor_fsynced_commit, floor_import_pandas, median_ms
from _quick import QUICK, exit_code

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.data.fake_alpaca_data import FakeAlpacaData, daily_bars  # noqa: E402
from tradecrew.config import BrokerSettings, Settings, get_settings  # noqa: E402
from tradecrew.data.alpaca import AlpacaProvider  # noqa: E402
from tradecrew.data.calendars import calendar_loader  # noqa: E402
from tradecrew.data.sample import SampleProvider  # noqa: E402
from tradecrew.tools.catalog import AnalyzeQuery, analyze_symbol, provider_for  # noqa: E402

KEY, SECRET = "bench-key", "bench-secret"


# --------------------------------------------------------------------------- the stand-in


def use_stand_in(home: str) -> FakeAlpacaData:
    """A started stand-in Alpaca server, with this process's settings (home, data URL, keys,
    the correlation peers) pointed at it."""
    srv = FakeAlpacaData(KEY, SECRET).start()
    os.environ.update(
        {
            "TRADECREW_HOME": home,
            "TRADECREW_DATA__ALPACA_DATA_URL": srv.url,
            "APCA_API_KEY_ID": KEY,
            "APCA_API_SECRET_KEY": SECRET,
            "TRADECREW_COMPONENTS__CORRELATION__PEERS": '["SPY","QQQ","MSFT","NVDA"]',
        }
    )
    get_settings.cache_clear()
    provider_for.cache_clear()
    return srv


def serve_sample_bars(srv: FakeAlpacaData, symbols: Iterable[str]) -> None:
    """The stand-in serves the sample's own D1 bars, moved forward by whole weeks to end near
    today, so the sample and alpaca sources analyse the same numbers."""
    last_day = datetime.now(UTC) - pd.Timedelta(days=1)
    weeks = (pd.Timestamp(last_day) - pd.Timestamp("2018-12-31", tz="UTC")).days // 7
    for sym in symbols:
        frame = SampleProvider().bars(sym, "D1")
        stamps = frame.index + pd.Timedelta(weeks=weeks, hours=5)
        srv.bars[(sym, "1Day")] = [
            {"t": t.isoformat().replace("+00:00", "Z"), "o": o, "h": h, "l": lo, "c": c, "v": v}
            for t, (o, h, lo, c, v) in zip(stamps, frame.to_numpy().tolist(), strict=True)
        ]


# --------------------------------------------------------------------------- floors


def floor_round_trip(srv: FakeAlpacaData) -> float:
    import requests

    session = requests.Session()
    session.get(srv.url + "/none")
    return median_ms(lambda: session.get(srv.url + "/none"), 10)


# --------------------------------------------------------------------------- figures


def cached_analyze(srv: FakeAlpacaData, runs: int) -> tuple[float, float]:
    """Median ms of ``analyze AAPL D1`` from the sample and from alpaca's warm cache, on the
    same numbers (the stand-in serves the sample's bars moved to end near today)."""
    serve_sample_bars(srv, ("AAPL", "SPY", "QQQ", "MSFT", "NVDA"))
    queries = {
        s: AnalyzeQuery(symbol="AAPL", timeframe="D1", source=s) for s in ("sample", "alpaca")
    }
    settings = get_settings()
    calendar = calendar_loader(settings)
    for q in queries.values():
        analyze_symbol(q, settings, calendar=calendar)  # fill caches
    before = len(srv.log)
    times: dict[str, list[float]] = {"sample": [], "alpaca": []}
    for _ in range(runs):  # interleaved: a busy machine slows both alike
        for source, q in queries.items():
            t0 = time.perf_counter()
            analyze_symbol(q, settings, calendar=calendar)
            times[source].append((time.perf_counter() - t0) * 1000)
    assert len(srv.log) == before, "a cached analyze made a request"
    return statistics.median(times["sample"]), statistics.median(times["alpaca"])


def refresh_100(srv: FakeAlpacaData) -> tuple[float, int, float, float, int]:
    """Seconds (wall, and CPU of this process: the stand-in's included) and requests for a
    first 100-symbol bars refresh, then seconds and requests for 100 quotes."""
    symbols = [f"S{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(100)]
    last_day = datetime.now(UTC) - pd.Timedelta(days=1)
    for i, sym in enumerate(symbols):
        srv.bars[(sym, "1Day")] = daily_bars(252, last_day, 50.0 + i)
        srv.set_quote(sym, bid=49.9 + i, ask=50.1 + i, last=50.0 + i)
    provider = AlpacaProvider(Settings())
    provider.refresh(symbols[:2], "D1")  # imports and the connection, outside the timing
    n0, t0, c0 = len(srv.log), time.perf_counter(), time.process_time()
    got = provider.refresh(symbols, "D1")
    bars_s, bars_n = time.perf_counter() - t0, len(srv.log) - n0
    bars_cpu = time.process_time() - c0
    assert len(got) == 100
    n0, t0 = len(srv.log), time.perf_counter()
    quotes = provider.quotes(symbols)
    quotes_s, quotes_n = time.perf_counter() - t0, len(srv.log) - n0
    assert len(quotes) == 100
    return bars_s, bars_n, bars_cpu, quotes_s, quotes_n


def paper_matching(n: int, folder: str) -> tuple[float, int, float]:
    """The venue's refresh over ``n`` new bars with working orders (read, match, write)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_paper import _bars, _orders

    from tradecrew.brokers import PaperBroker

    df = _bars(n)
    floor = median_ms(lambda: float(np.sum(df["low"].to_numpy() <= 1.0)), 5)
    best, fills = float("inf"), 0
    for i in range(2 if QUICK else 3):
        data = Path(folder) / f"AAPL_M1_{i}.parquet"
        df.iloc[:1].to_parquet(data)
        broker = PaperBroker(
            Path(folder) / f"p{i}.db",
            source=f"csv:{data}",
            settings=BrokerSettings(starting_cash=10_000_000),
        )
        for o in _orders(df):
            broker.submit(o)
        broker.refresh()  # the venue's clock starts at the first bar
        df.to_parquet(data)
        t0 = time.perf_counter()
        got = broker.refresh()
        elapsed = time.perf_counter() - t0
        broker.close()
        if elapsed < best:
            best, fills = elapsed, len(got)
    return best, fills, floor


def main() -> int:
    started = time.perf_counter()
    home = tempfile.mkdtemp(prefix="tradecrew-bench-live-")
    srv = use_stand_in(home)
    try:
        pandas_ms = floor_import_pandas()
        commit_ms = floor_fsynced_commit(home)
        trip_ms = floor_round_trip(srv)
        sample_ms, alpaca_ms = cached_analyze(srv, 8 if QUICK else 40)
        bars_s, bars_n, bars_cpu, quotes_s, quotes_n = refresh_100(srv)
        n = 20_000 if QUICK else 100_000
        paper_s, fills, pass_ms = paper_matching(n, home)
    finally:
        srv.stop()
    ratio = alpaca_ms / sample_ms
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"live data{' (quick)' if QUICK else ''}, load {load:.2f}")
    print("  floors")
    print(f"    importing pandas (fresh process)          {pandas_ms:9.1f} ms")
    print(f"    one fsynced SQLite commit                  {commit_ms:9.2f} ms")
    print(f"    one HTTP round trip to the stand-in        {trip_ms:9.2f} ms")
    print(f"    one NumPy pass over {n:,} bars       {pass_ms:9.3f} ms")
    print("  figures")
    print(
        f"    analyze AAPL D1, alpaca cached             {alpaca_ms:9.1f} ms  "
        f"(sample {sample_ms:.1f} ms: {ratio:.2f}x, target <= 1.2x; 0 requests)"
    )
    print(
        f"    refresh 100 symbols x 252 D1 bars          {bars_s * 1000:9.1f} ms  "
        f"({bars_n} request(s) = {bars_n} round-trip floors; CPU {bars_cpu * 1000:.0f} ms "
        "with the stand-in's; target < 2 s)"
    )
    print(
        f"    quotes of 100 symbols                      {quotes_s * 1000:9.1f} ms  "
        f"({quotes_n} request(s); 100 in series >= {100 * trip_ms:.0f} ms)"
    )
    print(
        f"    paper venue refresh, {n:,} bars            {paper_s * 1000:9.1f} ms  "
        f"({fills} fills, written in one commit; target < 1 s)"
    )
    met = ratio <= 1.2 and bars_s < 2.0 and paper_s < 1.0
    print(f"  targets {'met' if met else 'MISSED'}; wall {time.perf_counter() - started:.1f} s")
    return exit_code(met)


if __name__ == "__main__":
    sys.exit(main())
