"""Evaluating a parsed expression over bars, and turning a rule into a backtest ``Strategy``.

Every function is a trailing-window calculation (TA-Lib for the indicators, as the desk's
tools use) and ``lag`` only looks back, so the value at bar t depends on bars 0..t only: the
same expression on a prefix of the data gives the same values it gave then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import talib

from tradecrew.research.expr import (
    COMPONENT_NAMES,
    FUNCTIONS,
    INDICATOR_NAMES,
    OHLCV_NAMES,
    Binary,
    Call,
    Name,
    Node,
    Num,
    Unary,
    kind_of,
    literal,
    parse,
    to_source,
)

__all__ = ["ExprStrategy", "evaluate", "series_frame"]

Value = np.ndarray | float


def series_frame(bars: pd.DataFrame, names: set[str] | None = None) -> dict[str, np.ndarray]:
    """The named series an expression may read (only ``names`` when given), as float arrays."""
    from tradecrew.tools.indicators import component_scores, indicator_frame

    want = set(OHLCV_NAMES + INDICATOR_NAMES + COMPONENT_NAMES) if names is None else names
    out = {n: bars[n].to_numpy(dtype=np.float64) for n in OHLCV_NAMES if n in want}
    if want & set(INDICATOR_NAMES):
        ind = indicator_frame(bars)
        out.update({n: ind[n].to_numpy() for n in INDICATOR_NAMES if n in want})
    if want & {"trend_score", "momentum_score", "volume_score"}:
        comp = component_scores(bars)
        for n in ("trend", "momentum", "volume"):
            out[f"{n}_score"] = comp[n].to_numpy()
    if "regime_score" in want:
        out["regime_score"] = regime_score(bars)
    return out


def regime_score(bars: pd.DataFrame) -> np.ndarray:
    """The regime component's per-bar vote, p(trending_bull) - p(trending_bear); causal."""
    from tradecrew.tools.regime import regime_series

    reg = regime_series(bars)
    return (reg["p_trending_bull"] - reg["p_trending_bear"]).to_numpy(dtype=np.float64)


def names_in(node: Node) -> set[str]:
    if isinstance(node, Name):
        return {node.name}
    if isinstance(node, Call):
        found = {"high", "low", "close"} if node.func == "atr" else set()
        return found.union(*(names_in(a) for a in node.args))
    if isinstance(node, Unary):
        return names_in(node.operand)
    if isinstance(node, Binary):
        return names_in(node.left) | names_in(node.right)
    return set()


def _arr(x: Value, n: int) -> np.ndarray:
    if isinstance(x, np.ndarray) and x.ndim == 1:
        return np.ascontiguousarray(x, dtype=np.float64)
    return np.full(n, float(x))


