"""The analyzers' settings: each component on/off with its thresholds, and the fusion weights."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .base import Section
from .retired import drop_retired

# The longest correlation window; the risk gate reads twice as many daily bars of each symbol
# (desk/context.correlation_bars), so a full window of shared days exists for any two markets.
MAX_CORRELATION_WINDOW = 200


class RegimeComponent(Section):
    enabled: bool = True
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)


class SentimentComponent(Section):
    enabled: bool = True
    backend: Literal["linear", "lexicon", "finbert", "llm"] = "linear"
    model_path: str | None = Field(None, description="local FinBERT directory or hub id in cache")
    threshold: float = Field(0.1, ge=0.0, le=1.0, description="|score| below this is neutral")


class CorrelationComponent(Section):
    enabled: bool = True
    max_correlation: float = Field(0.8, ge=0.0, le=1.0)
    window: int = Field(60, ge=5, le=MAX_CORRELATION_WINDOW)
    peers: list[str] = Field(default_factory=lambda: ["DXY", "XAUUSD", "SPX", "EURUSD"])


class SessionComponent(Section):
    enabled: bool = True

    @model_validator(mode="before")
    @classmethod
    def _retired(cls, data: Any) -> Any:
        return drop_retired(
            data, {"min_activity": "no decision ever read it"}, "components.session"
        )


class CalendarComponent(Section):
    enabled: bool = True
    file: Path | None = None
    risk_reduction: float = Field(0.5, ge=0.0, le=1.0)
    minutes_before: int = Field(60, ge=0)
    minutes_after: int = Field(30, ge=0)
    action: Literal["reduce", "block"] = "reduce"
    # The packaged sample calendar is generated, not real release dates: with a live
    # account the gate ignores it for blackouts unless the user opts in here.
    sample_with_live: bool = False
    # Where events come from: the packaged sample (offline default), the weekly forex
    # calendar JSON feed, or OpenBB's economic calendar (the openbb extra).
    source: Literal["sample", "forex_feed", "openbb"] = "sample"
    feed_url: str = "https://nfs.faireconomy.media/ff_calendar_thisweek.json"
    feed_ttl_seconds: float = Field(
        3600.0, ge=0, description="a cached feed younger than this is reused"
    )
    openbb_provider: str | None = Field(
        None, description="OpenBB provider name (its default if unset)"
    )


class AutoMLComponent(Section):
    enabled: bool = False
    n_trials: int = Field(50, ge=1)
    every_n_trades: int = Field(50, ge=1, description="closed trades between tuning runs")
    timeout_seconds: float = Field(300.0, gt=0, description="a tuning run's budget")


class ABComponent(Section):
    """Champion/challenger monitoring of the live configuration (``tradecrew ab``)."""

    enabled: bool = Field(
        True, description="the monitor may act; off, it records and reports a breach only"
    )
    sharpe_fraction: float = Field(
        0.95,
        gt=0.0,
        le=1.0,
        description="act when the live Sharpe falls below this fraction of the baseline's",
    )
    min_observations: int = Field(20, ge=2, description="bars before the monitor may act")
    cost: float = Field(
        0.0002, ge=0.0, le=0.05, description="cost per unit of position change (fraction)"
    )
    bootstrap: int = Field(1000, ge=100, le=100_000, description="resamples of the CIs")


class Components(Section):
    """The seed's ``hybrid_ai.components``: each analyzer on/off with its thresholds."""

    regime: RegimeComponent = Field(default_factory=RegimeComponent)
    sentiment: SentimentComponent = Field(default_factory=SentimentComponent)
    correlation: CorrelationComponent = Field(default_factory=CorrelationComponent)
    session: SessionComponent = Field(default_factory=SessionComponent)
    calendar: CalendarComponent = Field(default_factory=CalendarComponent)
    automl: AutoMLComponent = Field(default_factory=AutoMLComponent)
    ab: ABComponent = Field(default_factory=ABComponent)


_Weight = Annotated[float, Field(ge=0.0)]


class FusionSettings(Section):
    """Weights of the signal fusion; the optimizer tunes these. Each is finite and >= 0
    (fusion normalises them); they shape the proposal's confidence, which the risk gate's
    min_signal_confidence floor reads as the proposer's own claim (see the README)."""

    weights: dict[str, _Weight] = Field(
        default_factory=lambda: {
            "trend": 0.25,
            "momentum": 0.20,
            "regime": 0.20,
            "volume": 0.10,
            "sentiment": 0.10,
            "mtf": 0.15,
        }
    )
    timeframe_weights: dict[str, _Weight] = Field(
        default_factory=lambda: {"M5": 0.1, "M15": 0.2, "H1": 0.3, "H4": 0.4}
    )
    neutral_band: float = Field(0.1, ge=0.0, le=1.0, description="|score| below this is flat")
