"""Time the paper venue matching 100,000 bars of pending orders (target: under 1 s).

Three figures, best of a few runs: the pure matching engine over the bars (arrays ready),
the venue's whole ``refresh()`` (reading the new bars from a Parquet file through the csv
provider, matching, writing the fills in one transaction), and a floor: one NumPy pass over
the same arrays, which no matching can beat.

Run: ``uv run python bench/bench_paper.py [bars]``.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from _quick import size

from tradecrew.brokers import PaperBroker
from tradecrew.brokers.paper_fills import Tapes, Working, match_orders
from tradecrew.config import BrokerSettings
from tradecrew.models import Order, OrderType, Side

START = datetime(2024, 1, 2, tzinfo=UTC)


def _bars(n: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.0004, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    spread = np.abs(rng.normal(0, 0.0003, n)) * close
    index = pd.date_range(START, periods=n, freq="min", name="timestamp")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.integers(1_000, 5_000, n).astype(float),
        },
        index=index,
    )


def _orders(df: pd.DataFrame) -> list[Order]:
    """A handful of working orders: some fill (two with brackets), some never do."""
    lo, hi = float(df["low"].min()), float(df["high"].max())
    first = float(df["open"].iat[0])
    spec = [
        (Side.BUY, OrderType.LIMIT, first * 0.995, None, first * 0.98, first * 1.02),
        (Side.SELL, OrderType.LIMIT, first * 1.004, None, first * 1.02, first * 0.98),
        (Side.BUY, OrderType.STOP, None, first * 1.003, None, None),
        (Side.SELL, OrderType.STOP, None, first * 0.997, None, None),
        (Side.BUY, OrderType.STOP_LIMIT, first * 1.0025, first * 1.002, None, None),
        (Side.BUY, OrderType.LIMIT, lo * 0.5, None, None, None),  # never: scans every bar
        (Side.SELL, OrderType.LIMIT, hi * 2.0, None, None, None),
        (Side.BUY, OrderType.STOP, None, hi * 2.0, None, None),
    ]
    return [
        Order(
            client_order_id=f"b{i}",
            symbol="AAPL",
            side=side,
            quantity=10,
            order_type=kind,
            limit_price=limit,
            stop_price=stop,
            stop_loss=sl,
            take_profit=tp,
        )
        for i, (side, kind, limit, stop, sl, tp) in enumerate(spec)
    ]


def _working(orders: list[Order]) -> list[Working]:
    return [
        Working(
            key=o.client_order_id,
            seq=i,
            side=o.side,
            order_type=o.order_type,
            remaining=int(o.quantity),
            limit_price=o.limit_price,
            stop_price=o.stop_price,
            stop_loss=o.stop_loss,
            take_profit=o.take_profit,
        )
        for i, o in enumerate(orders)
    ]


def _best(fn, repeats: int = 5) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _venue_refresh(df: pd.DataFrame, orders: list[Order]) -> tuple[float, int]:
    """One refresh of a venue whose source gained ``len(df)`` bars since it last looked."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "AAPL_M1.parquet"
        df.iloc[:1].to_parquet(data)
        broker = PaperBroker(
            Path(tmp) / "p.db",
            source=f"csv:{data}",
            settings=BrokerSettings(starting_cash=10_000_000),
        )
        for o in orders:
            broker.submit(o)
        broker.refresh()  # starts the venue's clock at the first bar
        df.to_parquet(data)  # the source now has every bar
        t = time.perf_counter()
        fills = broker.refresh()
        elapsed = time.perf_counter() - t
        broker.close()
    return elapsed, len(fills)


def main(n: int = 100_000) -> None:
    df = _bars(n)
    orders = _orders(df)
    tapes = Tapes.from_arrays(
        list(df.index.to_pydatetime()),
        df["open"].to_numpy(),
        df["high"].to_numpy(),
        df["low"].to_numpy(),
        df["close"].to_numpy(),
        df["volume"].to_numpy(),
    )
    floor, _ = _best(lambda: float(np.sum(tapes.buy_low <= 1.0) + np.sum(tapes.buy_high)))
    engine, result = _best(lambda: match_orders(_working(orders), tapes, participation_rate=0.1))
    venue, venue_fills = min(_venue_refresh(df, orders) for _ in range(3))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"paper venue matching {n:,} bars, {len(orders)} working orders (load {load:.2f})")
    print(f"  floor: one NumPy pass over the bars      {floor * 1e3:8.2f} ms")
    print(
        f"  matching engine (arrays ready)           {engine * 1e3:8.2f} ms  "
        f"({len(result.fills)} fills, {len(result.events)} events)"
    )
    print(
        f"  venue refresh (read, match, write)       {venue * 1e3:8.2f} ms  ({venue_fills} fills)"
    )
    print(f"  target < 1 s for the venue refresh: {'met' if venue < 1.0 else 'MISSED'}")


if __name__ == "__main__":
    main(size(100_000, 5_000))
