"""The kernel against the issue's own definition of sma_cross, bar by bar, on real data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradecrew.research.backtest import Costs, backtest, sweep
from tradecrew.research.backtest.kernel import _binary, _general


def reference_sma_cross(bars: pd.DataFrame, fast: int, slow: int, c: float, e0: float):
    """The issue's words as a plain loop: enter at the next open after fast crosses above slow
    (<= then >), exit at the next open after it crosses below (>= then <), whole equity in
    units = equity / (open * (1 + c)), an open position closed at the last close."""
    o, cl = bars["open"].to_numpy(), bars["close"].to_numpy()
    f = pd.Series(cl).rolling(fast).mean().to_numpy()
    s = pd.Series(cl).rolling(slow).mean().to_numpy()
    cash, units, pending, entry, trades = e0, 0.0, None, None, []
    for i in range(len(cl)):
        if pending == "buy":
            units = cash / (o[i] * (1 + c))
            cash -= units * o[i] * (1 + c)
            entry = (i, o[i], units)
        elif pending == "sell":
            cash += units * o[i] * (1 - c)
            trades.append((entry[0], i, units, entry[1], o[i]))
            units = 0.0
        pending = None
        if i >= 1 and f[i - 1] <= s[i - 1] and f[i] > s[i] and units == 0:
            pending = "buy"
        elif i >= 1 and f[i - 1] >= s[i - 1] and f[i] < s[i] and units > 0:
            pending = "sell"
    if units:
        cash += units * cl[-1] * (1 - c)
        trades.append((entry[0], len(cl) - 1, units, entry[1], cl[-1]))
    return trades, cash


@pytest.mark.parametrize("name", ["xau", "goog"])
@pytest.mark.parametrize(("fast", "slow"), [(10, 30), (5, 50)])
def test_sma_cross_trades_exactly_as_the_issue_defines_it(request, name, fast, slow):
    bars = request.getfixturevalue(name)
    c = 0.001
    expected, cash = reference_sma_cross(bars, fast, slow, c, 100_000.0)
    result = backtest(bars, "sma_cross", {"fast": fast, "slow": slow}, costs=Costs(commission=c))
    assert result.trades == len(expected) > 10
    for got, (a, b, units, pin, pout) in zip(result.trade_list, expected, strict=True):
        assert (got.entry_index, got.exit_index) == (a, b)
        assert got.entry_time == bars.index[a] and got.exit_time == bars.index[b]
        assert got.quantity == pytest.approx(units, rel=1e-12)
        assert (got.entry_price, got.exit_price) == (pytest.approx(pin), pytest.approx(pout))
        assert got.pnl == pytest.approx(units * pout * (1 - c) - units * pin * (1 + c), rel=1e-9)
    assert result.final_equity == pytest.approx(cash, rel=1e-12)


def test_a_position_open_at_the_end_is_closed_at_the_last_close_and_counted(goog):
    result = backtest(goog, "buy_hold", costs=Costs())
    assert result.trades == 1
    trade = result.trade_list[0]
    assert trade.entry_time == goog.index[1] and trade.exit_time == goog.index[-1]
    assert trade.exit_price == goog["close"].iloc[-1]
    assert result.total_return == pytest.approx(goog["close"].iloc[-1] / goog["open"].iloc[1] - 1)


def test_spread_and_slippage_move_every_fill_against_the_trader(goog):
    costs = Costs(
        commission=0.0005, spread=0.0004, slippage=0.0001, slippage_ticks=2, tick_size=0.01
    )
    result = backtest(goog, "sma_cross", costs=costs)
    free = backtest(goog, "sma_cross", costs=Costs())
    for paid, clean in zip(result.trade_list, free.trade_list, strict=True):
        assert paid.entry_price == pytest.approx(clean.entry_price * 1.0003 + 0.02)
        assert paid.exit_price == pytest.approx(clean.exit_price * 0.9997 - 0.02)
    assert result.final_equity < free.final_equity


def test_the_loop_free_path_and_the_general_path_agree(xau):
    from tradecrew.research.backtest.strategies import SmaCross

    target = SmaCross().target(xau, {"fast": 8, "slow": 21}).to_numpy()
    held = np.r_[0.0, target[:-1]]
    costs = Costs(commission=0.001, spread=0.0003, slippage=0.0002)
    o, c = xau["open"].to_numpy(), xau["close"].to_numpy()
    a, b = _binary(o, c, held, costs, 1e5), _general(o, c, held, costs, 1e5)
    for field in ("equity", "units", "quantity", "entry_price", "exit_price", "pnl"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-10)
    np.testing.assert_array_equal(a.entry_index, b.entry_index)
    np.testing.assert_array_equal(a.exit_index, b.exit_index)


class _Flip:
    """Long half the equity, then short all of it, then flat: the general path's cases."""

    name = "flip"

    def target(self, bars, params):
        t = np.zeros(len(bars))
        t[10:20], t[20:30] = 0.5, -1.0
        return pd.Series(t, index=bars.index)


