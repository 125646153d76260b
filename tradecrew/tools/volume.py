"""Volume analysis: is volume unusual, and is it flowing in with buyers or with sellers?

Per bar (causal, TA-Lib rolling windows over float64 arrays):

* ``volume_ma``        simple moving average of volume over ``period`` bars;
* ``volume_ratio``     volume / volume_ma (1 = an ordinary bar; 0 when the average is 0);
* ``volume_z``         (volume - volume_ma) / population stdev over the same window;
* ``up_volume`` / ``down_volume``  volume of bars that closed above / below the previous close,
  summed over the window; ``up_volume_share`` = up / (up + down) (0.5 when neither);
* ``obv_slope`` / ``adl_slope``    least-squares slope of OBV / Accumulation-Distribution over
  the window, in units of the average bar volume, so +1 means "one ordinary bar of buying per
  bar" whatever the instrument's volume scale.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd
import talib
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.tools._ohlcv import last_timestamp, ohlcv_arrays

VOLUME_COLUMNS = (
    "volume_ma",
    "volume_ratio",
    "volume_z",
    "up_volume",
    "down_volume",
    "up_volume_share",
    "obv_slope",
    "adl_slope",
)


def safe_div(num: np.ndarray, den: np.ndarray, fill: float = 0.0) -> np.ndarray:
    """num / den, with ``fill`` where den is 0 and NaN kept wherever either input is NaN
    (so warm-up stays NaN and a flat window gives a defined value, never inf)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    zero = den == 0
    if zero.any():
        out[zero & ~np.isnan(num)] = fill
    return out


def volume_arrays(
    close: np.ndarray,
    volume: np.ndarray,
    obv: np.ndarray,
    adl: np.ndarray,
    period: int,
) -> dict[str, np.ndarray]:
    """The volume columns from already-computed OBV and ADL (indicator_frame reuses them)."""
    vma = talib.SMA(volume, period)
    std = talib.STDDEV(volume, period, 1.0)
    # Rounding in TA-Lib's running variance leaves ~1e-8 noise on a constant window.
    std[std <= 1e-9 * np.abs(vma)] = 0.0
    # OBV moves by +volume on an up close and -volume on a down close, so the window's
    # up-minus-down volume is OBV's change over it; only the total needs its own sum.
    moved = np.empty_like(volume)
    moved[0] = 0.0
    np.multiply(volume[1:], close[1:] != close[:-1], out=moved[1:])
    total = talib.SUM(moved, period)
    net = np.full_like(obv, np.nan)
    np.subtract(obv[period:], obv[:-period], out=net[period:])
    total[:period] = np.nan  # the first bar has no previous close, so its window is short
    # Clipped because float rounding in large OBV values can leave -1e-9 where 0 is meant.
    up = np.maximum((total + net) * 0.5, 0.0)
    down = np.maximum((total - net) * 0.5, 0.0)
    return {
        "volume_ma": vma,
        "volume_ratio": safe_div(volume, vma),
        "volume_z": safe_div(volume - vma, std),
        "up_volume": up,
        "down_volume": down,
        "up_volume_share": np.minimum(safe_div(up, total, fill=0.5), 1.0),
        "obv_slope": safe_div(talib.LINEARREG_SLOPE(obv, period), vma),
        "adl_slope": safe_div(talib.LINEARREG_SLOPE(adl, period), vma),
    }


def _check_period(period: int) -> None:
    if not isinstance(period, int) or period < 2:
        raise ValueError(f"volume period must be an integer of at least 2, got {period!r}")


def volume_series(df: pd.DataFrame, period: int = 20) -> pd.DataFrame:
    """Every volume column per bar, indexed like ``df``; NaN during the first ``period`` bars."""
    _check_period(period)
    _, h, low, c, v = ohlcv_arrays(df, period + 1, "volume analysis")
    cols = volume_arrays(c, v, talib.OBV(c, v), talib.AD(h, low, c, v), period)
    block = np.vstack(list(cols.values())).T
    return pd.DataFrame(block, index=df.index, columns=list(cols), copy=False)


class VolumeAnalysis(BaseModel):
    """The latest bar's volume picture, with plain-language reading."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = None
    timestamp: datetime
    synthetic: bool = False
    period: int
    volume: float
    volume_ma: float
    volume_ratio: float
    volume_z: float
    up_volume_share: float = Field(ge=0.0, le=1.0)
    obv_slope: float
    adl_slope: float
    activity: Literal["none", "low", "normal", "high", "extreme"]
    flow: Literal["accumulation", "distribution", "mixed", "none"]
    detail: str


def _activity(ma: float, z: float, ratio: float) -> str:
    if ma == 0:
        return "none"
    if z >= 3:
        return "extreme"
    if ratio >= 1.5:
        return "high"
    if ratio <= 0.5:
        return "low"
    return "normal"


def _flow(ma: float, obv_slope: float, adl_slope: float) -> str:
    if ma == 0:
        return "none"
    # Both cumulative flows have to agree before the bar is called one way.
    if obv_slope > 0 and adl_slope > 0:
        return "accumulation"
    if obv_slope < 0 and adl_slope < 0:
        return "distribution"
    return "mixed"


def volume_analysis(df: pd.DataFrame, period: int = 20) -> VolumeAnalysis:
    """Snapshot of :func:`volume_series` at the last bar: unusual volume and its direction."""
    last = volume_series(df, period).iloc[-1]
    ma, ratio, z = float(last.volume_ma), float(last.volume_ratio), float(last.volume_z)
    activity = _activity(ma, z, ratio)
    flow = _flow(ma, float(last.obv_slope), float(last.adl_slope))
    detail = (
        f"volume {ratio:.2f}x its {period}-bar average (z {z:+.2f}); "
        f"{last.up_volume_share:.0%} of recent volume on up bars; flow {flow}"
    )
    return VolumeAnalysis(
        symbol=df.attrs.get("symbol"),
        timestamp=last_timestamp(df),
        synthetic=bool(df.attrs.get("synthetic", False)),
        period=period,
        volume=float(df["volume"].iloc[-1]),
        volume_ma=ma,
        volume_ratio=ratio,
        volume_z=z,
        up_volume_share=float(last.up_volume_share),
        obv_slope=float(last.obv_slope),
        adl_slope=float(last.adl_slope),
        activity=activity,  # type: ignore[arg-type]
        flow=flow,  # type: ignore[arg-type]
        detail=detail,
    )
