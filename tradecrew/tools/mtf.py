"""Multi-timeframe direction: score M5, M15, H1 and H4 trends from fine bars and fuse them.

At each bar only COMPLETED coarser bars are used: a bar of timeframe T covering [S, S+T) counts
once the last fine bar seen has ended at or after S+T; the partially formed bar is never used,
so the answer at a bar is the same on any prefix that ends there. Each timeframe's score is
``tanh((EMA12 - EMA26) / ATR14)`` (a MACD line measured in ATRs, squashed into [-1, 1]); the
fused score is the weighted mean over the timeframes that have a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

import numpy as np
import pandas as pd
import talib
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.config_sections import FusionSettings
from tradecrew.data.resample import resample_bars
from tradecrew.models import Timeframe
from tradecrew.tools._ohlcv import last_timestamp, ohlcv_arrays

EMA_FAST, EMA_SLOW, ATR_PERIOD = 12, 26, 14
MIN_COARSE_BARS = EMA_SLOW  # talib's EMA26 gives its first value on the 26th bar
_MAX_FIXED_MINUTES = 1440  # weekly and monthly bars follow the calendar, not a fixed step


class TimeframeScore(BaseModel):
    """One timeframe's direction at the last bar, from completed bars only."""

    model_config = ConfigDict(extra="forbid")

    timeframe: str
    available: bool
    score: float | None = Field(None, ge=-1.0, le=1.0)
    weight: float = Field(ge=0.0, description="configured weight")
    effective_weight: float = Field(0.0, ge=0.0, le=1.0, description="after renormalising")
    bars_used: int = Field(0, description="completed bars of this timeframe so far")
    last_completed: datetime | None = Field(None, description="open time of the last completed bar")
    reason: str = ""


class MTFResult(BaseModel):
    """Per-timeframe scores and their weighted fusion at the last bar."""

    model_config = ConfigDict(extra="forbid")

    timestamp: datetime
    base_minutes: float = Field(description="spacing of the input bars")
    timeframes: list[TimeframeScore]
    fused_score: float | None = Field(None, ge=-1.0, le=1.0)
    agreement: float = Field(
        ge=0.0, le=1.0, description="share of effective weight whose score has the fused sign"
    )


def _default_weights(weights: Mapping[str, float] | None) -> dict[Timeframe, float]:
    if weights is None:
        weights = FusionSettings().timeframe_weights  # built-in; callers pass the configured
    parsed: dict[Timeframe, float] = {}
    for key, w in weights.items():
        tf = Timeframe.parse(key)
        if not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
            raise ValueError(f"timeframe weight for {key} must be a finite number >= 0, got {w!r}")
        parsed[tf] = float(w)
    if not parsed or sum(parsed.values()) <= 0:
        raise ValueError("timeframe weights need at least one weight above zero")
    return dict(sorted(parsed.items(), key=lambda kv: kv[0].minutes))


def _ns(index: pd.DatetimeIndex) -> np.ndarray:
    """Epoch nanoseconds whatever the index's resolution (pandas 3 may store microseconds)."""
    return index.as_unit("ns").asi8


def _base_minutes(index: pd.DatetimeIndex, base: Timeframe | str | None) -> float:
    if base is not None:
        return float(Timeframe.parse(base).minutes)
    # The median spacing ignores weekend and holiday gaps.
    return float(np.median(np.diff(_ns(index))) / 60e9)


def _direction_score(bars: pd.DataFrame) -> np.ndarray:
    """tanh of (EMA fast - EMA slow) / ATR for each bar; NaN before the warm-up ends."""
    high, low, close = (bars[c].to_numpy(np.float64) for c in ("high", "low", "close"))
    out = np.full(len(bars), np.nan)
    if len(bars) < MIN_COARSE_BARS:
        return out
    spread = talib.EMA(close, EMA_FAST) - talib.EMA(close, EMA_SLOW)
    atr = talib.ATR(high, low, close, ATR_PERIOD)
    ok = np.isfinite(spread) & np.isfinite(atr)
    # A market that has not moved at all has no direction: score 0 rather than 0/0.
    ratio = np.divide(spread, atr, out=np.zeros_like(spread), where=ok & (atr > 0))
    out[ok] = np.tanh(ratio[ok])
    return out


