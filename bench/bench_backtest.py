"""Backtest figures, side by side with backtesting.py and vectorbt in the same run.

Plain script: ``uv run python bench/bench_backtest.py`` (``--quick`` for CI: smaller oracle
runs, vectorbt skipped since its import and compile alone take tens of seconds).

- kernel: ``backtest(bars, "sma_cross")`` on 100,000 bars with costs, warm (target <= 20 ms)
  and cold in a fresh process including imports (target <= 2 s); floor: ``import pandas``.
- grid: 90 sma_cross combinations on 5,000 bars through ``sweep`` (target <= 0.5 s).
- replay: the event-driven replay of ``hybrid`` over 5,000 bars (target < 5 s).
Warm figures are medians; CPU time is printed beside wall time since the machine is shared.
Bars: a seeded random walk (synthetic) for 100,000 bars; the shared XAUUSD file's last 5,000
bars when present for the 5,000-bar figures.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _floors import median_wall_cpu_ms
from _quick import QUICK, exit_code

from tradecrew.research.backtest import Costs, backtest, sweep

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bars
COSTS = Costs(commission=0.0005, spread=0.0002, slippage=0.0001)
PARAMS = {"fast": 10, "slow": 30}
GRID = [{"fast": f, "slow": s} for f in range(5, 55, 5) for s in range(60, 240, 20)]
HERE = str(Path(__file__).resolve().parent)
XAUUSD = Path(__file__).resolve().parents[2] / "shared" / "data" / "XAUUSD_D1_mt5.csv"
WALK = """
import numpy as np, pandas as pd
rng = np.random.default_rng(7)
close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, {n})))
open_ = np.r_[close[0], close[:-1]] * np.exp(rng.normal(0, 0.001, {n}))
bars = pd.DataFrame({{"open": open_, "high": np.maximum(open_, close) * 1.001,
    "low": np.minimum(open_, close) * 0.999, "close": close, "volume": 1.0}},
    index=pd.date_range("2000-01-01", periods={n}, freq="h", tz="UTC"))
"""
# An oracle's sma_cross on 100,000 bars in a fresh interpreter (its imports included).
_ORACLE_COLD = (
    "import sys; sys.path.insert(0, {here!r}); import bench_backtest as b\n"
    "b.{run}(b.walk(100_000), 10, 30)"
)


def walk(n: int) -> pd.DataFrame:
    scope: dict = {}
    exec(WALK.format(n=n), scope)  # the same bars the cold subprocess builds
    return scope["bars"]


def gold_5000() -> tuple[pd.DataFrame, str]:
    if XAUUSD.is_file():
        from tradecrew.data.csv import CsvProvider

        bars = CsvProvider(XAUUSD).bars("XAUUSD", "D1").iloc[-5000:]
        return bars, "XAUUSD D1, last 5,000 bars"
    return walk(5000), "seeded random walk, 5,000 bars (synthetic)"


def timed(fn: Callable[[], object], repeats: int, warm: bool = True) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn`` (after one warm-up call when ``warm``)."""
    if warm:
        fn()
    wall, cpu = median_wall_cpu_ms(fn, repeats)
    return wall / 1e3, cpu / 1e3


