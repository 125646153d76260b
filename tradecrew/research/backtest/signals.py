"""The desk's own signals as strategies: ``traditional`` (the indicator components only) and
``hybrid`` (indicators, regime, multi-timeframe and sentiment votes fused with the desk's
weights, gated by session, calendar and correlation as the live desk is).

Every component comes from the live tools' causal per-bar series (``component_scores``,
``regime_series``, ``mtf_series``, ``session_series``, ``blackout``, ``rolling_correlation``);
``fuse_scores`` is ``tradecrew.tools.fusion.fuse``'s score on every bar at once, and a test
holds the two equal. Parameters: ``w_<component>`` overrides a fusion weight, ``threshold``
the entry level (default: the fusion's neutral band), ``short=1`` allows shorts, and (hybrid)
``<section>_<field>`` a component threshold of ``settings.components`` that the decision
reads (``THRESHOLD_PARAMS``): the regime's minimum confidence to vote, the correlation
veto's limit, the calendar blackout's window and size reduction. They reach the same code
the desk runs as the settings would (a copy of the components section with them applied);
``sentiment.threshold`` only labels headlines, so it is not a parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from tradecrew.instruments import find_instrument
from tradecrew.models import AssetClass, Timeframe
from tradecrew.research.backtest.strategies import StrategyError, float_param, reject_unknown

if TYPE_CHECKING:
    from tradecrew.config import Components

INDICATOR_COMPONENTS = ("trend", "momentum", "volume")
HYBRID_COMPONENTS = (*INDICATOR_COMPONENTS, "regime", "mtf", "sentiment")
_SESSION_CLASSES = (AssetClass.FOREX, AssetClass.METAL, AssetClass.CRYPTO)
#: Hybrid parameter -> (settings.components section, field): the thresholds it acts on.
THRESHOLD_PARAMS: dict[str, tuple[str, str]] = {
    "regime_min_confidence": ("regime", "min_confidence"),
    "correlation_max_correlation": ("correlation", "max_correlation"),
    "calendar_minutes_before": ("calendar", "minutes_before"),
    "calendar_minutes_after": ("calendar", "minutes_after"),
    "calendar_risk_reduction": ("calendar", "risk_reduction"),
}


def fuse_scores(scores: pd.DataFrame, weights: Mapping[str, float]) -> np.ndarray:
    """``fuse``'s score per row: weights renormalised over the components that take part
    (a weight above zero and a finite score), the weighted sum clipped to [-1, 1]."""
    names = [c for c in scores.columns if weights.get(c, 0.0) > 0]
    if not names:
        return np.zeros(len(scores))
    s = scores[names].to_numpy(dtype=np.float64)
    w = np.array([weights[c] for c in names], dtype=np.float64)
    part = np.isfinite(s)
    wsum = (part * w).sum(axis=1)
    num = (np.where(part, s, 0.0) * w).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(wsum > 0, num / wsum, 0.0)
    return np.clip(out, -1.0, 1.0)


def bar_minutes(index: pd.DatetimeIndex) -> float:
    """The bars' timeframe in minutes: the median spacing."""
    if len(index) < 2:
        return float(Timeframe.D1.minutes)
    # In nanoseconds whatever the index's own unit (pandas 3 builds microsecond indexes).
    return float(np.median(np.diff(index.as_unit("ns").asi8)) / 60e9)


