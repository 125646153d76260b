"""The event-driven replay (risk engine + paper venue matching) against the kernel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradecrew.config import RiskSettings
from tradecrew.research.backtest import Costs, backtest, get_strategy
from tradecrew.research.backtest.replay import live_targets, permissive_limits


def _agree(kernel, replay):
    assert replay.engine == "replay" and kernel.engine == "kernel"
    assert replay.trades == kernel.trades > 0
    for a, b in zip(kernel.trade_list, replay.trade_list, strict=True):
        assert (a.entry_time, a.exit_time, a.side) == (b.entry_time, b.exit_time, b.side)
        assert b.quantity == pytest.approx(a.quantity, rel=1e-9)
        assert b.entry_price == pytest.approx(a.entry_price, rel=1e-12)
        assert b.exit_price == pytest.approx(a.exit_price, rel=1e-12)
        assert b.pnl == pytest.approx(a.pnl, rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(replay.equity.to_numpy(), kernel.equity.to_numpy(), rtol=1e-9)
    assert replay.sharpe == pytest.approx(kernel.sharpe, rel=1e-9)


# Non-default component thresholds: the regime votes only when very sure; the calendar's
# blackout is wider and cuts the size to nothing (hourly EURUSD: events fall inside bars).
_STRICT_REGIME = {"regime_min_confidence": 0.85}
_WIDE_BLACKOUT = {
    "threshold": 0.05,
    "calendar_minutes_before": 180,
    "calendar_minutes_after": 90,
    "calendar_risk_reduction": 0.0,
}


@pytest.mark.parametrize(
    ("name", "strategy", "params"),
    [
        ("xau", "sma_cross", {}),
        ("goog", "sma_cross", {}),
        ("goog", "hybrid", {}),
        ("xau", "traditional", {}),
        ("goog", "hybrid", _STRICT_REGIME),
        ("eurusd", "hybrid", _WIDE_BLACKOUT),
    ],
)
def test_kernel_and_replay_make_the_same_trades_on_real_data(request, name, strategy, params):
    bars = request.getfixturevalue(name)
    if name == "eurusd":
        bars = bars.iloc[:1500]
    costs = Costs(commission=0.0005, spread=0.0002, slippage=0.0001)
    kernel = backtest(bars, strategy, params, costs=costs)
    replay = backtest(
        bars, strategy, params, costs=costs, engine="replay", limits=permissive_limits()
    )
    _agree(kernel, replay)
    if params:  # the thresholds acted: the trades differ from the defaults'
        usual = {k: v for k, v in params.items() if k == "threshold"}
        base = backtest(bars, strategy, usual, costs=costs)
        assert kernel.trade_list != base.trade_list


def test_the_live_fusion_bar_by_bar_decides_what_the_vectorised_one_does(eurusd):
    """The replay asks tradecrew.tools.fusion.fuse on every bar; the kernel's vectorised
    fusion must give the same target everywhere (hourly bars: mtf and session take part)."""
    strat = get_strategy("hybrid")
    bars = eurusd.iloc[:2500]
    for params in (
        {"threshold": 0.05, "short": 1},
        {"threshold": 0.05, "short": 1, "regime_min_confidence": 0.3, **_WIDE_BLACKOUT},
    ):
        vector = strat.target(bars, params).to_numpy()
        live = live_targets(bars, strat, params)
        np.testing.assert_array_equal(live, vector)
        assert (vector < 0).any() and (vector > 0).any()


def test_the_desks_limits_bind_in_the_replay_and_say_why(goog):
    """The desk's default limits cap each order at 50,000 notional; a 5 % drawdown limit trips
    the desk into reducing, and the replay's notes carry the risk engine's reasons."""
    kernel = backtest(goog, "sma_cross")
    capped = backtest(goog, "sma_cross", engine="replay", limits=RiskSettings())
    # Slippage beyond the quote the engine saw may add a hair over the cap.
    assert max(t.quantity * t.entry_price for t in capped.trade_list) <= 50_000 * 1.001
    assert max(t.quantity * t.entry_price for t in kernel.trade_list) > 100_000
    tripped = backtest(
        goog, "sma_cross", engine="replay", limits=RiskSettings(max_drawdown_pct=0.05)
    )
    assert tripped.trades < kernel.trades
    assert tripped.notes and "risk engine denied" in tripped.notes[0]
    assert any("drawdown" in n for n in tripped.notes)


def test_an_order_limit_shrinks_entries_and_exits_are_retried_until_flat(goog):
    limits = permissive_limits().model_copy(
        update={"max_order_notional": 30_000.0, "max_shrink_ratio": 1e9}
    )
    replay = backtest(goog, "sma_cross", engine="replay", limits=limits)
    kernel = backtest(goog, "sma_cross")
    assert replay.trades == kernel.trades
    for t in replay.trade_list:
        assert t.quantity * t.entry_price <= 30_000.0 * 1.001
    assert replay.exposure == pytest.approx(kernel.exposure, abs=0.01)


class _Always:
    name = "always_long"

    def target(self, bars, params):
        return bars["close"] * 0.0 + 1.0


def _bars(rows):
    index = pd.date_range("2024-01-01", periods=len(rows), freq="D", tz="UTC")
    frame = pd.DataFrame(rows, columns=["open", "high", "low", "close"], index=index)
    frame["volume"] = 0.0
    return frame


def test_a_stop_loss_leg_closes_the_position_where_the_venue_says(goog):
    # Bought at 100 on bar 1; bar 3 trades down through the 97 stop; bar 5 would gap through.
    bars = _bars(
        [
            (100, 101, 99, 100),
            (100, 101, 99, 100),
            (100, 101, 98, 99),
            (99, 99.5, 95, 96),
            (96, 97, 95, 96),
            (96, 97, 95, 96),
        ]
    )
    costs = Costs(slippage=0.001)
    r = backtest(
        bars, _Always(), costs=costs, engine="replay", limits=permissive_limits(), stop_loss=0.03
    )
    (trade,) = r.trade_list
    assert (trade.entry_index, trade.exit_index) == (1, 3)
    assert trade.exit_price == pytest.approx(97.0 * (1 - 0.001))
    assert r.notes == ["bracket exits: stop-loss 1"]
    # A bar that opens below the stop fills at its open, not at the stop.
    gap = _bars([(100, 101, 99, 100), (100, 101, 99, 100), (94, 95, 93, 94), (94, 95, 93, 94)])
    (trade,) = backtest(
        gap, _Always(), costs=Costs(), engine="replay", limits=permissive_limits(), stop_loss=0.03
    ).trade_list
    assert (trade.exit_index, trade.exit_price) == (2, 94.0)


def test_a_bar_touching_both_legs_fills_the_stop_and_says_so():
    bars = _bars(
        [(100, 101, 99, 100), (100, 101, 99, 100), (100, 106, 96, 100), (100, 101, 99, 100)]
    )
    r = backtest(
        bars,
        _Always(),
        costs=Costs(),
        engine="replay",
        limits=permissive_limits(),
        stop_loss=0.03,
        take_profit=0.05,
    )
    (trade,) = r.trade_list
    assert (trade.exit_index, trade.exit_price) == (2, 97.0)
    assert "stop-loss 1" in r.notes[0] and "pessimistically" in r.notes[1]


def test_a_take_profit_leg_fills_at_its_limit_and_brackets_need_the_replay(goog):
    bars = _bars(
        [(100, 101, 99, 100), (100, 101, 99, 100), (101, 106, 100, 104), (104, 105, 103, 104)]
    )
    (trade,) = backtest(
        bars,
        _Always(),
        costs=Costs(),
        engine="replay",
        limits=permissive_limits(),
        take_profit=0.05,
    ).trade_list
    assert (trade.exit_index, trade.exit_price) == (2, 105.0)
    with pytest.raises(ValueError, match="only apply to engine='replay'"):
        backtest(goog, "sma_cross", stop_loss=0.02)
