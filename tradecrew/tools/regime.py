"""Causal market-regime classifier: trending_bull, trending_bear, ranging or volatile.

Four interpretable features are computed per bar from past bars only:

- ``trend_tstat``: net log move over ``window`` bars divided by its noise
  (``sd(returns) * sqrt(window)``); about N(0, 1) for a driftless walk;
- ``efficiency_ratio``: Kaufman's net move over path length on the same window (0..1);
- ``adx``: Wilder's ADX(14) from TA-Lib;
- ``vol_ratio``: realised volatility over ``vol_window`` bars relative to its rolling 35th
  percentile over ``baseline_window`` bars, the instrument's own calm normal.

They feed a small logistic model with fixed coefficients (``_COEF`` below): first
*volatile or not* from the volatility ratio (tempered by drift), then *trending or ranging*
from trend strength, then *bull or bear* from the sign of the drift. The product of these
gates gives the four class probabilities, which are smoothed (EMA over ``smooth`` bars) and
labelled with a confirmation rule: a new regime must lead for ``confirm_bars`` consecutive
bars before the label switches, so it does not flicker.

The volatility baseline needs history: no label before ``warmup_bars()`` bars (280 with the
defaults). For a yearly view of daily data (bull or bear market) use ``window=250``.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import talib
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.models import Regime

REGIMES: tuple[Regime, ...] = (
    Regime.TRENDING_BULL,
    Regime.TRENDING_BEAR,
    Regime.RANGING,
    Regime.VOLATILE,
)
PROBABILITY_COLUMNS: tuple[str, ...] = tuple(f"p_{r.value}" for r in REGIMES)
UNKNOWN = "unknown"
ADX_PERIOD = 14
BASELINE_QUANTILE = 0.35
_ADX_LOOKBACK = 2 * ADX_PERIOD - 1  # TA-Lib's first valid ADX index

# Fixed model coefficients, chosen by reasoning about the features' scales and checked on
# synthetic paths with known labels (seeds disjoint from the tests'). Units: vol_ratio in
# natural log, ADX in points, t-stat in standard errors.
_COEF = {
    # p(volatile) = sigmoid(vol_slope * (log vol_ratio - vol_center) - vol_tstat * (|t| - 1)):
    # even odds at 1.8x the calm baseline; a strong drift argues for a trend instead.
    "vol_slope": 5.0,
    "vol_center": 0.6,
    "vol_tstat": 1.0,
    # p(trend | not volatile) = sigmoid(z); z rises with the drift t-stat, efficiency and ADX
    # and falls when volatility is below the baseline (ranges are quiet). With ADX 25,
    # efficiency 0.2 and normal volatility, even odds sit at |t| = 0.5.
    "trend_intercept": -1.0,
    "trend_tstat": 2.0,
    "trend_er": 1.5,
    "trend_adx": 0.05,
    "trend_vol": 4.0,
    "er_center": 0.2,
    "adx_center": 25.0,
    # p(bull | trend) = sigmoid(direction_slope * t): 92% bull at t = +1.
    "direction_slope": 2.5,
}


class RegimeResult(BaseModel):
    """The regime at the latest bar, how sure the classifier is, and the evidence."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    timestamp: datetime
    regime: Regime
    confidence: float = Field(ge=0.0, le=1.0)
    probabilities: dict[str, float]
    features: dict[str, float]
    synthetic: bool = False


def warmup_bars(window: int = 50, vol_window: int = 30, baseline_min: int = 250) -> int:
    """Bars needed for the first label: 280 with the defaults (the volatility baseline)."""
    return max(window, _ADX_LOOKBACK, vol_window + baseline_min - 1) + 1


def regime_series(
    df: pd.DataFrame,
    window: int = 50,
    *,
    vol_window: int = 30,
    baseline_window: int = 1000,
    baseline_min: int = 250,
    smooth: int = 5,
    confirm_bars: int = 3,
) -> pd.DataFrame:
    """Per-bar regime, confidence, class probabilities and bars_in_regime; strictly causal.

    The first ``warmup_bars(window, vol_window, baseline_min) - 1`` rows (279 with the
    defaults) have regime ``"unknown"`` and NaN numbers. Row t depends on bars 0..t only.
    """
    out, _ = _classify(df, window, vol_window, baseline_window, baseline_min, smooth, confirm_bars)
    return out