class _Fused:
    name = "fused"
    components: tuple[str, ...] = INDICATOR_COMPONENTS
    thresholds: tuple[str, ...] = ()

    def __init__(self, peers: Mapping[str, pd.DataFrame] | None = None) -> None:
        self.peers = dict(peers or {})
        self.notes: list[str] = []

    def allowed(self) -> set[str]:
        return {*(f"w_{c}" for c in self.components), "threshold", "short", *self.thresholds}

    def settings_components(self, params: Mapping[str, Any]) -> Components:
        """``settings.components`` with the threshold parameters applied, validated by the
        settings' own bounds."""
        from tradecrew.config import get_settings

        comps = get_settings().components
        fields: dict[str, dict[str, Any]] = {}
        for key in self.thresholds:
            if key in params:
                section, field = THRESHOLD_PARAMS[key]
                fields.setdefault(section, {})[field] = params[key]
        if not fields:
            return comps
        data = comps.model_dump()
        for section, values in fields.items():
            data[section].update(values)
        try:
            return type(comps).model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = "_".join(str(part) for part in err["loc"][:2])
            raise StrategyError(f"parameter {key}: {err['msg']}") from None

    def weights(self, params: Mapping[str, Any]) -> dict[str, float]:
        from tradecrew.config import get_settings

        base = get_settings().fusion.weights
        return {
            c: float_param(params, f"w_{c}", float(base.get(c, 0.0)), 0.0, 1e6)
            for c in self.components
        }

    def scores(self, bars: pd.DataFrame, comps: Components) -> pd.DataFrame:
        """Per-bar component votes (NaN: no vote), from the live tools."""
        from tradecrew.tools.indicators import component_scores

        cs = component_scores(bars)
        return pd.DataFrame({c: cs[c] for c in INDICATOR_COMPONENTS}, index=bars.index)

    def gates(
        self, bars: pd.DataFrame, symbol: str | None, comps: Components
    ) -> tuple[np.ndarray, np.ndarray]:
        """(size factor per bar, bars where no new position may be opened)."""
        n = len(bars)
        return np.ones(n), np.zeros(n, dtype=bool)

    def levels(self, bars: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
        """Scores, fused score and target per bar: everything the report and replay show."""
        from tradecrew.config import get_settings

        reject_unknown(self.name, params, self.allowed())
        weights = self.weights(params)
        threshold = float_param(params, "threshold", get_settings().fusion.neutral_band, 0, 1)
        short = float_param(params, "short", 0.0, 0.0, 1.0) >= 0.5
        comps = self.settings_components(params)
        frame = self.scores(bars, comps)
        score = fuse_scores(frame, weights)
        direction = np.where((score != 0) & (np.abs(score) >= threshold), np.sign(score), 0.0)
        if not short:
            direction = np.maximum(direction, 0.0)
        factor, blocked = self.gates(bars, bars.attrs.get("symbol"), comps)
        target = _gated(direction * factor, blocked)
        self.notes = self._notes(frame, weights, blocked, factor)
        frame["score"] = score
        frame["factor"] = factor
        frame["blocked"] = blocked
        frame["target"] = target
        return frame

    def target(self, bars: pd.DataFrame, params: Mapping[str, Any]) -> pd.Series:
        return self.levels(bars, params)["target"]

    def _notes(
        self,
        frame: pd.DataFrame,
        weights: Mapping[str, float],
        blocked: np.ndarray,
        factor: np.ndarray,
    ) -> list[str]:
        """Which votes took part and which gates acted, for the result's notes."""
        voted = {c: float(np.isfinite(frame[c].to_numpy()).mean()) for c in self.components}
        parts = [f"{c} {share:.0%}" for c, share in voted.items() if weights.get(c, 0) > 0]
        notes = [f"{self.name}: share of bars each weighted vote took part in: " + ", ".join(parts)]
        silent = [c for c, share in voted.items() if share == 0 and weights.get(c, 0) > 0]
        if silent:
            notes.append(
                f"{self.name}: no vote from {', '.join(silent)} on these bars "
                "(sentiment needs a 'sentiment' column; mtf needs H1 or finer bars)"
            )
        if blocked.any():
            notes.append(
                f"{self.name}: no new risk on {int(blocked.sum())} bars (market "
                "closed or correlation veto)"
            )
        if (factor < 1).any():
            notes.append(
                f"{self.name}: size reduced on {int((factor < 1).sum())} bars by "
                "economic-event blackouts from the sample calendar (synthetic)"
            )
        return notes


def _gated(target: np.ndarray, blocked: np.ndarray) -> np.ndarray:
    """Where the desk may not open or add (market closed, correlation veto) it keeps what it
    held, except that it may always reduce; elsewhere the target stands."""
    if not blocked.any():
        return target
    out = target.copy()
    held = 0.0
    for i in range(len(out)):
        if blocked[i] and abs(out[i]) >= abs(held):
            out[i] = held
        held = out[i]
    return out


class Traditional(_Fused):
    """The indicator components (trend, momentum, volume) fused with the desk's weights."""

    name = "traditional"


class Hybrid(_Fused):
    """The desk's fused signal: indicators, regime, multi-timeframe and sentiment votes, with
    the session, calendar and correlation gates of the live desk."""

    name = "hybrid"
    components = HYBRID_COMPONENTS
    thresholds = tuple(THRESHOLD_PARAMS)

    def scores(self, bars: pd.DataFrame, comps: Components) -> pd.DataFrame:
        from tradecrew.config import get_settings
        from tradecrew.tools.mtf import mtf_series
        from tradecrew.tools.regime import regime_series

        settings = get_settings()
        frame = super().scores(bars, comps)
        nan = np.full(len(bars), np.nan)
        regime = nan
        if comps.regime.enabled:
            rs = regime_series(bars)
            vote = (rs["p_trending_bull"] - rs["p_trending_bear"]).to_numpy(dtype=np.float64)
            ok = rs["confidence"].to_numpy(dtype=np.float64) >= comps.regime.min_confidence
            regime = np.where(ok, vote, np.nan)
        frame["regime"] = regime
        frame["mtf"] = nan
        minutes = bar_minutes(pd.DatetimeIndex(bars.index))
        if minutes <= Timeframe.H1.minutes:
            base = Timeframe.parse(f"M{round(minutes)}") if minutes < 60 else Timeframe.H1
            frame["mtf"] = mtf_series(bars, settings.fusion.timeframe_weights, base=base)
        has_sentiment = comps.sentiment.enabled and "sentiment" in bars.columns
        frame["sentiment"] = bars["sentiment"].to_numpy(dtype=np.float64) if has_sentiment else nan
        return frame

    def gates(
        self, bars: pd.DataFrame, symbol: str | None, comps: Components
    ) -> tuple[np.ndarray, np.ndarray]:
        index = pd.DatetimeIndex(bars.index)
        factor, blocked = super().gates(bars, symbol, comps)
        inst = find_instrument(symbol) if symbol else None
        minutes = bar_minutes(index)
        close_times = index + pd.Timedelta(minutes=minutes)
        if comps.session.enabled and inst is not None and inst.asset_class in _SESSION_CLASSES:
            from tradecrew.tools.sessions import session_series

            if minutes < Timeframe.D1.minutes and inst.asset_class is not AssetClass.CRYPTO:
                blocked = blocked | ~session_series(close_times)["market_open"].to_numpy()
        if comps.calendar.enabled and symbol:
            factor = factor * _calendar_factor(symbol, close_times, comps.calendar)
        if comps.correlation.enabled and self.peers:
            blocked = blocked | _correlation_veto(bars, self.peers, comps.correlation)
        return factor, blocked


def _calendar_factor(symbol: str, close_times: pd.DatetimeIndex, cfg: Any) -> np.ndarray:
    """The blackout tool's size factor at each bar's close (1 outside every event window)."""
    from tradecrew.data.calendar_sample import sample_events
    from tradecrew.tools.calendar import blackout

    factor = np.ones(len(close_times))
    # The rule-based sample calendar (payrolls on the first Friday...) over the bars' years:
    # generated, not real release dates, and the run's notes say so.
    events = sample_events(close_times[0].year, close_times[-1].year)
    if not events:
        return factor
    utc = close_times.tz_convert("UTC").tz_localize(None)
    times = pd.DatetimeIndex([e.time for e in events]).tz_convert("UTC").tz_localize(None)
    times = np.sort(times.to_numpy(dtype="datetime64[ns]"))
    ns = utc.to_numpy(dtype="datetime64[ns]")
    before = np.timedelta64(cfg.minutes_before, "m")
    after = np.timedelta64(cfg.minutes_after, "m")
    lo = np.searchsorted(times, ns - after, side="left")
    hi = np.searchsorted(times, ns + before, side="right")
    for i in np.flatnonzero(hi > lo):
        check = blackout(
            symbol,
            close_times[i].to_pydatetime(),
            events,
            minutes_before=cfg.minutes_before,
            minutes_after=cfg.minutes_after,
            risk_reduction=cfg.risk_reduction,
            action=cfg.action,
        )
        factor[i] = check.risk_reduction
    return factor


def _correlation_veto(
    bars: pd.DataFrame, peers: Mapping[str, pd.DataFrame], cfg: Any
) -> np.ndarray:
    """Bars where the correlation with any peer is above the limit: the gate vetoes there."""
    from tradecrew.tools.correlation import rolling_correlation

    veto = np.zeros(len(bars), dtype=bool)
    for peer in peers.values():
        corr = rolling_correlation(bars, peer, cfg.window).reindex(bars.index)
        veto |= np.abs(corr.to_numpy(dtype=np.float64)) > cfg.max_correlation
    return veto
