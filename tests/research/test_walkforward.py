"""Walk-forward: test windows are never seen by their training, only they count."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.cli.invoke import cli
from tradecrew.research.scale import sweep_many, walk_forward_many
from tradecrew.research.spaces import ParamRange, grid_from_specs, parse_space
from tradecrew.research.walkforward import walk_forward, window_bounds


def random_walk(n: int = 600, seed: int = 0, drift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(drift, 0.01, n)))
    open_ = np.concatenate(([close[0]], close[:-1])) * (1 + rng.normal(0, 0.001, n))
    index = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    frame = pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) * 1.002,
            "low": np.minimum(open_, close) * 0.998,
            "close": close,
            "volume": 1000.0,
        },
        index=index,
    )
    return frame


class Recorder:
    """Long above its moving average; remembers the first and last bar of every call."""

    name = "recorder"

    def __init__(self) -> None:
        self.calls: list[tuple[pd.Timestamp, pd.Timestamp]] = []

    def target(self, bars: pd.DataFrame, params: Mapping[str, Any]) -> pd.Series:
        self.calls.append((bars.index[0], bars.index[-1]))
        window = int(params.get("window", 10))
        ma = bars["close"].rolling(window).mean()
        return (bars["close"] > ma).astype(float)


def test_windows_roll_and_anchor() -> None:
    assert window_bounds(10, 4, 3, anchored=False) == [(0, 4, 7), (3, 7, 10)]
    assert window_bounds(10, 4, 3, anchored=True) == [(0, 4, 7), (0, 7, 10)]
    assert window_bounds(11, 4, 3, anchored=False)[-1] == (6, 10, 11)  # a short last window


@pytest.mark.parametrize("anchored", [False, True])
def test_training_never_sees_its_test_window(anchored: bool) -> None:
    bars = random_walk(500)
    rec = Recorder()
    grid = [{"window": w} for w in (5, 10, 20)]
    result = walk_forward(bars, rec, grid, train=200, test=100, anchored=anchored)
    calls = iter(rec.calls)
    for win in result.windows:
        # Tuning: one call per grid point with exactly the training bars, nothing later.
        for _ in grid:
            assert next(calls) == (win.train_start, win.train_end)
        assert win.train_end < win.test_start
        # The test: the training bars as warm-up, then the test bars; nothing beyond.
        assert next(calls) == (win.train_start, win.test_end)
        if anchored:
            assert win.train_start == bars.index[0]
    assert next(calls, None) is None


def test_optuna_tuning_per_window_sees_only_training_bars() -> None:
    bars = random_walk(450)
    rec = Recorder()
    space = {"window": ParamRange(kind="int", low=3, high=30)}
    result = walk_forward(bars, rec, space, train=200, test=125, window_trials=4, seed=1)
    ends = {w.train_end for w in result.windows} | {w.test_end for w in result.windows}
    test_ends = {w.test_end for w in result.windows}
    seen_in_training = [last for _, last in rec.calls if last not in test_ends]
    assert seen_in_training and set(seen_in_training) <= ends - test_ends
    assert result.tuned and result.configurations == 4


def test_only_out_of_sample_bars_are_reported() -> None:
    bars = random_walk(600)
    result = walk_forward(bars, "sma_cross", {"fast": 5, "slow": 20}, train=250, test=100)
    assert result.returns.index[0] == bars.index[250]
    assert result.returns.index.equals(bars.index[250:])
    assert result.oos.bars == 350 and len(result.windows) == 4
    assert sum(w.test_bars for w in result.windows) == 350
    assert result.windows[0].params == {"fast": 5, "slow": 20}


def test_per_window_tuning_picks_on_training_score() -> None:
    bars = random_walk(700, seed=3)
    grid = grid_from_specs(["fast=3,5,10", "slow=20,40"])
    result = walk_forward(bars, "sma_cross", grid, train=300, test=100)
    assert result.tuned and result.configurations == 6
    assert all(w.params in grid and w.train_score is not None for w in result.windows)


def test_processes_give_the_same_windows() -> None:
    bars = random_walk(700, seed=4)
    grid = grid_from_specs(["fast=3,8", "slow=20,30"])
    one = walk_forward(bars, "sma_cross", grid, train=300, test=200)
    two = walk_forward(bars, "sma_cross", grid, train=300, test=200, jobs=2)
    assert [w.params for w in one.windows] == [w.params for w in two.windows]
    assert one.returns.equals(two.returns)


def test_many_symbols_on_many_processes_match_one_by_one() -> None:
    data = {"timeframe": "D1", "source": "sample", "start": "2015-01-01", "end": "2016-12-31"}
    kw = {"train": 250, "test": 100}
    both = walk_forward_many(["XAUUSD", "SPX"], "sma_cross", None, data=data, jobs=2, **kw)
    alone = walk_forward_many(["SPX"], "sma_cross", None, data=data, jobs=1, **kw)
    assert [r.symbol for r in both] == ["XAUUSD", "SPX"]
    assert both[1].returns.equals(alone[0].returns)
    grid = grid_from_specs(["fast=5,10", "slow=30"])
    swept = sweep_many(["XAUUSD", "SPX"], "sma_cross", grid, data=data, jobs=2)
    assert [[r.symbol for r in rs] for rs in swept] == [["XAUUSD"] * 2, ["SPX"] * 2]
    assert swept[1][0].sharpe == sweep_many(["SPX"], "sma_cross", grid, data=data)[0][0].sharpe


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="more than --train"):
        walk_forward(random_walk(100), "sma_cross", None, train=100, test=10)
    with pytest.raises(ValueError, match="--train must be >= 2"):
        window_bounds(100, 1, 10, False)
    with pytest.raises(ValueError, match="empty"):
        walk_forward(random_walk(100), "sma_cross", [], train=50, test=10)
    with pytest.raises(ValueError, match="low <= high"):
        parse_space(["fast=9:3"])


def test_cli_walkforward_json_and_bad_input() -> None:
    ok = cli(
        "walkforward",
        "XAUUSD",
        "--from",
        "2015-01-01",
        "--to",
        "2016-12-31",
        "--train",
        "250",
        "--test",
        "100",
        "--param",
        "fast=5",
        "--param",
        "slow=20",
        "--json",
    )
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.stdout)
    assert data["oos"]["bars"] > 0 and data["windows"][0]["params"] == {"fast": 5, "slow": 20}
    for args, message in [
        (("--train", "0"), "--train must be at least 1"),
        (("--grid", "fast=3,5", "--space", "slow=20:40"), "not both"),
        (("--strategy", "nope"), "unknown strategy"),
        (("--train", "100000"), "needs more than --train"),
        (("--space", "fast=x:y"), "needs numbers"),
    ]:
        bad = cli("walkforward", "XAUUSD", *args)
        assert bad.exit_code == 2, bad.output
        assert message in bad.stderr and "Traceback" not in bad.output


def test_an_unknown_symbol_among_many_is_bad_input_not_a_broken_pool() -> None:
    # The worker's error has an __init__ of its own: it must still reach the parent.
    bad = cli("walkforward", "XAUUSD", "NOPE", "--from", "2016-01-01", "--jobs", "2")
    assert bad.exit_code == 2, bad.output
    assert "no data for symbol 'NOPE'" in bad.stderr and "Traceback" not in bad.output
