"""Technical indicators (TA-Lib) per bar, their latest reading, and bounded component scores.

``indicator_frame`` computes everything in one pass over float64 arrays and builds the frame
once at the end; every column at bar t depends only on bars up to t (TA-Lib's recursions run
forward from the first bar), so a prefix of the data gives the same values it gave then.

Component scores for the signal fusion, each in [-1, 1] (short..long), NaN during warm-up:

* ``trend``    mean of tanh(MACD histogram / (ATR/4)), tanh((close - EMA) / (2 ATR)) and the
  DI spread (+DI - -DI) / (+DI + -DI) scaled by min(ADX / 25, 1); confidence = agreement of
  the three x min(ADX / 25, 1), since a trend read without ADX behind it is weak.
* ``momentum`` mean of (RSI - 50) / 50, (Stoch %K - 50) / 50 and tanh(AO / ATR); positive
  means prices are rising faster, not that they are overbought. Confidence = agreement.
* ``volume``   mean of tanh(OBV slope) and tanh(ADL slope), both in units of average bar
  volume; 0 with confidence 0 when the instrument reports no volume.

Agreement of parts s_i is |mean(s)| / mean(|s|): 1 when all point the same way, 0 when they
cancel out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import numpy as np
import pandas as pd
import talib
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradecrew.tools._ohlcv import NotEnoughBars, last_timestamp, ohlcv_arrays
from tradecrew.tools.volume import safe_div, volume_arrays

__all__ = [
    "IndicatorParams",
    "IndicatorSnapshot",
    "NotEnoughBars",
    "component_scores",
    "indicator_frame",
    "indicators",
]

# How many ATRs of MACD histogram / of distance from the EMA make a "clear" trend reading.
_MACD_ATR_SCALE = 0.25
_EMA_ATR_SCALE = 2.0
_ADX_FULL = 25.0  # ADX at which a trend counts in full (Wilder's "trending" threshold)


class IndicatorParams(BaseModel):
    """Periods of every indicator; the defaults are the textbook ones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rsi_period: int = Field(14, ge=2)
    macd_fast: int = Field(12, ge=2)
    macd_slow: int = Field(26, ge=3)
    macd_signal: int = Field(9, ge=1)
    stoch_k: int = Field(14, ge=1)
    stoch_smooth_k: int = Field(3, ge=1)
    stoch_d: int = Field(3, ge=1)
    mfi_period: int = Field(14, ge=2)
    atr_period: int = Field(14, ge=1)
    adx_period: int = Field(14, ge=2)
    bb_period: int = Field(20, ge=2)
    bb_std: float = Field(2.0, gt=0.0)
    ao_fast: int = Field(5, ge=1)
    ao_slow: int = Field(34, ge=2)
    volume_period: int = Field(20, ge=2)
    trend_ema: int = Field(50, ge=2)
    rsi_overbought: float = Field(70.0, gt=50.0, lt=100.0)
    rsi_oversold: float = Field(30.0, gt=0.0, lt=50.0)
    stoch_overbought: float = Field(80.0, gt=50.0, lt=100.0)
    stoch_oversold: float = Field(20.0, gt=0.0, lt=50.0)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> IndicatorParams:
        if self.macd_fast >= self.macd_slow:
            raise ValueError("macd_fast must be shorter than macd_slow")
        if self.ao_fast >= self.ao_slow:
            raise ValueError("ao_fast must be shorter than ao_slow")
        return self

    @property
    def min_bars(self) -> int:
        """Bars needed so the last two bars carry every column and score (crosses need two)."""
        lookbacks = (
            self.rsi_period,
            self.macd_slow + self.macd_signal - 2,
            self.stoch_k + self.stoch_smooth_k + self.stoch_d - 3,
            self.mfi_period,
            self.atr_period,
            2 * self.adx_period - 1,
            self.bb_period - 1,
            self.ao_slow - 1,
            self.volume_period,
            self.trend_ema - 1,
        )
        return max(lookbacks) + 2


