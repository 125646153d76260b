"""The full analysis of one symbol: every enabled analyzer on the same bars, then the fusion.

Pure given its frames: the caller loads bars (cut at ``asof``) and peers; nothing here reads
a provider, so the same call on a prefix of the data gives what it gave at that time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.data.calendar_events import Calendar, EconomicEvent
from tradecrew.data.calendar_file import CalendarFile
from tradecrew.data.validate import Gap, find_gaps
from tradecrew.errors import Unavailable
from tradecrew.instruments import find_instrument
from tradecrew.models import AssetClass, Regime, Signal, Timeframe
from tradecrew.tools.calendar import BlackoutCheck, blackout
from tradecrew.tools.correlation import CorrelationReport, correlation_check
from tradecrew.tools.fusion import ComponentInput, fuse
from tradecrew.tools.indicators import IndicatorSnapshot, component_scores, indicators
from tradecrew.tools.mtf import MTFResult, multi_timeframe
from tradecrew.tools.regime import RegimeResult, market_regime, warmup_bars
from tradecrew.tools.sentiment import SentimentSummary, analyze_configured, summarize
from tradecrew.tools.sentiment_aggregate import SentimentAggregate
from tradecrew.tools.sessions import SessionActivity, SessionState, active_sessions
from tradecrew.tools.sessions import session_activity as _session_activity
from tradecrew.tools.tool_settings import AnalysisSettings

T = TypeVar("T")

_SESSION_CLASSES = (AssetClass.FOREX, AssetClass.METAL, AssetClass.CRYPTO)
_MTF_MAX_MINUTES = Timeframe.H1.minutes


class AnalysisReport(BaseModel):
    """Every analyzer's view of one symbol at one bar, and the fused signal."""

    model_config = ConfigDict(extra="forbid")

    symbol: str
    timeframe: str
    source: str
    synthetic: bool = Field(description="true when the bars are generated, not market data")
    timestamp: datetime = Field(description="open time of the last bar analysed")
    bars: int
    last_price: float
    indicators: IndicatorSnapshot
    regime: RegimeResult | None = None
    correlation: CorrelationReport | None = None
    session: SessionState | None = None
    session_activity: SessionActivity | None = None
    blackout: BlackoutCheck | None = None
    multi_timeframe: MTFResult | None = None
    sentiment: SentimentSummary | None = None
    signal: Signal
    data_gaps: list[Gap] = Field(
        default_factory=list, description="missing stretches in the bars (holidays excepted)"
    )
    notes: list[str] = Field(default_factory=list, description="what was skipped and why")


def _attempt(notes: list[str], what: str, func: Callable[[], T]) -> T | None:
    """Run one optional analyzer; a failure becomes a note, never a lost analysis."""
    try:
        return func()
    except ValueError as exc:
        notes.append(f"{what}: {exc}")
        return None


