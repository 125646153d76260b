"""Time the serve daemon's hot paths and check it does not leak.

Targets: a risk-watch cycle over 100 open positions < 50 ms; ``/metrics`` for 100 symbols
rendered < 30 ms; scheduler jitter < 50 ms (p99, idle machine); process memory after 10,000
watch cycles within 10 % of its memory after 100. Each figure is printed beside two floors
measured in the same run: one fsynced SQLite commit and importing pandas.

Run: ``uv run python bench/bench_serve.py [cycles]`` (``--quick``: 400 cycles, < 20 s).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from _floors import floor_fsynced_commit, floor_import_pandas, median_ms
from _quick import QUICK, exit_code, size
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from tradecrew.config import Settings
from tradecrew.desk import Desk
from tradecrew.instruments import provided_instrument
from tradecrew.ledger import Ledger
from tradecrew.models import (
    Account,
    AccountMode,
    AssetClass,
    Fill,
    Order,
    Position,
    Quote,
    utcnow,
)
from tradecrew.serve.metrics import DeskMetrics
from tradecrew.serve.quotes import QuoteBook
from tradecrew.serve.watch import Watcher

POSITIONS = 100


class BookOf100:
    """A broker stand-in holding 100 marked positions: the watch's reads cost what the
    venue's answer costs, which is not what this measures."""

    name = "bench"
    mode = AccountMode.PAPER

    def __init__(self) -> None:
        self.symbols = [f"BENCH{i:03d}" for i in range(POSITIONS)]
        for s in self.symbols:
            provided_instrument(s, AssetClass.EQUITY, "bench")
        self._positions = [
            Position(symbol=s, quantity=1 + i % 5, average_price=50.0, market_price=50.5)
            for i, s in enumerate(self.symbols)
        ]

    def account(self) -> Account:
        return Account(account_id="bench", broker="bench", cash=1e6, equity=1.0e6, buying_power=1e6)

    def positions(self) -> list[Position]:
        return list(self._positions)

    def orders(self, open_only: bool = False) -> list[Order]:
        return []

    def get_order_by_client_id(self, client_order_id: str) -> Order | None:
        return None

    def quote(self, symbol: str) -> Quote:
        return Quote(symbol=symbol, bid=50.4, ask=50.6, last=50.5, timestamp=utcnow())

    def fills(self, since: datetime | None = None) -> list[Fill]:
        return []


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def watch_cycles(home: Path, cycles: int) -> tuple[float, float, int, int]:
    """Median watch cycle (ms), /metrics render for 100 symbols (ms), RSS after 100 cycles
    and after ``cycles`` (KiB)."""
    settings = Settings(home=home, serve={"crew": {}})
    desk = Desk(Ledger(f"sqlite:///{home / 'l.db'}"), BookOf100(), settings)  # type: ignore[arg-type]
    metrics = DeskMetrics()
    quotes = QuoteBook()
    watcher = Watcher(desk, metrics, quotes, structlog.get_logger("bench"))
    symbols = desk.broker.symbols  # type: ignore[attr-defined]
    try:
        times: list[float] = []
        rss_100 = 0
        for i in range(cycles):
            t0 = time.perf_counter()
            result = watcher.run()
            times.append((time.perf_counter() - t0) * 1000)
            if i == 0:
                assert len(result.findings) == 0 and result.figures is not None
                assert result.figures.gross > 0
            now = utcnow()
            for s in symbols[:10]:  # the refresh job's work, spread over cycles
                quotes.saw(desk.broker.quote(s), now)
            metrics.set_data_ages(quotes.ages(symbols, now))
            if i == 99:
                rss_100 = rss_kib()
        for s in symbols:
            quotes.saw(desk.broker.quote(s), utcnow())
        metrics.set_data_ages(quotes.ages(symbols, utcnow()))
        page = metrics.render()
        assert page.count(b"tradecrew_data_age_seconds{") == POSITIONS
        render_ms = median_ms(metrics.render, 50)
        return statistics.median(times), render_ms, rss_100, rss_kib()
    finally:
        desk.close()


def scheduler_jitter(runs: int, every: float = 0.05) -> tuple[float, float]:
    """p99 and max lateness (ms) of an interval job against its schedule."""
    late: list[float] = []
    done = threading.Event()
    start = datetime.now(UTC) + timedelta(seconds=0.2)

    def job() -> None:
        now = datetime.now(UTC)
        k = round((now - start).total_seconds() / every)
        late.append((now - (start + timedelta(seconds=k * every))).total_seconds() * 1000)
        if len(late) >= runs:
            done.set()

    scheduler = BackgroundScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        timezone=UTC,
    )
    scheduler.add_job(job, IntervalTrigger(seconds=every, start_date=start, timezone=UTC))
    scheduler.start()
    done.wait(runs * every * 4 + 5)
    scheduler.shutdown(wait=True)
    q = statistics.quantiles(late, n=100)
    return q[98], max(late)


def main() -> int:
    started = time.perf_counter()
    cycles = size(10_000, 400)
    with tempfile.TemporaryDirectory(prefix="tradecrew-bench-serve-") as tmp:
        home = Path(tmp)
        pandas_ms = floor_import_pandas()
        commit_ms = floor_fsynced_commit(home)
        watch_ms, render_ms, rss_100, rss_n = watch_cycles(home, cycles)
    jitter_p99, jitter_max = scheduler_jitter(40 if QUICK else 200)
    growth = (rss_n - rss_100) / rss_100
    load = os.getloadavg()[0]
    print(f"serve{' (quick)' if QUICK else ''}, load {load:.2f}")
    print("  floors")
    print(f"    importing pandas (fresh process)          {pandas_ms:9.1f} ms")
    print(f"    one fsynced SQLite commit                  {commit_ms:9.2f} ms")
    print("  figures")
    print(
        f"    watch cycle, {POSITIONS} open positions            {watch_ms:9.2f} ms  (target < 50)"
    )
    print(
        f"    /metrics rendered, {POSITIONS} symbols            {render_ms:9.2f} ms  (target < 30)"
    )
    print(
        f"    scheduler jitter p99 (max)                 {jitter_p99:9.2f} ms  "
        f"({jitter_max:.1f} ms; target < 50)"
    )
    print(
        f"    RSS after 100 / {cycles:,} watch cycles   {rss_100 / 1024:6.1f} / "
        f"{rss_n / 1024:.1f} MiB  ({growth:+.1%}; target within 10 %)"
    )
    met = watch_ms < 50 and render_ms < 30 and jitter_p99 < 50 and abs(growth) <= 0.10
    print(f"  targets {'met' if met else 'MISSED'}; wall {time.perf_counter() - started:.1f} s")
    return exit_code(met)


if __name__ == "__main__":
    sys.exit(main())