_DEFAULT = IndicatorParams()


def _compute(
    h: np.ndarray, low: np.ndarray, c: np.ndarray, v: np.ndarray, p: IndicatorParams
) -> dict[str, np.ndarray]:
    """Every indicator column as a float64 array; no pandas in this hot path."""
    macd, macd_signal, macd_hist = talib.MACD(c, p.macd_fast, p.macd_slow, p.macd_signal)
    stoch_k, stoch_d = talib.STOCH(
        h, low, c, p.stoch_k, p.stoch_smooth_k, talib.MA_Type.SMA, p.stoch_d, talib.MA_Type.SMA
    )
    bb_upper, bb_middle, bb_lower = talib.BBANDS(
        c, p.bb_period, p.bb_std, p.bb_std, talib.MA_Type.SMA
    )
    median = (h + low) * 0.5
    obv = talib.OBV(c, v)
    adl = talib.AD(h, low, c, v)
    cols = {
        "rsi": talib.RSI(c, p.rsi_period),
        "macd": macd,
        "macd_signal": macd_signal,
        "macd_hist": macd_hist,
        "stoch_k": stoch_k,
        "stoch_d": stoch_d,
        "mfi": talib.MFI(h, low, c, v, p.mfi_period),
        "adl": adl,
        "ao": talib.SMA(median, p.ao_fast) - talib.SMA(median, p.ao_slow),
        "obv": obv,
        "atr": talib.ATR(h, low, c, p.atr_period),
        "adx": talib.ADX(h, low, c, p.adx_period),
        "plus_di": talib.PLUS_DI(h, low, c, p.adx_period),
        "minus_di": talib.MINUS_DI(h, low, c, p.adx_period),
        "bb_upper": bb_upper,
        "bb_middle": bb_middle,
        "bb_lower": bb_lower,
        "bb_width": safe_div(bb_upper - bb_lower, bb_middle),
        "bb_pct": safe_div(c - bb_lower, bb_upper - bb_lower, fill=0.5),
    }
    cols.update(volume_arrays(c, v, obv, adl, p.volume_period))
    return cols


_COLUMNS: dict[tuple[str, ...], pd.Index] = {}  # column labels are built once per layout


def _frame(cols: dict[str, np.ndarray], index: pd.Index) -> pd.DataFrame:
    # One fresh 2-D block handed over without a copy: ~15x cheaper than a dict of columns.
    block = np.vstack(list(cols.values())).T
    key = tuple(cols)
    columns = _COLUMNS.get(key)
    if columns is None:
        columns = _COLUMNS.setdefault(key, pd.Index(key))
    return pd.DataFrame(block, index=index, columns=columns, copy=False)


def indicator_frame(df: pd.DataFrame, params: IndicatorParams | None = None) -> pd.DataFrame:
    """Every indicator per bar (rsi, macd..., volume_z...), indexed like ``df``, causal."""
    p = params or _DEFAULT
    _, h, low, c, v = ohlcv_arrays(df, p.min_bars, "indicator_frame")
    return _frame(_compute(h, low, c, v, p), df.index)


def _agreement(parts: list[np.ndarray]) -> np.ndarray:
    stacked = np.vstack(parts)
    return safe_div(np.abs(stacked.mean(axis=0)), np.abs(stacked).mean(axis=0))


def _flat(high: np.ndarray, low: np.ndarray, period: int) -> np.ndarray:
    """True where the last ``period`` bars did not move at all (oscillators are undefined)."""
    with np.errstate(invalid="ignore"):
        return (talib.MAX(high, period) - talib.MIN(low, period)) <= 0


