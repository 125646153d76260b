"""Factor analysis in the spirit of Qlib: does an indicator's value today say anything about
the return that follows?

For each factor (every column of the desk's ``indicator_frame``, every fusion component's
per-bar score, any extra series given) and each horizon h, against the forward return
``close[t+h] / close[t] - 1``:

* ``ic``       Pearson correlation of the factor at bar t with the forward return;
* ``rank_ic``  Spearman correlation (the Pearson correlation of ranks), robust to outliers;
* ``*_tstat``  r * sqrt((n_eff - 2) / (1 - r^2)) with ``n_eff = n / h``: forward returns over
               h bars overlap, so consecutive observations are not independent and the plain
               t-stat would overstate the evidence h-fold;
* the same per market regime (labelled causally by ``regime_series``) and the decay of the
  IC across horizons.

One symbol's IC is a time-series correlation (Qlib's is cross-sectional, per date). Factor
values at bar t use bars 0..t only; only the forward return looks ahead, as it must.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy.stats import rankdata

from tradecrew.tools.indicators import component_scores, indicator_frame
from tradecrew.tools.regime import UNKNOWN, regime_series, warmup_bars

__all__ = [
    "FactorReport",
    "FactorStat",
    "HorizonStat",
    "factor_frame",
    "factor_report",
    "forward_returns",
    "information_coefficient",
]

DEFAULT_HORIZONS = (1, 5, 20)
MIN_OBSERVATIONS = 30  # fewer pairs than this give no IC (null), per regime too
COMPONENTS = ("trend", "momentum", "volume", "regime")


class HorizonStat(BaseModel):
    """IC and rank IC of one factor at one horizon (null where too few observations)."""

    model_config = ConfigDict(extra="forbid")

    horizon: int
    n: int
    ic: float | None
    rank_ic: float | None
    ic_tstat: float | None
    rank_ic_tstat: float | None


class FactorStat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str = Field(description="indicator | component | custom")
    horizons: list[HorizonStat]
    by_regime: dict[str, list[HorizonStat]]
    decay: list[float | None] = Field(
        description="IC at each horizon divided by the IC at the first (1.0 first)"
    )


class FactorReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str
    timeframe: str
    source: str
    synthetic: bool
    bars: int
    start: str
    end: str
    horizons: list[int]
    forward_return: str = "close[t+h] / close[t] - 1"
    regimes: dict[str, int] = Field(description="bars per causal regime label")
    factors: list[FactorStat]


def forward_returns(close: pd.Series, horizon: int) -> pd.Series:
    """close[t+h] / close[t] - 1 at bar t (NaN for the last h bars): the only look-ahead."""
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    return close.shift(-horizon) / close - 1.0


def _tstat(r: float, n_eff: float) -> float | None:
    if n_eff <= 2:
        return None
    r = float(np.clip(r, -1.0 + 1e-12, 1.0 - 1e-12))  # a perfect fit stays finite in JSON
    return float(r * np.sqrt((n_eff - 2.0) / (1.0 - r * r)))


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    xd, yd = x - x.mean(), y - y.mean()
    den = float(np.sqrt((xd * xd).sum() * (yd * yd).sum()))
    if den == 0.0 or not np.isfinite(den):
        return None  # a constant factor (or return) has no correlation to report
    return float(np.clip((xd * yd).sum() / den, -1.0, 1.0))


def information_coefficient(
    factor: np.ndarray | pd.Series, fwd: np.ndarray | pd.Series, horizon: int = 1
) -> HorizonStat:
    """IC, rank IC and their overlap-corrected t-stats over the bars where both are known."""
    x = np.asarray(factor, dtype=np.float64)
    y = np.asarray(fwd, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    n = int(x.size)
    if n < MIN_OBSERVATIONS:
        return HorizonStat(horizon=horizon, n=n, ic=None, rank_ic=None, ic_tstat=None,
                           rank_ic_tstat=None)  # fmt: skip
    ic = _pearson(x, y)
    ric = _pearson(rankdata(x), rankdata(y))
    n_eff = n / horizon
    return HorizonStat(
        horizon=horizon,
        n=n,
        ic=ic,
        rank_ic=ric,
        ic_tstat=None if ic is None else _tstat(ic, n_eff),
        rank_ic_tstat=None if ric is None else _tstat(ric, n_eff),
    )


def _regimes(bars: pd.DataFrame) -> pd.DataFrame | None:
    return regime_series(bars) if len(bars) >= warmup_bars() else None


def factor_frame(
    bars: pd.DataFrame, regimes: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every built-in factor per bar (causal) and each one's kind; ``regimes`` is
    ``regime_series(bars)`` when the caller already has it."""
    regimes = _regimes(bars) if regimes is None else regimes
    ind = indicator_frame(bars)
    comp = component_scores(bars)
    cols: dict[str, np.ndarray] = {c: ind[c].to_numpy() for c in ind.columns}
    kinds = dict.fromkeys(cols, "indicator")
    for name in COMPONENTS[:3]:
        cols[f"{name}_score"] = comp[name].to_numpy()
    if regimes is not None:
        # The regime component's vote, as the fusion reads it: p(bull) - p(bear).
        cols["regime_score"] = (regimes["p_trending_bull"] - regimes["p_trending_bear"]).to_numpy()
    kinds.update({c: "component" for c in cols if c.endswith("_score")})
    return pd.DataFrame(cols, index=bars.index), kinds


