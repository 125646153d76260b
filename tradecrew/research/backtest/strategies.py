"""Strategies: the documented ``Strategy`` interface, the built-in ones and loading a user's.

A strategy maps bars to a target position per bar in [-1, 1] (fraction of equity, sign is
the side), decided with data up to and including that bar's close; the engines fill the
change at the next bar's open. User strategies are a small class in a file, loaded with
``path/to/file.py:ClassName`` (see the README's "Write your own strategy").
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd


class StrategyError(ValueError):
    """An unknown strategy, a parameter it does not take, or a value it cannot use."""


@runtime_checkable
class Strategy(Protocol):
    """What a strategy provides: a name and a causal target position per bar."""

    name: str

    def target(self, bars: pd.DataFrame, params: Mapping[str, Any]) -> pd.Series:
        """Target position in [-1, 1] per bar, using bars up to that bar's close only."""
        ...


def int_param(params: Mapping[str, Any], key: str, default: int, low: int = 1) -> int:
    """``params[key]`` as an int >= ``low``; a StrategyError naming the key otherwise."""
    raw = params.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise StrategyError(f"parameter {key} must be an integer, got {raw!r}") from None
    if not value.is_integer() or value < low:
        raise StrategyError(f"parameter {key} must be an integer >= {low}, got {raw!r}")
    return int(value)


def float_param(
    params: Mapping[str, Any],
    key: str,
    default: float,
    low: float = 0.0,
    high: float = float("inf"),
) -> float:
    raw = params.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise StrategyError(f"parameter {key} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise StrategyError(f"parameter {key} must be within [{low:g}, {high:g}], got {raw!r}")
    return value


def reject_unknown(name: str, params: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(params) - allowed)
    if extra:
        known = ", ".join(sorted(allowed)) or "none"
        raise StrategyError(
            f"strategy {name} takes no parameter {', '.join(extra)}; it takes: {known}"
        )


def sma(close: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average, NaN for the first ``window - 1`` bars (pandas' rolling mean)."""
    return pd.Series(close).rolling(window).mean().to_numpy()


def cross_state(fast: np.ndarray, slow: np.ndarray) -> np.ndarray:
    """1.0 from a cross of ``fast`` above ``slow`` (<= then >) until a cross below (>= then <),
    else 0.0. NaN compares false, so nothing crosses during the warm-up."""
    with np.errstate(invalid="ignore"):
        up = np.zeros(len(fast), dtype=bool)
        down = np.zeros(len(fast), dtype=bool)
        up[1:] = (fast[:-1] <= slow[:-1]) & (fast[1:] > slow[1:])
        down[1:] = (fast[:-1] >= slow[:-1]) & (fast[1:] < slow[1:])
    # The last event at or before each bar, by a running maximum of event positions.
    last = np.maximum.accumulate(np.where(up | down, np.arange(len(fast)), -1))
    return np.where(last >= 0, up[np.maximum(last, 0)], False).astype(np.float64)


class SmaCross:
    """Long when the fast SMA has crossed above the slow one, flat after it crosses below."""

    name = "sma_cross"
    defaults: ClassVar[dict[str, int]] = {"fast": 10, "slow": 30}

    def windows(self, params: Mapping[str, Any]) -> tuple[int, int]:
        reject_unknown(self.name, params, set(self.defaults))
        fast = int_param(params, "fast", self.defaults["fast"])
        slow = int_param(params, "slow", self.defaults["slow"])
        if fast >= slow:
            raise StrategyError(f"fast ({fast}) must be below slow ({slow})")
        return fast, slow

    def target(self, bars: pd.DataFrame, params: Mapping[str, Any]) -> pd.Series:
        fast, slow = self.windows(params)
        close = bars["close"].to_numpy(dtype=np.float64)
        return pd.Series(cross_state(sma(close, fast), sma(close, slow)), index=bars.index)


class BuyHold:
    """Long from the first bar's close: bought at the second bar's open, held to the end."""

    name = "buy_hold"

    def target(self, bars: pd.DataFrame, params: Mapping[str, Any]) -> pd.Series:
        reject_unknown(self.name, params, set())
        return pd.Series(1.0, index=bars.index)


def _signals() -> dict[str, Callable[[], Strategy]]:
    from tradecrew.research.backtest.signals import Hybrid, Traditional

    return {"traditional": Traditional, "hybrid": Hybrid}


BUILTIN: dict[str, Callable[[], Strategy]] = {"sma_cross": SmaCross, "buy_hold": BuyHold}
NAMES = ("sma_cross", "traditional", "hybrid", "buy_hold")


def get_strategy(name: str | Strategy) -> Strategy:
    """A built-in strategy by name, a user's class by ``path/to/file.py:ClassName``, or the
    given object when it already is a Strategy."""
    if not isinstance(name, str):
        if isinstance(name, Strategy):
            return name
        raise StrategyError(f"{name!r} is not a strategy (needs .name and .target(bars, params))")
    key = name.strip()
    if key in BUILTIN:
        return BUILTIN[key]()
    if key in ("traditional", "hybrid"):
        return _signals()[key]()
    if ":" in key and key.rsplit(":", 1)[0].endswith(".py"):
        return load_strategy(key)
    raise StrategyError(
        f"unknown strategy {name!r}; use one of {', '.join(NAMES)} or path/to/file.py:ClassName"
    )


def load_strategy(spec: str) -> Strategy:
    """Import ``ClassName`` from ``path/to/file.py`` and instantiate it without arguments.

    This runs the file's code, as running any script would: only load files you trust.
    """
    path_text, _, cls_name = spec.rpartition(":")
    path = Path(path_text).expanduser()
    if not path.is_file():
        raise StrategyError(f"strategy file {path} does not exist")
    mod_name = f"tradecrew_user_strategy_{abs(hash(str(path.resolve())))}"
    loader_spec = importlib.util.spec_from_file_location(mod_name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise StrategyError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[mod_name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(mod_name, None)
        raise StrategyError(f"loading {path} failed: {type(exc).__name__}: {exc}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise StrategyError(f"{path} has no class {cls_name!r}")
    try:
        obj = cls()
    except Exception as exc:
        raise StrategyError(f"{cls_name}() failed: {type(exc).__name__}: {exc}") from None
    if not isinstance(obj, Strategy):
        raise StrategyError(f"{cls_name} needs a name attribute and a target(bars, params) method")
    return obj