def _calendar_of(
    events: Sequence[EconomicEvent] | Calendar | Callable[[], Calendar] | None,
    configured: Path | None,
) -> Sequence[EconomicEvent] | Calendar:
    """The calendar to check; a loader's outage (a feed down) is a ValueError, so it becomes
    a note like any analyzer's failure. None: the configured file, read now (a caller that
    analyses often passes its own ``CalendarFile.calendar``)."""
    if events is None:
        return CalendarFile(configured).calendar().events
    if not callable(events):
        return events
    try:
        return events()
    except (Unavailable, OSError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None


def _component(name: str, score: float, confidence: float, detail: str) -> ComponentInput | None:
    if not (math.isfinite(score) and math.isfinite(confidence)):
        return None
    return ComponentInput(
        name=name,
        score=max(-1.0, min(1.0, score)),
        confidence=max(0.0, min(1.0, confidence)),
        detail=detail,
    )


def _regime_component(result: RegimeResult) -> ComponentInput | None:
    p = result.probabilities
    score = p.get(Regime.TRENDING_BULL.value, 0.0) - p.get(Regime.TRENDING_BEAR.value, 0.0)
    return _component("regime", score, result.confidence, f"{result.regime.value}")


def _indicator_components(bars: pd.DataFrame) -> list[ComponentInput]:
    scores = component_scores(bars).iloc[-1]
    out = []
    for name in ("trend", "momentum", "volume"):
        comp = _component(
            name, float(scores[name]), float(scores[f"{name}_confidence"]), "indicators"
        )
        if comp is not None:
            out.append(comp)
    return out


def bar_close_time(timestamp: datetime, timeframe: Timeframe) -> datetime:
    """When a bar that opened at ``timestamp`` closes: the moment its data became known."""
    return timestamp + timedelta(minutes=timeframe.minutes)


def analyze_frames(
    symbol: str,
    bars: pd.DataFrame,
    *,
    timeframe: Timeframe,
    source: str = "sample",
    peers: Mapping[str, pd.DataFrame] | None = None,
    headlines: Sequence[str] | None = None,
    events: Sequence[EconomicEvent] | Calendar | Callable[[], Calendar] | None = None,
    settings: AnalysisSettings,
    news_sentiment: SentimentAggregate | None = None,
) -> AnalysisReport:
    """Run every enabled analyzer on ``bars`` (the last row is "now") and fuse their votes.
    ``events``: the calendar, or a loader of one (a failure becomes a note); None reads the
    calendar file setting (else the packaged sample). ``settings``: the caller's (tools never
    read the settings themselves)."""
    comps = settings.components
    notes: list[str] = []
    snapshot = indicators(bars)
    votes: list[ComponentInput] = _indicator_components(bars)
    vetoes: list[str] = []
    risk_reduction = 1.0
    last_ts = pd.Timestamp(bars.index[-1]).to_pydatetime()
    now = bar_close_time(last_ts, timeframe)

    regime = None
    if comps.regime.enabled:
        if len(bars) >= warmup_bars():
            regime = _attempt(notes, "regime", lambda: market_regime(bars))
        else:
            notes.append(f"regime: needs {warmup_bars()} bars, have {len(bars)}")
        if regime is not None:
            vote = _regime_component(regime)
            if vote is not None and regime.confidence >= comps.regime.min_confidence:
                votes.append(vote)
            elif vote is not None:
                notes.append(
                    f"regime: confidence {regime.confidence:.2f} below "
                    f"{comps.regime.min_confidence:.2f}, not voting"
                )

    correlation = None
    if comps.correlation.enabled and peers:
        correlation = _attempt(
            notes,
            "correlation",
            lambda: correlation_check(
                bars,
                peers,
                window=comps.correlation.window,
                max_correlation=comps.correlation.max_correlation,
            ),
        )
        if correlation is not None and correlation.breaches:
            vetoes.append(
                f"correlation above {comps.correlation.max_correlation:.2f} with "
                + ", ".join(correlation.breaches)
            )

    instrument = find_instrument(symbol)
    session = activity = None
    if (
        comps.session.enabled
        and instrument is not None
        and instrument.asset_class in (_SESSION_CLASSES)
    ):
        session = active_sessions(now)
        if timeframe.minutes <= _MTF_MAX_MINUTES:
            activity = _attempt(notes, "session activity", lambda: _session_activity(bars))

    check = None
    if comps.calendar.enabled:
        check = _attempt(
            notes,
            "calendar",
            lambda: blackout(
                symbol,
                now,
                _calendar_of(events, comps.calendar.file),
                minutes_before=comps.calendar.minutes_before,
                minutes_after=comps.calendar.minutes_after,
                risk_reduction=comps.calendar.risk_reduction,
                action=comps.calendar.action,
            ),
        )
        if check is not None and check.in_blackout:
            risk_reduction = check.risk_reduction

    mtf = None
    if timeframe.minutes <= _MTF_MAX_MINUTES:
        mtf = _attempt(
            notes,
            "multi-timeframe",
            lambda: multi_timeframe(bars, settings.fusion.timeframe_weights, base=timeframe),
        )
        if mtf is not None and mtf.fused_score is not None:
            vote = _component("mtf", mtf.fused_score, mtf.agreement, "multi-timeframe")
            if vote is not None:
                votes.append(vote)
    else:
        notes.append("multi-timeframe: needs bars of H1 or finer")

    sentiment = None
    if comps.sentiment.enabled and headlines:
        sentiment = summarize(analyze_configured(list(headlines), settings))
    if comps.sentiment.enabled and news_sentiment is not None and news_sentiment.n:
        # The stored news over time (deduplicated, recency- and source-weighted) outvotes a
        # plain mean of the latest headlines; a thin aggregate votes with less confidence.
        agg = news_sentiment
        sure = agg.confidence * min(1.0, agg.effective_n / 3.0)
        detail = f"stored news: {agg.n} stories, effective n {agg.effective_n:.1f}"
        vote = _component("sentiment", agg.score, sure, detail)
        if vote is not None:
            votes.append(vote)
    elif sentiment is not None:
        vote = _component("sentiment", sentiment.mean_score, sentiment.mean_confidence, "headlines")
        if vote is not None:
            votes.append(vote)

    weekends = instrument is None or instrument.asset_class is not AssetClass.CRYPTO
    gaps = find_gaps(bars, timeframe, skip_weekends=weekends)
    if gaps:
        worst = max(gaps, key=lambda g: g.missing_bars)
        notes.append(
            f"data: {len(gaps)} gap(s) in the bars, the largest {worst.missing_bars} bars "
            f"from {worst.start:%Y-%m-%d %H:%M} to {worst.end:%Y-%m-%d %H:%M}"
        )

    signal = fuse(
        symbol,
        votes,
        weights=settings.fusion.weights,
        neutral_band=settings.fusion.neutral_band,
        vetoes=vetoes,
        risk_reduction=risk_reduction,
        timestamp=last_ts,
    )
    return AnalysisReport(
        symbol=symbol,
        timeframe=timeframe.value,
        source=source,
        synthetic=bool(bars.attrs.get("synthetic", False)),
        timestamp=last_ts,
        bars=len(bars),
        last_price=float(bars["close"].iloc[-1]),
        indicators=snapshot,
        regime=regime,
        correlation=correlation,
        session=session,
        session_activity=activity,
        blackout=check,
        multi_timeframe=mtf,
        sentiment=sentiment,
        signal=signal,
        data_gaps=gaps,
        notes=notes,
    )
