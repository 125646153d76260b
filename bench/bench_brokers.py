"""Paper venue round trip: submit a market order and have it filled, p50/p99 in ms.

Run: ``.venv/bin/python bench/bench_brokers.py`` (plain script; pytest does not collect it).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tradecrew.brokers import PaperBroker
from tradecrew.config import BrokerSettings
from tradecrew.models import Bar, Order, OrderType, Quote, Side


def _quote(symbol: str) -> Quote:
    return Quote(symbol=symbol, bid=99.99, ask=100.01, last=100.0, timestamp=datetime.now(UTC))


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(0.99 * (len(ordered) - 1))]


def bench(path: Path | str, n: int = 500) -> dict[str, tuple[float, float]]:
    broker = PaperBroker(path, quote_fn=_quote, settings=BrokerSettings())
    market, resting = [], []
    for i in range(n):
        side = Side.BUY if i % 2 == 0 else Side.SELL
        t0 = time.perf_counter()
        placed = broker.submit(Order(client_order_id=f"m{i}", symbol="AAPL", side=side, quantity=1))
        market.append((time.perf_counter() - t0) * 1000)
        assert placed.filled_quantity == 1
    for i in range(n // 5):
        t0 = time.perf_counter()
        broker.submit(
            Order(
                client_order_id=f"l{i}",
                symbol="AAPL",
                side=Side.BUY,
                quantity=1,
                order_type=OrderType.LIMIT,
                limit_price=90.0,
            )
        )
        fills = broker.process_market(
            "AAPL", Bar(timestamp=datetime.now(UTC), open=95, high=96, low=89, close=90)
        )
        resting.append((time.perf_counter() - t0) * 1000)
        assert len(fills) == 1
    broker.close()
    return {
        "market submit+fill": _percentiles(market),
        "limit submit + bar fill": _percentiles(resting),
    }


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        for label, path in (("file (WAL)", Path(tmp) / "paper.db"), ("in memory", ":memory:")):
            for name, (p50, p99) in bench(path).items():
                print(f"paper {label:11s} {name:24s} p50 {p50:6.2f} ms  p99 {p99:6.2f} ms")
