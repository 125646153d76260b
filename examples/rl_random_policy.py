"""A random policy on the desk's Gymnasium environment: the smallest end-to-end RL loop.

    uv run python examples/rl_random_policy.py [SYMBOL] [--continuous]

The environment (``tradecrew.research.env.TradingEnv``) observes the desk's indicators at each
bar's close, takes a target position, fills it at the next open with the backtester's costs
and rewards the net change of equity. To train a real agent, install a library yourself
(neither is a dependency of the desk):

    uv pip install stable-baselines3          # then: PPO("MlpPolicy", env).learn(50_000)
    uv pip install git+https://github.com/facebookresearch/Pearl.git   # Pearl is not on PyPI
"""

from __future__ import annotations

import sys

import numpy as np

from tradecrew.config import get_settings
from tradecrew.models import Timeframe
from tradecrew.research.env import TradingEnv
from tradecrew.tools.catalog import load_bars


def main(argv: list[str]) -> None:
    symbol = next((a for a in argv if not a.startswith("--")), "SPX")
    bars = load_bars(symbol, Timeframe.D1, get_settings().data_source, None, 10**9)
    env = TradingEnv(bars, continuous="--continuous" in argv, episode_bars=250)
    print(env.costs.describe())
    if bars.attrs.get("synthetic"):
        print("SYNTHETIC DATA: generated prices, not market data")
    env.action_space.seed(0)
    finals = []
    for episode in range(5):
        _, info = env.reset(seed=episode)
        done = False
        while not done:
            _obs, _reward, terminated, truncated, info = env.step(env.action_space.sample())
            done = terminated or truncated
        finals.append(info["equity"] / env.initial_equity - 1.0)
        print(
            f"episode {episode}: ends {info['timestamp']:%Y-%m-%d}, "
            f"return {finals[-1]:+.2%}, fees {info['fees']:,.2f}"
        )
    print(f"mean return of the random policy over 5 episodes: {np.mean(finals):+.2%}")


if __name__ == "__main__":
    main(sys.argv[1:])