def test_shorts_and_partial_targets_book_round_trips(goog):
    result = backtest(goog.iloc[:60], _Flip(), costs=Costs(commission=0.001))
    long_, short = result.trade_list
    assert (long_.side, short.side) == ("long", "short")
    assert (long_.entry_index, long_.exit_index) == (11, 21)
    assert (short.entry_index, short.exit_index) == (21, 31)
    o = goog["open"].to_numpy()
    assert short.pnl == pytest.approx(short.quantity * (o[21] * 0.999 - o[31] * 1.001), rel=1e-9)
    assert long_.quantity * o[11] == pytest.approx(50_000 / 1.001, rel=1e-9)
    assert result.final_equity == pytest.approx(100_000 + long_.pnl + short.pnl, rel=1e-12)


def test_sweep_gives_what_single_runs_give(goog):
    grid = [{"fast": f, "slow": s} for f in (5, 10) for s in (20, 40)]
    for params, swept in zip(grid, sweep(goog, "sma_cross", grid), strict=True):
        single = backtest(goog, "sma_cross", params)
        assert swept.final_equity == single.final_equity
        assert swept.trade_list == single.trade_list


def _same_past(short, long):
    done = [t for t in short.trade_list if t.exit_index < short.bars - 1]
    assert long.trade_list[: len(done)] == done
    # The trade still open when the short run ended was entered at the same bar and price.
    if len(short.trade_list) > len(done):
        open_ = short.trade_list[-1]
        nxt = long.trade_list[len(done)]
        assert (nxt.entry_index, nxt.entry_price) == (open_.entry_index, open_.entry_price)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cut=st.integers(min_value=400, max_value=2100),
    extra=st.integers(1, 300),
    strategy=st.sampled_from(["sma_cross", "traditional", "buy_hold"]),
)
def test_appending_future_bars_never_changes_a_past_trade(goog, cut, extra, strategy):
    short = backtest(goog.iloc[:cut], strategy)
    long = backtest(goog.iloc[: cut + extra], strategy)
    _same_past(short, long)
    np.testing.assert_allclose(long.equity.iloc[: cut - 1], short.equity.iloc[: cut - 1])


def test_the_hybrid_never_looks_ahead(xau):
    for cut in (1500, 3333):
        _same_past(backtest(xau.iloc[:cut], "hybrid"), backtest(xau.iloc[: cut + 250], "hybrid"))


def test_bars_that_are_not_usable_are_refused(goog):
    from tradecrew.research.backtest import StrategyError

    with pytest.raises(StrategyError, match="at least 2 bars"):
        backtest(goog.iloc[:1])
    with pytest.raises(StrategyError, match="increasing"):
        backtest(goog.iloc[::-1])
    bad = goog.copy()
    bad.iloc[5, bad.columns.get_loc("open")] = np.nan
    with pytest.raises(StrategyError, match="finite"):
        backtest(bad)
    with pytest.raises(StrategyError, match="fast"):
        backtest(goog, "sma_cross", {"fast": 30, "slow": 30})


@pytest.mark.parametrize(
    ("strategy", "first", "count"),
    [("sma_cross", 300, 300), ("traditional", 300, 60), ("hybrid", 400, 25)],
)
def test_each_decision_is_the_one_made_on_the_data_known_then(xau, strategy, first, count):
    """Bar by bar: the target at bar t from the bars up to t only equals the full run's."""
    from tradecrew.research.backtest import get_strategy

    strat = get_strategy(strategy)
    full = strat.target(xau, {}).to_numpy()
    step = 1 if strategy == "sma_cross" else 7
    for t in range(first, first + count * step, step):
        assert strat.target(xau.iloc[: t + 1], {}).iloc[-1] == full[t], t


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(40, 400),
    fast=st.integers(1, 8),
    gap=st.integers(1, 20),
    c=st.sampled_from([0.0, 0.0005, 0.01]),
)
def test_random_walks_trade_as_the_reference_loop(seed, n, fast, gap, c):
    """Any prices, windows and commission (ties included: prices on a coarse grid)."""
    rng = np.random.default_rng(seed)
    close = np.round(100 + np.cumsum(rng.choice([-1.0, 0.0, 1.0], n)), 0)
    close = close - min(close.min(), 0) + 10
    open_ = np.r_[close[0], close[:-1]]
    bars = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close),
            "low": np.minimum(open_, close),
            "close": close,
            "volume": 1.0,
        },
        index=pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC"),
    )
    slow = fast + gap
    expected, cash = reference_sma_cross(bars, fast, slow, c, 1000.0)
    costs = Costs(commission=c)
    result = backtest(
        bars, "sma_cross", {"fast": fast, "slow": slow}, costs=costs, initial_equity=1000.0
    )
    got = [(t.entry_index, t.exit_index) for t in result.trade_list]
    assert got == [(a, b) for a, b, *_ in expected]
    assert result.final_equity == pytest.approx(cash, rel=1e-9)
