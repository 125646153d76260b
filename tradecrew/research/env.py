"""A Gymnasium environment over the desk's bars, indicators and backtest costs.

One step is one bar. The agent sees the desk's indicators at bar t's close (causal: computed
once by ``indicator_frame``/``component_scores``, whose value at t uses bars 0..t only) and
its own position, and chooses a target position: ``Discrete(3)`` for {-1, 0, 1} or, with
``continuous=True``, a ``Box(-1, 1)`` fraction of equity. The change fills at bar t+1's
open through the backtester's :class:`Costs` (spread and slippage move the fill against the
agent, commission on notional) and is sized as the kernel sizes it, so a run of actions gives
the same equity as the backtest of the same targets. The reward is the simple return of
equity from close t to close t+1, net of every cost. The episode is truncated when the data
ends and terminated if equity is gone.

Stable-Baselines3 or Pearl can train on it (optional, not dependencies of the desk).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from gymnasium import spaces

from tradecrew.research.backtest.costs import Costs
from tradecrew.tools.indicators import component_scores, indicator_frame

__all__ = ["FEATURES", "TradingEnv"]

FEATURES = (
    "rsi",
    "stoch_k",
    "bb_pct",
    "macd_hist_atr",
    "close_vs_mid_atr",
    "adx",
    "volume_z",
    "trend_score",
    "momentum_score",
    "volume_score",
    "return_atr",
    "position",
)
_CLIP = 10.0
_DISCRETE = np.array([-1.0, 0.0, 1.0])


def _features(bars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar observation rows (without the position), scaled to roughly unit size, and
    where every indicator has warmed up."""
    ind = indicator_frame(bars)
    comp = component_scores(bars)
    close = bars["close"].to_numpy(dtype=np.float64)
    atr = ind["atr"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.full(len(close), np.nan)
        ret[1:] = (close[1:] - close[:-1]) / atr[1:]
        cols = [
            ind["rsi"].to_numpy() / 100.0 - 0.5,
            ind["stoch_k"].to_numpy() / 100.0 - 0.5,
            ind["bb_pct"].to_numpy() - 0.5,
            ind["macd_hist"].to_numpy() / atr,
            (close - ind["bb_middle"].to_numpy()) / atr,
            ind["adx"].to_numpy() / 100.0,
            ind["volume_z"].to_numpy(),
            comp["trend"].to_numpy(),
            comp["momentum"].to_numpy(),
            comp["volume"].to_numpy(),
            ret,
        ]
    ready = np.isfinite(ind.to_numpy()).all(axis=1) & np.isfinite(comp.to_numpy()).all(axis=1)
    out = np.column_stack(cols)
    # A motionless stretch (ATR 0) gives 0/0: read it as "nothing to see", not a gap.
    out[~np.isfinite(out)] = 0.0
    return out, ready


class TradingEnv(gym.Env):  # type: ignore[misc]
    """Trade one instrument bar by bar; see the module docstring for the rules."""

    metadata = {"render_modes": []}  # noqa: RUF012 - gymnasium declares it on the instance

    def __init__(
        self,
        bars: pd.DataFrame,
        *,
        costs: Costs | None = None,
        continuous: bool = False,
        initial_equity: float = 100_000.0,
        episode_bars: int | None = None,
        symbol: str | None = None,
    ) -> None:
        super().__init__()
        if initial_equity <= 0:
            raise ValueError("initial_equity must be positive")
        sym = symbol or bars.attrs.get("symbol")
        self.costs = costs if costs is not None else Costs.from_instrument(sym)
        self.continuous = continuous
        self.initial_equity = float(initial_equity)
        self.index = bars.index
        self._open = bars["open"].to_numpy(dtype=np.float64)
        self._close = bars["close"].to_numpy(dtype=np.float64)
        self.features, warm = _features(bars)
        ready = np.flatnonzero(warm)
        if ready.size == 0 or ready[0] >= len(bars) - 2:
            raise ValueError(f"{len(bars)} bars are too few: the indicators need a warm-up")
        self.first = int(ready[0])
        span = len(bars) - 1 - self.first
        if episode_bars is not None and not 1 <= episode_bars <= span:
            raise ValueError(f"episode_bars must be within 1..{span}")
        self.episode_bars = episode_bars
        self.observation_space = spaces.Box(-_CLIP, _CLIP, (len(FEATURES),), np.float32)
        self.action_space: spaces.Space[Any] = (
            spaces.Box(-1.0, 1.0, (1,), np.float32) if continuous else spaces.Discrete(3)
        )
        self._reset_book(self.first)

    # ------------------------------------------------------------------ state
    def _reset_book(self, start: int) -> None:
        self.t = start
        self.end = len(self._close) - 1
        if self.episode_bars is not None:
            self.end = start + self.episode_bars
        self.cash = self.initial_equity
        self.units = 0.0
        self.target = 0.0
        self.fees = 0.0
        self.traded_notional = 0.0
        self.equity = self.initial_equity

    def _obs(self) -> np.ndarray:
        row = np.append(self.features[self.t], self.target)
        return np.clip(row, -_CLIP, _CLIP).astype(np.float32)

    def _info(self) -> dict[str, Any]:
        return {
            "timestamp": self.index[self.t],
            "equity": self.equity,
            "cash": self.cash,
            "units": self.units,
            "position": self.target,
            "fees": self.fees,
            "traded_notional": self.traded_notional,
        }

    def position_for(self, action: Any) -> float:
        """The target position (fraction of equity) an action asks for."""
        if self.continuous:
            value = float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
            return float(np.clip(np.nan_to_num(value), -1.0, 1.0))
        return float(_DISCRETE[int(action)])

    def _rebalance(self, target: float, price: float) -> None:
        """Fill at ``price`` (the next open) as the backtest kernel does."""
        c = self.costs.commission
        equity = self.cash + self.units * price
        want = 0.0
        if target != 0.0:
            up = target * equity > self.units * price
            fill = float(self.costs.buy_price(price) if up else self.costs.sell_price(price))
            want = target * equity / (fill * (1.0 + c))
        delta = want - self.units
        if delta == 0.0:
            return
        fill = float(self.costs.buy_price(price) if delta > 0 else self.costs.sell_price(price))
        fee = c * abs(delta) * fill
        self.cash -= delta * fill + fee
        self.units = want
        self.fees += fee
        self.traded_notional += abs(delta) * fill

    # ------------------------------------------------------------------ gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        start = self.first
        if self.episode_bars is not None:
            last_start = len(self._close) - 1 - self.episode_bars
            start = int(self.np_random.integers(self.first, last_start + 1))
        self._reset_book(start)
        return self._obs(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self.t >= self.end:
            raise RuntimeError("the episode is over: call reset()")
        target = self.position_for(action)
        before = self.equity
        nxt = self.t + 1
        if target != self.target:
            self._rebalance(target, float(self._open[nxt]))
            self.target = target
        self.t = nxt
        self.equity = self.cash + self.units * float(self._close[nxt])
        reward = self.equity / before - 1.0 if before > 0 else 0.0
        terminated = self.equity <= 0.0
        truncated = not terminated and self.t >= self.end
        return self._obs(), float(reward), bool(terminated), bool(truncated), self._info()