def _scores(
    h: np.ndarray,
    low: np.ndarray,
    c: np.ndarray,
    cols: dict[str, np.ndarray],
    p: IndicatorParams,
) -> dict[str, np.ndarray]:
    atr = cols["atr"]
    adx_weight = np.minimum(cols["adx"] / _ADX_FULL, 1.0)
    trend_parts = [
        np.tanh(safe_div(cols["macd_hist"], atr * _MACD_ATR_SCALE)),
        np.tanh(safe_div(c - talib.EMA(c, p.trend_ema), atr * _EMA_ATR_SCALE)),
        safe_div(cols["plus_di"] - cols["minus_di"], cols["plus_di"] + cols["minus_di"])
        * adx_weight,
    ]
    # TA-Lib reports 0 (not 50) for RSI/Stochastic on a motionless window; read that as neutral.
    rsi_part = (cols["rsi"] - 50.0) / 50.0
    rsi_part[_flat(c, c, p.rsi_period + 1) & ~np.isnan(rsi_part)] = 0.0
    stoch_part = (cols["stoch_k"] - 50.0) / 50.0
    stoch_window = p.stoch_k + p.stoch_smooth_k + p.stoch_d - 2
    stoch_part[_flat(h, low, stoch_window) & ~np.isnan(stoch_part)] = 0.0
    momentum_parts = [rsi_part, stoch_part, np.tanh(safe_div(cols["ao"], atr))]
    volume_parts = [np.tanh(cols["obv_slope"]), np.tanh(cols["adl_slope"])]
    out: dict[str, np.ndarray] = {}
    for name, parts, weight in (
        ("trend", trend_parts, adx_weight),
        ("momentum", momentum_parts, None),
        ("volume", volume_parts, None),
    ):
        score = np.clip(np.vstack(parts).mean(axis=0), -1.0, 1.0)
        conf = _agreement(parts)
        if weight is not None:
            conf = conf * weight
        conf[np.isnan(score)] = np.nan
        out[name] = score
        out[f"{name}_confidence"] = np.clip(conf, 0.0, 1.0)
    return out


def component_scores(df: pd.DataFrame, params: IndicatorParams | None = None) -> pd.DataFrame:
    """Per-bar trend, momentum and volume scores in [-1, 1] with confidences in [0, 1]."""
    p = params or _DEFAULT
    _, h, low, c, v = ohlcv_arrays(df, p.min_bars, "component_scores")
    return _frame(_scores(h, low, c, _compute(h, low, c, v, p), p), df.index)


# --------------------------------------------------------------------------- snapshot


class IndicatorSnapshot(BaseModel):
    """The latest value of every indicator, read in plain language, plus component scores."""

    model_config = ConfigDict(extra="forbid")

    symbol: str | None = None
    timestamp: datetime
    synthetic: bool = False
    close: float
    rsi: float
    macd: float
    macd_signal: float
    macd_hist: float
    stoch_k: float
    stoch_d: float
    mfi: float
    adl: float
    ao: float
    obv: float
    atr: float
    adx: float
    plus_di: float
    minus_di: float
    bb_upper: float
    bb_middle: float
    bb_lower: float
    bb_width: float
    bb_pct: float
    volume_ratio: float
    volume_z: float
    rsi_state: Literal["overbought", "oversold", "neutral"]
    macd_state: Literal["bullish_cross", "bearish_cross", "above_signal", "below_signal"]
    stoch_state: Literal["overbought", "oversold", "neutral"]
    stoch_cross: Literal["bullish_cross", "bearish_cross", "none"]
    mfi_state: Literal["overbought", "oversold", "neutral"]
    bollinger_position: Literal["above_upper", "upper_half", "lower_half", "below_lower"]
    trend_strength: Literal["absent", "emerging", "strong", "very_strong", "extreme"]
    trend_direction: Literal["up", "down", "none"]
    trend_score: float = Field(ge=-1.0, le=1.0)
    trend_confidence: float = Field(ge=0.0, le=1.0)
    momentum_score: float = Field(ge=-1.0, le=1.0)
    momentum_confidence: float = Field(ge=0.0, le=1.0)
    volume_score: float = Field(ge=-1.0, le=1.0)
    volume_confidence: float = Field(ge=0.0, le=1.0)
    summary: str


