"""Oracles: backtesting.py and vectorbt (dev dependencies only, never imported by the package)
make the same sma_cross trades as the kernel on the same real bars and commission.

How each is configured to mean what the issue means:
- backtesting.py: ``FractionalBacktest`` (fractional units), ``size=1 - 1e-12`` (all the
  equity; a size of exactly 1 would mean one unit), ``trade_on_close=False`` (next open),
  ``finalize_trades=True`` plus one appended bar whose open is the last close, so the final
  close happens at the last close; its strategy places no order on the last real bar, since
  our engine has no next open to fill one at. Its commission, like ours, is a fraction of
  notional per side. Spread is left at 0: backtesting.py charges the full spread on entry
  only, a different convention.
- vectorbt: ``from_signals`` with signals shifted one bar, ``price=open`` (next open),
  ``size=inf`` (units = cash / (price * (1 + fees))), and an exit at the last bar at its close.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from tradecrew.research.backtest import Costs, backtest

COMMISSION = 0.001


def _ours(bars, fast, slow):
    result = backtest(
        bars, "sma_cross", {"fast": fast, "slow": slow}, costs=Costs(commission=COMMISSION)
    )
    assert result.trades > 10
    return result


def _backtesting_py(bars: pd.DataFrame, fast: int, slow: int) -> pd.DataFrame:
    from backtesting import Strategy
    from backtesting.lib import FractionalBacktest

    n = len(bars)
    data = bars.rename(columns=str.title).tz_localize(None)
    last = data.iloc[[-1]].copy()
    last.index = last.index + pd.Timedelta(days=1)
    last[["Open", "High", "Low", "Close"]] = float(data["Close"].iloc[-1])
    data = pd.concat([data, last])

    def sma(x, w):
        return pd.Series(x).rolling(w).mean().to_numpy()

    class SmaCross(Strategy):
        def init(self):
            self.f = self.I(sma, self.data.Close, fast)
            self.s = self.I(sma, self.data.Close, slow)

        def next(self):
            if len(self.data) >= n:
                return
            f, s = self.f, self.s
            if f[-2] <= s[-2] and f[-1] > s[-1] and not self.position:
                self.buy(size=1 - 1e-12)
            elif f[-2] >= s[-2] and f[-1] < s[-1] and self.position:
                self.position.close()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = FractionalBacktest(
            data,
            SmaCross,
            cash=100_000,
            commission=COMMISSION,
            trade_on_close=False,
            finalize_trades=True,
            fractional_unit=1e-8,
        )
        stats = bt.run()
    trades = stats._trades.copy()
    trades["ExitBar"] = trades["ExitBar"].clip(upper=n - 1)  # the appended bar is the last close
    return trades


@pytest.mark.parametrize("name", ["goog", "xau"])
@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (20, 60)])
def test_backtesting_py_makes_the_same_trades(request, name, fast, slow):
    bars = request.getfixturevalue(name)
    ours = _ours(bars, fast, slow)
    theirs = _backtesting_py(bars, fast, slow)
    assert len(theirs) == ours.trades
    for t, (_, row) in zip(ours.trade_list, theirs.iterrows(), strict=True):
        assert (t.entry_index, t.exit_index) == (row.EntryBar, row.ExitBar)
        assert t.entry_price == pytest.approx(row.EntryPrice, rel=1e-12)
        assert t.exit_price == pytest.approx(row.ExitPrice, rel=1e-12)
        assert t.quantity == pytest.approx(row.Size, rel=1e-7)
        assert t.pnl == pytest.approx(row.PnL, rel=1e-6, abs=1e-3)


_VBT_SCRIPT = """
import json, sys
import numpy as np, pandas as pd
import vectorbt as vbt
out = []
for path, fast, slow in json.loads(sys.argv[1]):
    bars = pd.read_pickle(path)
    f, s = bars["close"].rolling(fast).mean(), bars["close"].rolling(slow).mean()
    up = (f.shift() <= s.shift()) & (f > s)
    down = (f.shift() >= s.shift()) & (f < s)
    entries, exits = up.shift(1, fill_value=False), down.shift(1, fill_value=False)
    price = bars["open"].copy()
    assert not entries.iloc[-1] and not exits.iloc[-1]  # the last bar's price is free
    exits.iloc[-1], price.iloc[-1] = True, bars["close"].iloc[-1]
    pf = vbt.Portfolio.from_signals(bars["close"], entries=entries, exits=exits, price=price,
                                    fees=float(sys.argv[2]), size=np.inf, init_cash=100_000.0)
    t = pf.trades.records_readable
    out.append({"final": float(pf.final_value()),
                "entry_time": [str(x) for x in t["Entry Timestamp"]],
                "exit_time": [str(x) for x in t["Exit Timestamp"]],
                "entry_price": t["Avg Entry Price"].tolist(),
                "exit_price": t["Avg Exit Price"].tolist(),
                "quantity": t["Size"].tolist(), "pnl": t["PnL"].tolist()})
print(json.dumps(out))
"""


@pytest.mark.slow
def test_vectorbt_makes_the_same_trades(goog, xau, tmp_path):
    """vectorbt in a child process with numba's JIT off: the same Python code, without a
    compile that costs most of a minute (its import still costs seconds)."""
    import json
    import os
    import subprocess
    import sys

    runs = []
    for name, bars, (fast, slow) in (("xau", xau, (10, 30)), ("goog", goog, (20, 60))):
        path = tmp_path / f"{name}.pkl"
        bars.to_pickle(path)
        runs.append((str(path), fast, slow))
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    done = subprocess.run(
        [sys.executable, "-c", _VBT_SCRIPT, json.dumps(runs), str(COMMISSION)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    for (bars, (fast, slow)), theirs in zip(
        ((xau, (10, 30)), (goog, (20, 60))), json.loads(done.stdout), strict=True
    ):
        ours = _ours(bars, fast, slow)
        assert len(theirs["pnl"]) == ours.trades
        for i, t in enumerate(ours.trade_list):
            assert str(pd.Timestamp(t.entry_time)) == theirs["entry_time"][i]
            assert str(pd.Timestamp(t.exit_time)) == theirs["exit_time"][i]
            assert t.entry_price == pytest.approx(theirs["entry_price"][i], rel=1e-12)
            assert t.exit_price == pytest.approx(theirs["exit_price"][i], rel=1e-12)
            assert t.quantity == pytest.approx(theirs["quantity"][i], rel=1e-9)
            assert t.pnl == pytest.approx(theirs["pnl"][i], rel=1e-9, abs=1e-6)
        assert ours.final_equity == pytest.approx(theirs["final"], rel=1e-12)


def test_the_package_never_imports_the_oracles():
    import subprocess
    import sys

    code = (
        "import sys, tradecrew.research.backtest as b;"
        "from tradecrew.research.backtest import replay, report, signals, data;"
        "bad = [m for m in ('backtesting', 'vectorbt') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