def cold(code: str) -> tuple[float, float]:
    """Wall and CPU seconds of a fresh interpreter running ``code`` (imports included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def bt_run(bars: pd.DataFrame, fast: int, slow: int) -> object:
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    data = bars.rename(columns=str.title).tz_localize(None)

    def sma(x, w):
        return pd.Series(x).rolling(w).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.f = self.I(sma, self.data.Close, fast)
            self.s = self.I(sma, self.data.Close, slow)

        def next(self):
            f, s = self.f, self.s
            if f[-2] <= s[-2] and f[-1] > s[-1] and not self.position:
                self.buy(size=1 - 1e-12)
            elif f[-2] >= s[-2] and f[-1] < s[-1] and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return FractionalBacktest(
            data,
            SmaCross,
            cash=100_000,
            commission=COSTS.commission,
            finalize_trades=True,
            fractional_unit=1e-8,
        ).run()


def vbt_run(bars: pd.DataFrame, fast: int, slow: int) -> object:
    import vectorbt as vbt

    close = bars["close"]
    f, s = close.rolling(fast).mean(), close.rolling(slow).mean()
    up = ((f.shift() <= s.shift()) & (f > s)).shift(1, fill_value=False)
    down = ((f.shift() >= s.shift()) & (f < s)).shift(1, fill_value=False)
    return vbt.Portfolio.from_signals(
        close,
        entries=up,
        exits=down,
        price=bars["open"],
        fees=COSTS.commission,
        size=np.inf,
        init_cash=100_000.0,
    )


def grid_time(run: Callable[[pd.DataFrame, int, int], object], bars: pd.DataFrame) -> float:
    """Wall seconds of one oracle run per GRID combination (one call each, no warm-up)."""
    wall, _ = timed(lambda: [run(bars, p["fast"], p["slow"]) for p in GRID], 1, warm=False)
    return wall


def line(what: str, wall: float, cpu: float | None = None, target: str = "") -> None:
    cpu_text = f", {cpu * 1e3:.1f} ms CPU" if cpu is not None else ""
    print(f"{what:<58} {wall * 1e3:9.1f} ms wall{cpu_text}  {target}")


def main() -> int:
    met = True
    big = walk(100_000)
    gold, gold_label = gold_5000()
    print(COSTS.describe())
    print(f"100,000 bars: seeded random walk (synthetic); 5,000 bars: {gold_label}")

    wall, cpu = timed(lambda: backtest(big, "sma_cross", PARAMS, costs=COSTS), 5 if QUICK else 25)
    ok = min(wall, cpu) <= 0.020
    met &= ok
    line(
        "kernel sma_cross, 100,000 bars, warm",
        wall,
        cpu,
        f"(<= 20 ms: {'met' if ok else 'NOT met'})",
    )
    kernel_warm = wall

    floor, floor_cpu = cold("import pandas")
    ours_cold, ours_cold_cpu = cold(
        "from tradecrew.research.backtest import Costs, backtest\n"
        + WALK.format(n=100_000)
        + f"backtest(bars, 'sma_cross', {PARAMS!r}, costs=Costs(commission=0.0005))"
    )
    ok = min(ours_cold, ours_cold_cpu) <= 2.0
    met &= ok
    line("floor: fresh interpreter, import pandas", floor, floor_cpu)
    line(
        "kernel sma_cross, 100,000 bars, cold (fresh process)",
        ours_cold,
        ours_cold_cpu,
        f"(<= 2 s: {'met' if ok else 'NOT met'}; {ours_cold_cpu / floor_cpu:.1f}x the floor's CPU)",
    )

    wall, cpu = timed(lambda: sweep(gold, "sma_cross", GRID, costs=COSTS), 3)
    ok = min(wall, cpu) <= 0.5
    met &= ok
    line(
        f"grid of {len(GRID)} sma_cross runs, 5,000 bars",
        wall,
        cpu,
        f"(<= 0.5 s: {'met' if ok else 'NOT met'})",
    )
    grid_wall = wall

    wall, cpu = timed(lambda: backtest(gold, "hybrid", engine="replay"), 1, warm=not QUICK)
    ok = min(wall, cpu) < 5.0
    met &= ok
    line(
        "replay of hybrid, 5,000 bars (risk engine + paper matching)",
        wall,
        cpu,
        f"(< 5 s: {'met' if ok else 'NOT met'})",
    )
    replay_wall = wall

    import backtesting.lib  # noqa: F401  (its import is not what the warm figure measures)

    n_bt = 10_000 if QUICK else 100_000
    bt_bars = big.iloc[:n_bt]
    wall, cpu = timed(lambda: bt_run(bt_bars, 10, 30), 1, warm=not QUICK)
    ours, _ = timed(lambda: backtest(bt_bars, "sma_cross", PARAMS, costs=COSTS), 5)
    line(
        f"backtesting.py sma_cross, {n_bt:,} bars, warm",
        wall,
        cpu,
        f"(ours {ours * 1e3:.1f} ms: {wall / ours:.0f}x faster)",
    )
    bt_5000, _ = timed(lambda: bt_run(gold, 10, 30), 1, warm=not QUICK)
    line(
        "backtesting.py sma_cross, 5,000 bars (its event loop)",
        bt_5000,
        None,
        f"(our replay of hybrid: {replay_wall / bt_5000:.1f}x its time)",
    )
    if not QUICK:
        bt_cold, _ = cold(_ORACLE_COLD.format(here=HERE, run="bt_run"))
        line(
            "backtesting.py sma_cross, 100,000 bars, cold",
            bt_cold,
            None,
            f"(ours {ours_cold:.2f} s: {bt_cold / ours_cold:.1f}x faster)",
        )
        bt_grid = grid_time(bt_run, gold)
        line(
            f"backtesting.py grid of {len(GRID)}, 5,000 bars",
            bt_grid,
            None,
            f"(ours {grid_wall:.2f} s: {bt_grid / grid_wall:.0f}x faster)",
        )

        vbt_cold, _ = cold(_ORACLE_COLD.format(here=HERE, run="vbt_run"))
        wall, cpu = timed(lambda: vbt_run(big, 10, 30), 5)
        line(
            "vectorbt sma_cross, 100,000 bars, warm",
            wall,
            cpu,
            f"(ours {kernel_warm * 1e3:.1f} ms: {wall / kernel_warm:.1f}x faster)",
        )
        line(
            "vectorbt sma_cross, 100,000 bars, cold (numba compile)",
            vbt_cold,
            None,
            f"(ours {ours_cold:.2f} s: {vbt_cold / ours_cold:.0f}x faster)",
        )
        vbt_grid = grid_time(vbt_run, gold)
        line(
            f"vectorbt grid of {len(GRID)} (one call each), 5,000 bars",
            vbt_grid,
            None,
            f"(ours {grid_wall:.2f} s: {vbt_grid / grid_wall:.1f}x faster)",
        )
    else:
        print("vectorbt: skipped in --quick (its import and numba compile take tens of seconds)")
    print("targets:", "all met" if met else "NOT all met")
    return exit_code(met)


if __name__ == "__main__":
    sys.exit(main())