def _zone(value: float, high: float, low: float) -> str:
    return "overbought" if value >= high else "oversold" if value <= low else "neutral"


def _cross(prev_diff: float, diff: float) -> str:
    if prev_diff <= 0 < diff:
        return "bullish_cross"
    if prev_diff >= 0 > diff:
        return "bearish_cross"
    return "none"


def _strength(adx: float) -> str:
    # Wilder's bands: below 20 no trend, 20-25 forming, then strong / very strong / extreme.
    for limit, label in ((20, "absent"), (25, "emerging"), (50, "strong"), (75, "very_strong")):
        if adx < limit:
            return label
    return "extreme"


def _bollinger(close: float, upper: float, middle: float, lower: float) -> str:
    if close > upper:
        return "above_upper"
    if close < lower:
        return "below_lower"
    return "upper_half" if close >= middle else "lower_half"


def indicators(df: pd.DataFrame, params: IndicatorParams | None = None) -> IndicatorSnapshot:
    """Latest reading of :func:`indicator_frame` and :func:`component_scores` at the last bar."""
    p = params or _DEFAULT
    _, h, low, c, v = ohlcv_arrays(df, p.min_bars, "indicators")
    cols = _compute(h, low, c, v, p)
    scores = _scores(h, low, c, cols, p)
    last = {k: float(a[-1]) for k, a in cols.items()}
    prev_hist = float(cols["macd_hist"][-2])
    cross = _cross(prev_hist, last["macd_hist"])
    macd_state = (
        cross if cross != "none" else "above_signal" if last["macd_hist"] >= 0 else "below_signal"
    )
    prev_kd = float(cols["stoch_k"][-2] - cols["stoch_d"][-2])
    di_spread = last["plus_di"] - last["minus_di"]
    strength = _strength(last["adx"])
    direction = "none" if strength == "absent" else "up" if di_spread > 0 else "down"
    snap = {k: last[k] for k in IndicatorSnapshot.model_fields if k in last}
    rsi_state = _zone(last["rsi"], p.rsi_overbought, p.rsi_oversold)
    bb = _bollinger(c[-1], last["bb_upper"], last["bb_middle"], last["bb_lower"])
    summary = (
        f"RSI {last['rsi']:.1f} ({rsi_state}), MACD {macd_state.replace('_', ' ')}, "
        f"ADX {last['adx']:.1f} ({strength.replace('_', ' ')} trend"
        f"{'' if direction == 'none' else ', ' + direction}), price {bb.replace('_', ' ')} "
        f"of Bollinger bands; volume {last['volume_ratio']:.2f}x average"
    )
    return IndicatorSnapshot(
        symbol=df.attrs.get("symbol"),
        timestamp=last_timestamp(df),
        synthetic=bool(df.attrs.get("synthetic", False)),
        close=float(c[-1]),
        **snap,
        rsi_state=rsi_state,  # type: ignore[arg-type]
        macd_state=macd_state,  # type: ignore[arg-type]
        stoch_state=_zone(last["stoch_k"], p.stoch_overbought, p.stoch_oversold),  # type: ignore[arg-type]
        stoch_cross=_cross(prev_kd, last["stoch_k"] - last["stoch_d"]),  # type: ignore[arg-type]
        mfi_state=_zone(last["mfi"], 80.0, 20.0),  # type: ignore[arg-type]
        bollinger_position=bb,  # type: ignore[arg-type]
        trend_strength=strength,  # type: ignore[arg-type]
        trend_direction=direction,  # type: ignore[arg-type]
        trend_score=float(scores["trend"][-1]),
        trend_confidence=float(scores["trend_confidence"][-1]),
        momentum_score=float(scores["momentum"][-1]),
        momentum_confidence=float(scores["momentum_confidence"][-1]),
        volume_score=float(scores["volume"][-1]),
        volume_confidence=float(scores["volume_confidence"][-1]),
        summary=summary,
    )
