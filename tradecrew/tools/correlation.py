"""Rolling correlation of log returns between a symbol and its peers, with a breach check.

Two series are aligned on the timestamps they share before returns are taken, so a return
always spans two bars both series have; the rolling window only looks backwards, so the
value at a bar is the same on any prefix of the data that ends there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.config_sections import CorrelationComponent

MIN_WINDOW = 3


class PeerCorrelation(BaseModel):
    """The symbol's return correlation with one peer."""

    model_config = ConfigDict(extra="forbid")

    peer: str
    overlap_bars: int = Field(description="timestamps shared with the symbol")
    sufficient: bool = Field(description="enough shared bars for one full window")
    latest: float | None = None
    mean: float | None = Field(None, description="mean rolling correlation over the lookback")
    as_of: datetime | None = Field(None, description="timestamp of the latest value")
    flagged: bool = False
    note: str = ""


class CorrelationReport(BaseModel):
    """Correlations with every peer; ``breaches`` lists peers above ``max_correlation``."""

    model_config = ConfigDict(extra="forbid")

    window: int
    lookback: int
    max_correlation: float
    peers: list[PeerCorrelation]
    breaches: list[str]
    insufficient: list[str]


class CorrelationMatrix(BaseModel):
    """Latest pairwise rolling correlations; ``None`` where a pair lacks a full window."""

    model_config = ConfigDict(extra="forbid")

    window: int
    symbols: list[str]
    matrix: list[list[float | None]]


def _closes(x: pd.Series | pd.DataFrame, name: str) -> pd.Series:
    if isinstance(x, pd.DataFrame):
        if "close" not in x:
            raise ValueError(f"{name}: a frame needs a 'close' column")
        x = x["close"]
    if not isinstance(x, pd.Series):
        raise TypeError(f"{name}: expected a Series or bars DataFrame, got {type(x).__name__}")
    if not isinstance(x.index, pd.DatetimeIndex):
        raise ValueError(f"{name}: the index must be a DatetimeIndex")
    if not x.index.is_unique or not x.index.is_monotonic_increasing:
        raise ValueError(f"{name}: timestamps must be sorted and unique")
    values = x.astype("float64")
    if (values <= 0).any():
        raise ValueError(f"{name}: prices must be above zero for log returns")
    return values


def _check_window(window: int) -> int:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < MIN_WINDOW:
        raise ValueError(f"window must be an integer of at least {MIN_WINDOW}, got {window!r}")
    return int(window)