def _score_frame(
    df: pd.DataFrame, weights: dict[Timeframe, float], base: Timeframe | str | None
) -> tuple[pd.DataFrame, dict[Timeframe, str], float, dict[Timeframe, pd.DatetimeIndex]]:
    """Per fine bar: each available timeframe's score and completed-bar count."""
    ohlcv_arrays(df, 2, "multi_timeframe")
    index = df.index
    if index.tz is None:
        raise ValueError("multi_timeframe: the index must be timezone-aware (canonical UTC)")
    base_min = _base_minutes(index, base)
    fine_end = _ns(index) + round(base_min * 60e9)
    cols: dict[str, np.ndarray] = {}
    unavailable: dict[Timeframe, str] = {}
    starts: dict[Timeframe, pd.DatetimeIndex] = {}
    for tf in weights:
        if tf.minutes > _MAX_FIXED_MINUTES:
            unavailable[tf] = "calendar timeframes (weekly, monthly) are not supported"
            continue
        if tf.minutes < base_min - 1e-9:
            unavailable[tf] = f"input bars ({base_min:g} min) are coarser than {tf.value}"
            continue
        if abs(tf.minutes / base_min - round(tf.minutes / base_min)) > 1e-9:
            unavailable[tf] = f"{tf.value} is not a multiple of the input spacing"
            continue
        coarse = resample_bars(df[["open", "high", "low", "close", "volume"]], tf)
        scores = _direction_score(coarse)
        coarse_end = _ns(coarse.index) + tf.minutes * 60_000_000_000
        # Last coarse bar whose end the data has reached: completed bars only.
        pos = np.searchsorted(coarse_end, fine_end, side="right") - 1
        has = pos >= 0
        cols[tf.value] = np.where(has, scores[np.clip(pos, 0, None)], np.nan)
        cols[f"{tf.value}_bars"] = pos + 1
        starts[tf] = coarse.index
    frame = pd.DataFrame(cols, index=index)
    return frame, unavailable, base_min, starts


def _fuse_rows(frame: pd.DataFrame, weights: dict[Timeframe, float]) -> pd.Series:
    names = [tf.value for tf in weights if tf.value in frame]
    if not names:
        return pd.Series(np.nan, index=frame.index, name="mtf_score")
    scores = frame[names].to_numpy(np.float64)
    w = np.array([weights[Timeframe(n)] for n in names])
    present = np.isfinite(scores) & (w > 0)
    wsum = (present * w).sum(axis=1)
    total = np.where(present, scores, 0.0) @ w
    fused = np.divide(total, wsum, out=np.full(len(frame), np.nan), where=wsum > 0)
    return pd.Series(np.clip(fused, -1.0, 1.0), index=frame.index, name="mtf_score")


def mtf_series(
    df: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    base: Timeframe | str | None = None,
) -> pd.Series:
    """The fused multi-timeframe score at every bar (NaN before any timeframe has one).

    Causal: each bar uses only coarser bars completed by its end. ``base`` is the input
    timeframe; by default it is the median bar spacing.
    """
    w = _default_weights(weights)
    frame, _, _, _ = _score_frame(df, w, base)
    return _fuse_rows(frame, w)


def multi_timeframe(
    df: pd.DataFrame,
    weights: Mapping[str, float] | None = None,
    base: Timeframe | str | None = None,
) -> MTFResult:
    """Each timeframe's score at the last bar and their fusion (weights renormalised over the
    timeframes that have a score); defaults to the built-in ``fusion.timeframe_weights`` (callers
    pass the configured ones)."""
    w = _default_weights(weights)
    frame, unavailable, base_min, starts = _score_frame(df, w, base)
    last = frame.iloc[-1]
    have = {
        tf: float(last[tf.value])
        for tf in w
        if tf.value in frame and math.isfinite(last[tf.value]) and w[tf] > 0
    }
    wsum = sum(w[tf] for tf in have)
    fused = sum(w[tf] * s for tf, s in have.items()) / wsum if wsum > 0 else None
    fused = None if fused is None else max(-1.0, min(1.0, fused))

    rows = []
    for tf, weight in w.items():
        if tf in unavailable:
            rows.append(
                TimeframeScore(
                    timeframe=tf.value, available=False, weight=weight, reason=unavailable[tf]
                )
            )
            continue
        used = int(last[f"{tf.value}_bars"])
        score = have.get(tf)
        reason = ""
        if score is None:
            reason = (
                "weight is zero"
                if weight == 0 and math.isfinite(last[tf.value])
                else f"{used} completed bars, needs {MIN_COARSE_BARS}"
            )
        rows.append(
            TimeframeScore(
                timeframe=tf.value,
                available=score is not None,
                score=score,
                weight=weight,
                effective_weight=weight / wsum if score is not None else 0.0,
                bars_used=used,
                last_completed=starts[tf][used - 1].to_pydatetime() if used > 0 else None,
                reason=reason,
            )
        )
    agreement = 0.0
    if fused is not None and fused != 0.0:
        agreement = sum(w[tf] for tf, s in have.items() if np.sign(s) == np.sign(fused)) / wsum
    return MTFResult(
        timestamp=last_timestamp(df),
        base_minutes=base_min,
        timeframes=rows,
        fused_score=fused,
        agreement=min(agreement, 1.0),
    )