def regime_features(
    df: pd.DataFrame,
    window: int = 50,
    *,
    vol_window: int = 30,
    baseline_window: int = 1000,
    baseline_min: int = 250,
) -> pd.DataFrame:
    """The classifier's per-bar inputs (see module docstring); causal, NaN while warming up."""
    _validate_bars(df)
    _check_params(window, vol_window, baseline_window, baseline_min, 1, 1)
    high = df["high"].to_numpy(dtype=np.float64)
    low = df["low"].to_numpy(dtype=np.float64)
    close = df["close"].to_numpy(dtype=np.float64)
    log_close = np.log(close)
    ret = np.full(len(close), np.nan)
    ret[1:] = np.diff(log_close)
    net = np.full(len(close), np.nan)
    net[window:] = log_close[window:] - log_close[:-window]
    ret_s = pd.Series(ret)
    noise = ret_s.rolling(window).std(ddof=1).to_numpy() * np.sqrt(window)
    path = np.abs(ret_s).rolling(window).sum().to_numpy()
    realised_s = ret_s.rolling(vol_window).std(ddof=1)
    # A low quantile rather than the median: long turbulent stretches inflate it less.
    baseline = (
        realised_s.rolling(baseline_window, min_periods=baseline_min)
        .quantile(BASELINE_QUANTILE)
        .to_numpy()
    )
    realised = realised_s.to_numpy()
    # Flat stretches (zero noise or path) read as no trend; a zero baseline as normal vol.
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = np.where(noise > 0, net / noise, 0.0)
        efficiency = np.where(path > 0, np.abs(net) / path, 0.0)
        vol_ratio = np.where(baseline > 0, realised / baseline, 1.0)
    tstat[np.isnan(net)] = np.nan
    efficiency[np.isnan(net)] = np.nan
    vol_ratio[np.isnan(baseline)] = np.nan
    return pd.DataFrame(
        {
            "trend_tstat": tstat,
            "efficiency_ratio": efficiency,
            "adx": talib.ADX(high, low, close, timeperiod=ADX_PERIOD),
            "vol_ratio": vol_ratio,
            "realised_vol": realised,
        },
        index=df.index,
    )


def market_regime(
    df: pd.DataFrame,
    window: int = 50,
    *,
    vol_window: int = 30,
    baseline_window: int = 1000,
    baseline_min: int = 250,
    smooth: int = 5,
    confirm_bars: int = 3,
) -> RegimeResult:
    """The regime at the last bar of ``df``; ValueError when there are too few bars."""
    _validate_bars(df)
    need = warmup_bars(window, vol_window, baseline_min)
    if len(df) < need:
        raise ValueError(
            f"market_regime needs at least {need} bars to warm up "
            f"(window={window}, vol_window={vol_window}, baseline_min={baseline_min}), "
            f"got {len(df)}"
        )
    out, feats = _classify(
        df, window, vol_window, baseline_window, baseline_min, smooth, confirm_bars
    )
    last = out.iloc[-1]
    f = feats.iloc[-1]
    return RegimeResult(
        symbol=str(df.attrs.get("symbol", "")),
        timestamp=pd.Timestamp(df.index[-1]).to_pydatetime(),
        regime=Regime(last["regime"]),
        confidence=float(np.clip(last["confidence"], 0.0, 1.0)),
        probabilities={
            r.value: float(last[c]) for r, c in zip(REGIMES, PROBABILITY_COLUMNS, strict=True)
        },
        features={
            "trend_tstat": float(f["trend_tstat"]),
            "efficiency_ratio": float(f["efficiency_ratio"]),
            "adx": float(f["adx"]),
            "vol_ratio": float(f["vol_ratio"]),
            "realised_vol": float(f["realised_vol"]),
            "bars_in_regime": float(last["bars_in_regime"]),
            "warmup_bars": float(need),
        },
        synthetic=bool(df.attrs.get("synthetic", False)),
    )


