"""The Gymnasium environment: gymnasium's own checker, a random policy, and the same fills,
costs and equity as the backtest kernel for the same targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from gymnasium.utils.env_checker import check_env

from tests.research.sample_bars import sample_bars
from tradecrew.research.backtest.costs import Costs
from tradecrew.research.backtest.kernel import simulate
from tradecrew.research.env import FEATURES, TradingEnv

COSTS = Costs(commission=0.001, spread=0.0004, slippage=0.0002)


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return sample_bars("SPX", 600)


@pytest.mark.parametrize("continuous", [False, True])
def test_env_passes_gymnasiums_checker(bars: pd.DataFrame, continuous: bool) -> None:
    env = TradingEnv(bars, costs=COSTS, continuous=continuous, episode_bars=50)
    check_env(env, skip_render_check=True)
    assert env.observation_space.shape == (len(FEATURES),)


def _run(env: TradingEnv, actions: list) -> tuple[list[float], list[dict], float]:
    _, info = env.reset(seed=0)
    rewards, infos = [], [info]
    for a in actions:
        _, r, terminated, truncated, info = env.step(a)
        rewards.append(r)
        infos.append(info)
        if terminated or truncated:
            break
    return rewards, infos, env.equity


def test_random_policy_runs_episodes_and_conserves_equity(bars: pd.DataFrame) -> None:
    env = TradingEnv(bars, costs=COSTS, episode_bars=100)
    env.action_space.seed(7)
    for episode in range(3):
        _, info = env.reset(seed=episode)
        e0 = info["equity"]
        growth, steps, done = 1.0, 0, False
        while not done:
            _, reward, terminated, truncated, info = env.step(env.action_space.sample())
            growth *= 1.0 + reward
            steps += 1
            done = terminated or truncated
            # Equity is always cash plus the position at the close: nothing appears or leaks.
            close = float(bars["close"].loc[info["timestamp"]])
            assert info["equity"] == pytest.approx(info["cash"] + info["units"] * close)
        assert steps == 100
        # Rewards compound exactly to the change of equity (they are net of every cost).
        assert e0 * growth == pytest.approx(info["equity"], rel=1e-9)
        assert info["fees"] > 0.0


def test_env_equity_matches_the_backtest_kernel_for_the_same_targets(bars: pd.DataFrame) -> None:
    env = TradingEnv(bars, costs=COSTS, continuous=True)
    rng = np.random.default_rng(3)
    actions = np.round(rng.uniform(-1, 1, len(bars)), 1)
    _, infos, _ = _run(env, [np.array([a], dtype=np.float32) for a in actions])
    start = env.first
    n = len(infos)  # bars start..start+n-1
    target = np.zeros(n)
    target[: n - 1] = np.array([np.float32(a) for a in actions[: n - 1]], dtype=np.float64)
    open_ = bars["open"].to_numpy()[start : start + n]
    close = bars["close"].to_numpy()[start : start + n]
    fills = simulate(open_, close, target, COSTS, env.initial_equity)
    env_equity = np.array([i["equity"] for i in infos])
    # The kernel closes a position still open at the last close; compare the bars before.
    np.testing.assert_allclose(env_equity[:-1], fills.equity[:-1], rtol=1e-10)


def test_costs_make_churning_lose_money(bars: pd.DataFrame) -> None:
    """Flipping every bar on a flat price path loses exactly the costs it pays."""
    flat = bars.copy()
    flat[["open", "high", "low", "close"]] = 100.0
    flat["high"] = 100.0
    env = TradingEnv(flat.assign(close=100.0), costs=COSTS, episode_bars=20)
    env.reset(seed=1)
    done = False
    i = 0
    while not done:
        _, _, term, trunc, info = env.step(0 if i % 2 else 2)
        done = term or trunc
        i += 1
    assert info["equity"] < env.initial_equity
    assert env.initial_equity - info["equity"] >= info["fees"]


def test_observations_do_not_look_ahead(bars: pd.DataFrame) -> None:
    full = TradingEnv(bars, costs=COSTS)
    cut = TradingEnv(bars.iloc[:400], costs=COSTS)
    np.testing.assert_array_equal(full.features[:400], cut.features)


def test_too_few_bars_is_a_clear_error(bars: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match=r"too few|needs at least"):
        TradingEnv(bars.iloc[:40], costs=COSTS)


def test_close_is_gymnasiums_method_not_a_price_array(bars: pd.DataFrame) -> None:
    """Trainers (SB3's vector envs) call env.close(); a price array there would break them."""
    env = TradingEnv(bars, costs=COSTS)
    env.close()
    assert callable(env.close)