def _stats(
    x: np.ndarray, fwds: Mapping[int, np.ndarray], mask: np.ndarray | None = None
) -> list[HorizonStat]:
    out = []
    for h, y in fwds.items():
        if mask is None:
            out.append(information_coefficient(x, y, h))
        else:
            out.append(information_coefficient(x[mask], y[mask], h))
    return out


def _decay(stats: Sequence[HorizonStat]) -> list[float | None]:
    first = stats[0].ic if stats else None
    if not first:
        return [None for _ in stats]
    return [None if s.ic is None else s.ic / first for s in stats]


def factor_report(
    bars: pd.DataFrame,
    *,
    horizons: Sequence[int] = DEFAULT_HORIZONS,
    extra: Mapping[str, pd.Series | np.ndarray] | None = None,
    symbol: str | None = None,
    timeframe: str = "",
    source: str = "",
) -> FactorReport:
    """IC and rank IC of every factor against forward returns, per horizon and regime."""
    hs = sorted({int(h) for h in horizons})
    if not hs or hs[0] < 1:
        raise ValueError("horizons must be whole numbers of bars, at least 1")
    if hs[-1] >= len(bars) - MIN_OBSERVATIONS:
        raise ValueError(f"horizon {hs[-1]} leaves too few bars ({len(bars)}) to measure")
    reg = _regimes(bars)
    frame, kinds = factor_frame(bars, reg)
    for name, values in (extra or {}).items():
        arr = np.asarray(values, dtype=np.float64)
        if arr.shape != (len(bars),):
            raise ValueError(f"factor {name!r} has {arr.size} values for {len(bars)} bars")
        frame[name] = arr
        kinds[name] = "custom"
    close = bars["close"].astype(np.float64)
    fwds = {h: forward_returns(close, h).to_numpy() for h in hs}
    labels = (
        reg["regime"].to_numpy() if reg is not None else np.full(len(bars), UNKNOWN, dtype=object)
    )
    names, counts = np.unique(labels.astype(str), return_counts=True)
    regimes = {str(k): int(v) for k, v in zip(names, counts, strict=True)}
    factors = []
    for name in frame.columns:
        x = frame[name].to_numpy(dtype=np.float64)
        overall = _stats(x, fwds)
        by_regime = {r: _stats(x, fwds, labels == r) for r in regimes if r != UNKNOWN}
        factors.append(
            FactorStat(
                name=name,
                kind=kinds[name],
                horizons=overall,
                by_regime=by_regime,
                decay=_decay(overall),
            )
        )
    idx = bars.index
    return FactorReport(
        symbol=symbol or str(bars.attrs.get("symbol", "")),
        timeframe=timeframe,
        source=source or str(bars.attrs.get("source", "")),
        synthetic=bool(bars.attrs.get("synthetic", False)),
        bars=len(bars),
        start=str(idx[0]),
        end=str(idx[-1]),
        horizons=hs,
        regimes=regimes,
        factors=factors,
    )