def _classify(
    df: pd.DataFrame,
    window: int,
    vol_window: int,
    baseline_window: int,
    baseline_min: int,
    smooth: int,
    confirm_bars: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels and probabilities plus the features they came from (shared by both APIs)."""
    _check_params(window, vol_window, baseline_window, baseline_min, smooth, confirm_bars)
    feats = regime_features(
        df,
        window,
        vol_window=vol_window,
        baseline_window=baseline_window,
        baseline_min=baseline_min,
    )
    first = warmup_bars(window, vol_window, baseline_min) - 1  # first labelled row
    probs = _probabilities(feats)
    probs[:first] = np.nan
    if smooth > 1:
        # Rows are all NaN (warm-up) or all finite, so the EMA simply starts at ``first``.
        probs = pd.DataFrame(probs).ewm(span=smooth, adjust=False).mean().to_numpy()
    codes = _confirmed_codes(probs, first, confirm_bars)
    valid = np.flatnonzero(codes >= 0)
    confidence = np.full(len(codes), np.nan)
    confidence[valid] = probs[valid, codes[valid]]
    names = np.array([r.value for r in REGIMES] + [UNKNOWN], dtype=object)
    out = pd.DataFrame({"regime": names[codes], "confidence": confidence}, index=df.index)
    for j, col in enumerate(PROBABILITY_COLUMNS):
        out[col] = probs[:, j]
    out["bars_in_regime"] = _bars_in_regime(codes)
    return out, feats


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _probabilities(feats: pd.DataFrame) -> np.ndarray:
    """Class probabilities (columns in REGIMES order) from the gated logistic model."""
    c = _COEF
    t = feats["trend_tstat"].to_numpy()
    er = feats["efficiency_ratio"].to_numpy()
    adx = feats["adx"].to_numpy()
    with np.errstate(divide="ignore"):
        log_vol = np.log(feats["vol_ratio"].to_numpy())  # a dead-flat stretch gives -inf
    p_volatile = _sigmoid(
        c["vol_slope"] * (log_vol - c["vol_center"]) - c["vol_tstat"] * (np.abs(t) - 1.0)
    )
    z = (
        c["trend_intercept"]
        + c["trend_tstat"] * np.abs(t)
        + c["trend_er"] * (er - c["er_center"])
        + c["trend_adx"] * (adx - c["adx_center"])
        + c["trend_vol"] * np.minimum(log_vol, 0.0)
    )
    p_trend = _sigmoid(z)
    p_bull = _sigmoid(c["direction_slope"] * t)
    calm = 1.0 - p_volatile
    return np.column_stack(
        [
            calm * p_trend * p_bull,
            calm * p_trend * (1.0 - p_bull),
            calm * (1.0 - p_trend),
            p_volatile,
        ]
    )


def _confirmed_codes(probs: np.ndarray, warmup: int, confirm_bars: int) -> np.ndarray:
    """Regime code per bar (-1 in warm-up) that only switches after a run of leadership."""
    n = len(probs)
    codes = np.full(n, -1, dtype=np.int64)
    if n <= warmup:
        return codes
    leader = np.argmax(probs[warmup:], axis=1)
    change = np.ones(len(leader), dtype=bool)
    change[1:] = leader[1:] != leader[:-1]
    run_start = np.maximum.accumulate(np.where(change, np.arange(len(leader)), 0))
    run_len = np.arange(len(leader)) - run_start + 1
    confirmed = run_len >= confirm_bars
    confirmed[0] = True  # the first labelled bar starts from the model's view
    last_confirmed = np.maximum.accumulate(np.where(confirmed, np.arange(len(leader)), 0))
    codes[warmup:] = leader[last_confirmed]
    return codes


def _bars_in_regime(codes: np.ndarray) -> np.ndarray:
    """1 on the bar a regime label starts, counting up while it lasts (NaN in warm-up)."""
    n = len(codes)
    idx = np.arange(n)
    change = np.ones(n, dtype=bool)
    change[1:] = codes[1:] != codes[:-1]
    start = np.maximum.accumulate(np.where(change, idx, 0))
    out = (idx - start + 1).astype(np.float64)
    out[codes < 0] = np.nan
    return out


def _check_params(
    window: int,
    vol_window: int,
    baseline_window: int,
    baseline_min: int,
    smooth: int,
    confirm_bars: int,
) -> None:
    for name, value, least in (
        ("window", window, 5),
        ("vol_window", vol_window, 5),
        ("baseline_window", baseline_window, 10),
        ("baseline_min", baseline_min, 1),
        ("smooth", smooth, 1),
        ("confirm_bars", confirm_bars, 1),
    ):
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if baseline_min > baseline_window:
        raise ValueError("baseline_min cannot exceed baseline_window")


def _validate_bars(df: pd.DataFrame) -> None:
    """Refuse frames the classifier would silently misread."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame of bars, got {type(df).__name__}")
    missing = [c for c in ("high", "low", "close") if c not in df.columns]
    if missing:
        raise ValueError(f"bars are missing columns: {', '.join(missing)}")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise ValueError("bars need a DatetimeIndex")
    if len(df) and not (df.index.is_monotonic_increasing and df.index.is_unique):
        raise ValueError("bar timestamps must be sorted and unique")
    values = df[["high", "low", "close"]].to_numpy(dtype=np.float64)
    if not np.isfinite(values).all():
        raise ValueError("bars contain NaN or infinite prices")
    if (values <= 0).any():
        raise ValueError("bars contain zero or negative prices")
    if (df["high"].to_numpy() < df["low"].to_numpy()).any():
        raise ValueError("bars contain high < low")