def rolling_correlation(
    a: pd.Series | pd.DataFrame, b: pd.Series | pd.DataFrame, window: int
) -> pd.Series:
    """Rolling correlation of log returns over ``window`` returns, on the shared timestamps.

    NaN until a full window of returns exists; causal (uses only bars up to each timestamp).
    """
    window = _check_window(window)
    x, y = _closes(a, "a"), _closes(b, "b")
    shared = x.index.intersection(y.index)
    out = np.full(len(shared), np.nan)
    if len(shared) > window:
        rx = np.diff(np.log(x.loc[shared].to_numpy()))
        ry = np.diff(np.log(y.loc[shared].to_numpy()))
        # Each window exactly (two-pass, no running sums), vectorised over all windows.
        wx = sliding_window_view(rx, window)
        wy = sliding_window_view(ry, window)
        dx = wx - wx.mean(axis=1, keepdims=True)
        dy = wy - wy.mean(axis=1, keepdims=True)
        denom = np.sqrt((dx * dx).sum(axis=1) * (dy * dy).sum(axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = (dx * dy).sum(axis=1) / denom
        # A flat window has no defined correlation.
        corr[~np.isfinite(corr) | (denom == 0.0)] = np.nan
        out[window:] = np.clip(corr, -1.0, 1.0)
    return pd.Series(out, index=shared, name="correlation")


def latest_correlation(
    a: pd.Series | pd.DataFrame, b: pd.Series | pd.DataFrame, window: int
) -> float | None:
    """The last value of ``rolling_correlation(a, b, window)``, computed on that window only.

    The risk gate asks for it on every decision, so it skips the rolling machinery.
    """
    window = _check_window(window)
    x, y = _closes(a, "a"), _closes(b, "b")
    shared = x.index.intersection(y.index)
    if len(shared) < window + 1:
        return None
    tail = shared[-(window + 1) :]
    rx = np.diff(np.log(x.loc[tail].to_numpy()))
    ry = np.diff(np.log(y.loc[tail].to_numpy()))
    if np.std(rx) == 0.0 or np.std(ry) == 0.0:
        return None
    value = float(np.corrcoef(rx, ry)[0, 1])
    return max(-1.0, min(1.0, value)) if np.isfinite(value) else None


def _recent_correlation(base: pd.Series, peer: pd.Series, window: int, lookback: int) -> pd.Series:
    """The rolling correlation over the last ``lookback`` shared bars (and before, if flat).

    Only the tail can change the latest and mean values, so the full history is correlated
    only when the tail has no defined value at all; this keeps a check on long series cheap.
    """
    shared = base.index.intersection(peer.index)
    tail = window + lookback + 1
    if len(shared) > tail:
        start = shared[-tail]
        corr = rolling_correlation(base.loc[start:], peer.loc[start:], window)
        if corr.notna().any():
            return corr
    return rolling_correlation(base, peer, window)


def _defaults(window: int | None, max_correlation: float | None) -> tuple[int, float]:
    if window is None or max_correlation is None:
        cfg = CorrelationComponent()  # the built-in defaults; callers pass the configured ones
        window = cfg.window if window is None else window
        max_correlation = cfg.max_correlation if max_correlation is None else max_correlation
    return window, max_correlation


def correlation_check(
    symbol_df: pd.Series | pd.DataFrame,
    peers: Mapping[str, pd.Series | pd.DataFrame],
    window: int | None = None,
    max_correlation: float | None = None,
    lookback: int | None = None,
) -> CorrelationReport:
    """Latest and mean correlation with each peer, flagging |latest| above ``max_correlation``.

    ``lookback`` (default: ``window``) is how many recent rolling values the mean covers. A
    peer without a full window of shared bars is listed as insufficient, never dropped.
    """
    window, max_correlation = _defaults(window, max_correlation)
    window = _check_window(window)
    if not 0.0 <= max_correlation <= 1.0 or math.isnan(max_correlation):
        raise ValueError(f"max_correlation must be within [0, 1], got {max_correlation}")
    lookback = window if lookback is None else lookback
    if lookback < 1:
        raise ValueError(f"lookback must be at least 1, got {lookback}")
    base = _closes(symbol_df, "symbol")

    rows: list[PeerCorrelation] = []
    for name, frame in peers.items():
        peer = _closes(frame, name)
        corr = _recent_correlation(base, peer, window, lookback)
        overlap = len(base.index.intersection(peer.index))
        valid = corr.dropna()
        if valid.empty:
            need = window + 1
            rows.append(
                PeerCorrelation(
                    peer=name,
                    overlap_bars=overlap,
                    sufficient=False,
                    note=f"insufficient overlap: {overlap} shared bars, need {need} "
                    "with varying prices",
                )
            )
            continue
        latest = float(valid.iloc[-1])
        stale = valid.index[-1] != corr.index[-1]
        flagged = abs(latest) > max_correlation
        rows.append(
            PeerCorrelation(
                peer=name,
                overlap_bars=overlap,
                sufficient=True,
                latest=latest,
                mean=float(corr.iloc[-lookback:].mean())
                if corr.iloc[-lookback:].notna().any()
                else None,
                as_of=valid.index[-1].to_pydatetime(),
                flagged=flagged,
                note="latest bar has no defined correlation (flat window)" if stale else "",
            )
        )
    return CorrelationReport(
        window=window,
        lookback=lookback,
        max_correlation=max_correlation,
        peers=rows,
        breaches=[r.peer for r in rows if r.flagged],
        insufficient=[r.peer for r in rows if not r.sufficient],
    )


def correlation_matrix(
    frames: Mapping[str, pd.Series | pd.DataFrame], window: int | None = None
) -> CorrelationMatrix:
    """Symmetric matrix of the latest pairwise rolling correlations (diagonal 1)."""
    window, _ = _defaults(window, 0.0)
    window = _check_window(window)
    names = list(frames)
    closes = {n: _closes(frames[n], n) for n in names}
    matrix: list[list[float | None]] = [[None] * len(names) for _ in names]
    for i, a in enumerate(names):
        matrix[i][i] = 1.0
        for j in range(i + 1, len(names)):
            valid = rolling_correlation(closes[a], closes[names[j]], window).dropna()
            value = float(valid.iloc[-1]) if not valid.empty else None
            matrix[i][j] = matrix[j][i] = value
    return CorrelationMatrix(window=window, symbols=names, matrix=matrix)
