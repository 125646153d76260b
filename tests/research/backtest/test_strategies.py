"""User strategies loaded from a file, and the errors a user can make."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

from tradecrew.research.backtest import StrategyError, backtest, get_strategy
from tradecrew.research.backtest.signals import Hybrid, bar_minutes

USER = textwrap.dedent(
    """
    import pandas as pd

    class Momentum:
        name = "momentum"

        def target(self, bars, params):
            n = int(params.get("lookback", 20))
            return (bars["close"].pct_change(n) > 0).astype(float)
    """
)


def test_a_user_strategy_runs_from_its_file(tmp_path, goog):
    path = tmp_path / "mine.py"
    path.write_text(USER)
    strat = get_strategy(f"{path}:Momentum")
    result = backtest(goog, strat, {"lookback": 50})
    assert result.strategy == "momentum" and result.trades > 5
    assert backtest(goog, f"{path}:Momentum", {"lookback": 50}).trade_list == result.trade_list


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nope", "unknown strategy"),
        ("{tmp}/missing.py:X", "does not exist"),
        ("{tmp}/mine.py:Absent", "has no class"),
        ("{tmp}/broken.py:X", "loading"),
        ("{tmp}/notone.py:X", "needs a name attribute"),
    ],
)
def test_bad_strategy_specs_are_refused_with_a_reason(tmp_path, spec, message):
    (tmp_path / "mine.py").write_text(USER)
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    (tmp_path / "notone.py").write_text("class X:\n    pass\n")
    with pytest.raises(StrategyError, match=message):
        get_strategy(spec.format(tmp=tmp_path))


@pytest.mark.parametrize(
    ("strategy", "params", "message"),
    [
        ("sma_cross", {"fast": 30, "slow": 10}, "must be below"),
        ("sma_cross", {"fast": 2.5}, "integer"),
        ("sma_cross", {"fast": "ten"}, "integer"),
        ("sma_cross", {"speed": 3}, "takes no parameter speed"),
        ("hybrid", {"w_trend": -1}, "w_trend"),
        ("hybrid", {"threshold": 2}, "threshold"),
        ("traditional", {"w_regime": 1}, "takes no parameter w_regime"),
        ("hybrid", {"regime_min_confidence": 1.5}, "regime_min_confidence"),
        ("hybrid", {"calendar_minutes_before": -1}, "calendar_minutes_before"),
        ("hybrid", {"calendar_minutes_after": 2.5}, "calendar_minutes_after"),
        ("hybrid", {"correlation_max_correlation": "high"}, "correlation_max_correlation"),
        ("traditional", {"regime_min_confidence": 0.5}, "takes no parameter"),
        ("buy_hold", {"fast": 1}, "takes no parameter"),
    ],
)
def test_bad_parameters_are_refused(goog, strategy, params, message):
    with pytest.raises(StrategyError, match=message):
        backtest(goog, strategy, params)


def test_fusion_weights_and_threshold_change_the_hybrid(goog):
    base = backtest(goog, "hybrid")
    trend_only = backtest(goog, "hybrid", {"w_momentum": 0, "w_volume": 0, "w_regime": 0})
    strict = backtest(goog, "hybrid", {"threshold": 0.5})
    assert trend_only.trade_list != base.trade_list
    assert strict.exposure < base.exposure


def test_component_thresholds_change_the_hybrids_decisions(goog, eurusd, xau):
    """Each threshold parameter reaches the code that decides: the regime's vote, the
    calendar's blackout and the correlation veto."""
    base = backtest(goog, "hybrid")
    for conf in (0.0, 0.99):
        moved = backtest(goog, "hybrid", {"regime_min_confidence": conf})
        assert moved.trade_list != base.trade_list
    hourly = eurusd.iloc[:1500]
    usual = backtest(hourly, "hybrid", {"threshold": 0.05})
    for blackout in (
        {"calendar_risk_reduction": 0.0},
        {"calendar_risk_reduction": 1.0},
        {"calendar_minutes_before": 240, "calendar_minutes_after": 120},
    ):
        moved = backtest(hourly, "hybrid", {"threshold": 0.05, **blackout})
        assert moved.trade_list != usual.trade_list, blackout
    hybrid = Hybrid(peers={"XAUUSD": xau})
    loose = hybrid.target(goog, {"correlation_max_correlation": 1.0}).to_numpy()
    strict = hybrid.target(goog, {"correlation_max_correlation": 0.05}).to_numpy()
    assert np.abs(strict).sum() < np.abs(loose).sum()


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_the_bar_spacing_is_read_in_minutes_whatever_the_index_unit(unit: str) -> None:
    index = pd.date_range("2024-01-01", periods=10, freq="h", tz="UTC").as_unit(unit)
    assert bar_minutes(index) == 60.0
