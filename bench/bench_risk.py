"""Time the risk engine over many varied proposals and print p50/p99 (target: p99 < 1 ms).

Run: ``.venv/bin/python bench/bench_risk.py [n]``.
"""

from __future__ import annotations

import os
import random
import statistics
import time
from datetime import UTC, datetime

from _quick import size

from tradecrew.config import RiskSettings
from tradecrew.instruments import CATALOGUE
from tradecrew.models import (
    Account,
    Order,
    OrderType,
    Position,
    Proposal,
    Quote,
    Side,
    TradingState,
)
from tradecrew.risk import RiskContext, evaluate

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
SYMBOLS = ["EURUSD", "EURJPY", "USDJPY", "GBPUSD", "XAUUSD", "AAPL", "BTCUSD", "SPX", "MSFT"]


def _case(rng: random.Random) -> tuple[Proposal, RiskContext]:
    symbol = rng.choice(SYMBOLS)
    inst = CATALOGUE[symbol]
    prices = {s: CATALOGUE[s].typical_price * rng.uniform(0.9, 1.1) for s in SYMBOLS}
    price = prices[symbol]
    side = rng.choice(list(Side))
    limit_order = rng.random() < 0.4
    positions = [
        Position(
            symbol=s,
            quantity=CATALOGUE[s].min_quantity * rng.randint(-200, 200),
            average_price=prices[s],
            market_price=prices[s],
        )
        for s in rng.sample(SYMBOLS, rng.randint(0, 6))
    ]
    orders = [
        Order(
            client_order_id=f"c{i}",
            symbol=s,
            side=rng.choice(list(Side)),
            quantity=CATALOGUE[s].min_quantity * rng.randint(1, 50),
        )
        for i, s in enumerate(rng.sample(SYMBOLS, rng.randint(0, 3)))
    ]
    equity = rng.uniform(20_000, 500_000)
    ctx = RiskContext(
        now=NOW,
        limits=RiskSettings(max_orders_per_minute=rng.randint(5, 60)),
        account=Account(
            account_id="bench",
            broker="paper",
            cash=equity,
            equity=equity,
            buying_power=equity,
            start_of_day_equity=equity * rng.uniform(0.98, 1.03),
            peak_equity=equity * rng.uniform(1.0, 1.12),
            timestamp=NOW,
        ),
        positions=positions,
        open_orders=orders,
        quote=Quote(
            symbol=symbol, bid=price * 0.9999, ask=price * 1.0001, last=price, timestamp=NOW
        ),
        last_price=price,
        instrument=inst,
        atr=price * rng.uniform(0.002, 0.03) if rng.random() < 0.8 else None,
        signal_confidence=rng.random() if rng.random() < 0.5 else None,
        correlations={p.symbol: rng.uniform(-1, 1) for p in positions},
        in_blackout=rng.random() < 0.1,
        risk_reduction=0.5,
        market_open=rng.choice([True, None, False]),
        orders_last_minute=rng.randint(0, 40),
        trading_state=rng.choice([TradingState.ACTIVE] * 8 + [TradingState.REDUCING]),
        prices=prices,
    )
    proposal = Proposal(
        id=f"prp_{rng.getrandbits(32):08x}",
        created_at=NOW,
        symbol=symbol,
        side=side,
        quantity=inst.min_quantity * rng.randint(1, 500),
        order_type=OrderType.LIMIT if limit_order else OrderType.MARKET,
        limit_price=price * rng.uniform(0.97, 1.03) if limit_order else None,
        stop_loss=price * (1 - side.sign * rng.uniform(0.002, 0.03))
        if rng.random() < 0.5
        else None,
    )
    return proposal, ctx


def _report(label: str, timings: list[float]) -> float:
    q = statistics.quantiles(timings, n=100)
    print(
        f"  {label:<22} p50 {q[49]:.3f} ms   p90 {q[89]:.3f} ms   p99 {q[98]:.3f} ms   "
        f"max {max(timings):.3f} ms"
    )
    return q[98]


def main(n: int = 5_000, repeats: int = 3) -> None:
    rng = random.Random(7)
    cases = [_case(rng) for _ in range(n)]
    for p, ctx in cases[:200]:  # warm caches and imports
        evaluate(p, ctx)
    every, best, approved, shrunk = [], [], 0, 0
    for p, ctx in cases:
        runs = []
        for _ in range(repeats):
            start = time.perf_counter_ns()
            d = evaluate(p, ctx)
            runs.append((time.perf_counter_ns() - start) / 1e6)
        every.extend(runs)
        best.append(min(runs))
        approved += d.approved
        shrunk += d.approved and d.approved_quantity < p.quantity
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"evaluate() over {n} varied proposals x {repeats} (load average {load:.2f})")
    _report("every call", every)
    p99 = _report(f"best of {repeats} per case", best)
    print(f"  approved {approved / n:.1%} (shrunk {shrunk / n:.1%}), denied {1 - approved / n:.1%}")
    print(
        f"  target p99 < 1 ms (best of {repeats}, i.e. without scheduler noise): "
        f"{'met' if p99 < 1.0 else 'MISSED'}"
    )


if __name__ == "__main__":
    main(size(5_000, 200))