def _clean(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    x[~np.isfinite(x)] = np.nan  # a division by zero or a log of <= 0 is "unknown", not inf
    return x


def _shift(x: np.ndarray, k: int) -> np.ndarray:
    if k == 0:
        return x.copy()
    out = np.full_like(x, np.nan)
    if k < len(x):
        out[k:] = x[:-k]
    return out


def _rolling(x: np.ndarray, n: int, how: str) -> np.ndarray:
    s = pd.Series(x).rolling(n, min_periods=n)
    return getattr(s, how)().to_numpy()


def _zscore(x: np.ndarray, n: int) -> np.ndarray:
    mean = _rolling(x, n, "mean")
    sd = pd.Series(x).rolling(n, min_periods=n).std(ddof=0).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return _clean((x - mean) / sd)


def _talib(fn: Callable[..., Any], *args: Any) -> np.ndarray:
    # TA-Lib starts after leading NaNs; a NaN later on would poison its recursion, so such
    # inputs yield NaN from there rather than an exception.
    try:
        return np.asarray(fn(*args), dtype=np.float64)
    except Exception:  # TA-Lib raises a bare Exception (e.g. inputs all NaN)
        return np.full(len(args[0]), np.nan)


def _call(node: Call, env: Mapping[str, np.ndarray], n: int) -> Value:
    f = node.func
    args = node.args
    params = FUNCTIONS[f][0]
    ints = [int(literal(a) or 0) for a, p in zip(args, params, strict=True) if p in ("win", "lag")]
    if f == "atr":
        return _talib(talib.ATR, env["high"], env["low"], env["close"], ints[0])
    x = _arr(_eval(args[0], env, n), n)
    if f in ("sma", "ema", "rsi"):
        fn = {"sma": talib.SMA, "ema": talib.EMA, "rsi": talib.RSI}[f]
        return _talib(fn, x, ints[0])
    if f.startswith("macd"):
        signal = ints[2] if len(ints) > 2 else 9
        parts = _talib(talib.MACD, x, ints[0], ints[1], signal)
        if parts.ndim == 1:  # the NaN fallback
            return parts
        return parts[{"macd": 0, "macd_signal": 1, "macd_hist": 2}[f]]
    if f == "std":
        return pd.Series(x).rolling(ints[0], min_periods=ints[0]).std(ddof=0).to_numpy()
    if f == "zscore":
        return _zscore(x, ints[0])
    if f in ("rolling_max", "rolling_min"):
        return _rolling(x, ints[0], f.removeprefix("rolling_"))
    if f == "lag":
        return _shift(x, ints[0])
    if f == "delta":
        return x - _shift(x, ints[0])
    if f == "pct_change":
        with np.errstate(divide="ignore", invalid="ignore"):
            return _clean(x / _shift(x, ints[0]) - 1.0)
    if f in ("abs", "sign"):
        return np.abs(x) if f == "abs" else np.sign(x)
    if f == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return _clean(np.log(x))
    y = _arr(_eval(args[1], env, n), n)
    if f in ("min", "max"):
        return np.fmin(x, y) if f == "min" else np.fmax(x, y)
    above = x > y
    before = _shift(x, 1) <= _shift(y, 1) if f == "cross_above" else _shift(x, 1) >= _shift(y, 1)
    now = above if f == "cross_above" else x < y
    return (now & before).astype(np.float64)


_ARITH = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
}
_COMPARE = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def _eval(node: Node, env: Mapping[str, np.ndarray], n: int) -> Value:
    """Numbers as float arrays (NaN = unknown); conditions as 0/1 float arrays."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Name):
        return env[node.name]
    if isinstance(node, Call):
        return _call(node, env, n)
    if isinstance(node, Unary):
        inner = _eval(node.operand, env, n)
        return 1.0 - _arr(inner, n) if node.op == "not" else -inner
    left = _eval(node.left, env, n)
    right = _eval(node.right, env, n)
    if node.op in ("and", "or"):
        a, b = _arr(left, n) > 0.5, _arr(right, n) > 0.5
        return (a & b if node.op == "and" else a | b).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if node.op in _COMPARE:
            # A comparison with an unknown (NaN) side is false, so warm-up never triggers.
            return _COMPARE[node.op](_arr(left, n), _arr(right, n)).astype(np.float64)
        return _clean(_ARITH[node.op](_arr(left, n), _arr(right, n)))


def evaluate(expression: str | Node, bars: pd.DataFrame) -> pd.Series:
    """The expression per bar, indexed like ``bars``: floats for numbers, bools for conditions."""
    node = parse(expression) if isinstance(expression, str) else expression
    kind = kind_of(node)
    n = len(bars)
    values = _arr(_eval(node, series_frame(bars, names_in(node)), n), n)
    if kind == "bool":
        return pd.Series(values > 0.5, index=bars.index, name="value")
    return pd.Series(values, index=bars.index, name="value")


class ExprStrategy:
    """A rule or factor as a backtest strategy (the ``Strategy`` interface).

    A condition holds the position ``side`` (1 long, -1 short; params may override it as
    ``side``) while it is true and is flat otherwise; a number is the position itself,
    clipped to [-1, 1] (write ``sign(...)`` for all-in). NaN (warm-up) means flat. The
    target at bar t uses bars up to t's close; the engine fills it at the next open.
    """

    def __init__(self, expression: str, *, side: float = 1.0, name: str | None = None) -> None:
        self.node = parse(expression)
        self.expression = to_source(self.node)
        self.kind = kind_of(self.node)
        self.side = float(side)
        self.name = name or f"expr:{self.expression}"

    def target(self, bars: pd.DataFrame, params: Mapping[str, Any] | None = None) -> pd.Series:
        values = evaluate(self.node, bars)
        if self.kind == "bool":
            side = float((params or {}).get("side", self.side))
            pos = values.to_numpy(dtype=np.float64) * float(np.clip(side, -1.0, 1.0))
        else:
            pos = np.clip(np.nan_to_num(values.to_numpy(), nan=0.0), -1.0, 1.0)
        return pd.Series(pos, index=bars.index, name="target")

    def __repr__(self) -> str:
        return f"ExprStrategy({self.expression!r})"
