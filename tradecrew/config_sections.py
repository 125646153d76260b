"""The sections of the settings: one pydantic model per ``crew.yaml``/env section.

Each model forbids unknown keys and non-finite numbers and validates its own limits;
``tradecrew.config.Settings`` assembles them and decides where their values come from.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from tradecrew.instruments import normalize_symbol

__all__ = [
    "MAX_CORRELATION_WINDOW",
    "AutoMLComponent",
    "BrokerSettings",
    "CalendarComponent",
    "Components",
    "CorrelationComponent",
    "DataSettings",
    "FusionSettings",
    "LLMSettings",
    "McpSettings",
    "NewsSettings",
    "QuoteAgeLimits",
    "RegimeComponent",
    "RiskSettings",
    "SentimentComponent",
    "SessionComponent",
]

# The longest correlation window; the risk gate reads twice as many daily bars of each symbol
# (desk/context.correlation_bars), so a full window of shared days exists for any two markets.
MAX_CORRELATION_WINDOW = 200


class _Section(BaseModel):
    # A NaN limit compares false with everything, so it would pass every check; no setting
    # has a use for NaN or infinity.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RegimeComponent(_Section):
    enabled: bool = True
    min_confidence: float = Field(0.5, ge=0.0, le=1.0)


class SentimentComponent(_Section):
    enabled: bool = True
    backend: Literal["lexicon", "finbert", "llm"] = "lexicon"
    model_path: str | None = Field(None, description="local FinBERT directory or hub id in cache")
    threshold: float = Field(0.1, ge=0.0, le=1.0, description="|score| below this is neutral")


class CorrelationComponent(_Section):
    enabled: bool = True
    max_correlation: float = Field(0.8, ge=0.0, le=1.0)
    window: int = Field(60, ge=5, le=MAX_CORRELATION_WINDOW)
    peers: list[str] = Field(default_factory=lambda: ["DXY", "XAUUSD", "SPX", "EURUSD"])


class SessionComponent(_Section):
    enabled: bool = True
    min_activity: float = Field(0.0, ge=0.0, le=1.0)


class CalendarComponent(_Section):
    enabled: bool = True
    file: Path | None = None
    risk_reduction: float = Field(0.5, ge=0.0, le=1.0)
    minutes_before: int = Field(60, ge=0)
    minutes_after: int = Field(30, ge=0)
    action: Literal["reduce", "block"] = "reduce"
    # The packaged sample calendar is generated, not real release dates: with a live
    # account the gate ignores it for blackouts unless the user opts in here.
    sample_with_live: bool = False


class AutoMLComponent(_Section):
    enabled: bool = False
    n_trials: int = Field(50, ge=1)


class Components(_Section):
    """The seed's ``hybrid_ai.components``: each analyzer on/off with its thresholds."""

    regime: RegimeComponent = Field(default_factory=RegimeComponent)
    sentiment: SentimentComponent = Field(default_factory=SentimentComponent)
    correlation: CorrelationComponent = Field(default_factory=CorrelationComponent)
    session: SessionComponent = Field(default_factory=SessionComponent)
    calendar: CalendarComponent = Field(default_factory=CalendarComponent)
    automl: AutoMLComponent = Field(default_factory=AutoMLComponent)


_Weight = Annotated[float, Field(ge=0.0)]


class FusionSettings(_Section):
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


class QuoteAgeLimits(_Section):
    """The oldest quote (seconds) a live broker or data source may give while the instrument's
    market is open; 0 turns the check off for that class. Quotes from replayed data (sample,
    csv) have no live clock and are exempt, which the risk check's reason says."""

    forex: float = Field(30.0, ge=0)
    metal: float = Field(30.0, ge=0)
    crypto: float = Field(30.0, ge=0)
    equity: float = Field(60.0, ge=0, description="thin names quote less often")
    index: float = Field(60.0, ge=0)
    commodity: float = Field(60.0, ge=0)

    def for_class(self, asset_class: str) -> float:
        return float(getattr(self, str(asset_class)))


class RiskSettings(_Section):
    """Limits of the pre-trade gate. Notionals are in the account currency."""

    max_order_notional: float = Field(50_000.0, gt=0)
    max_position_notional: float = Field(100_000.0, gt=0)
    max_position_units: dict[str, float] = Field(default_factory=dict)
    max_gross_exposure: float = Field(250_000.0, gt=0)
    max_net_exposure: float = Field(150_000.0, gt=0)
    max_currency_exposure: float = Field(150_000.0, gt=0)
    max_shrink_ratio: float = Field(
        4.0,
        gt=1,
        description="a request more than this many times a hard limit is refused as a typo",
    )
    max_daily_loss_pct: float = Field(0.03, gt=0, le=1)
    max_drawdown_pct: float = Field(0.10, gt=0, le=1)
    max_correlation: float = Field(0.8, ge=0, le=1)
    price_band_pct: float = Field(0.05, gt=0, le=1, description="fat-finger band around last")
    min_signal_confidence: float = Field(0.0, ge=0, le=1)
    max_orders_per_minute: int = Field(30, ge=1)
    enforce_market_hours: bool = True
    risk_per_trade: float = Field(0.01, gt=0, le=1, description="equity fraction risked")
    atr_stop_multiple: float = Field(2.0, gt=0)
    max_quote_age_seconds: QuoteAgeLimits = Field(
        default_factory=lambda: QuoteAgeLimits(),
        description="oldest live quote per asset class while its market is open; a number "
        "sets every class",
    )
    approval_ttl_seconds: int = Field(300, ge=1)
    proposal_ttl_seconds: int = Field(3600, ge=1)

    @field_validator("max_position_units")
    @classmethod
    def _units_by_instrument(cls, value: dict[str, float]) -> dict[str, float]:
        """Keys by canonical symbol (GOLD is XAUUSD); where two keys name one instrument the
        tighter limit holds, whichever source set it."""
        out: dict[str, float] = {}
        for key, units in value.items():
            if not units >= 0:
                raise ValueError(f"the unit limit for {key} must be >= 0")
            symbol = normalize_symbol(key)
            out[symbol] = min(units, out.get(symbol, math.inf))
        return out

    @field_validator("max_quote_age_seconds", mode="before")
    @classmethod
    def _one_age_for_every_class(cls, value: Any) -> Any:
        """One number (``TRADECREW_RISK__MAX_QUOTE_AGE_SECONDS=10``) sets every class."""
        if isinstance(value, int | float | str) and not isinstance(value, bool):
            return dict.fromkeys(QuoteAgeLimits.model_fields, float(value))
        return value


class BrokerSettings(_Section):
    name: Literal["paper", "alpaca", "mt5"] = "paper"
    live_trading: bool = Field(False, description="first of the two opt-ins for live accounts")
    auto_approve_paper: bool = Field(False, description="paper only: skip the human approval")
    starting_cash: float = Field(100_000.0, gt=0)
    slippage_bps: float = Field(1.0, ge=0)
    commission_bps: float = Field(0.5, ge=0)
    alpaca_base_url: str | None = None
    alpaca_api_key: SecretStr | None = None
    alpaca_secret_key: SecretStr | None = None
    mt5_host: str = "127.0.0.1"
    mt5_port: int = 18812
    read_attempts: int = Field(
        4, ge=1, le=10, description="tries of a broker read before the broker counts as down"
    )
    submit_grace_seconds: float = Field(
        120.0,
        gt=0,
        description="an order persisted less than this long ago may still be on its way to the "
        "broker: reconciliation leaves it alone, and only after it asks the broker",
    )


_DEFAULT_TTL_SECONDS = {
    "M1": 30.0,
    "M5": 60.0,
    "M15": 120.0,
    "M30": 300.0,
    "H1": 300.0,
    "H4": 900.0,
    "D1": 3600.0,
    "W1": 3600.0,
    "MN1": 3600.0,
}


class DataSettings(_Section):
    """Live market-data providers: where they are and how long cached bars stay fresh."""

    alpaca_data_url: str = Field(
        "https://data.alpaca.markets", description="alpaca-py's url_override for market data"
    )
    cache_ttl_seconds: dict[str, float] = Field(
        default_factory=lambda: dict(_DEFAULT_TTL_SECONDS),
        description="per timeframe; a cached series younger than this makes no request",
    )
    timeout_seconds: float = Field(10.0, gt=0)
    max_attempts: int = Field(4, ge=1, description="tries per request on 429/5xx/timeouts")
    max_retry_wait_seconds: float = Field(
        30.0, ge=0, description="a Retry-After longer than this fails at once"
    )

    @field_validator("cache_ttl_seconds")
    @classmethod
    def _ttl(cls, v: dict[str, float]) -> dict[str, float]:
        out = dict(_DEFAULT_TTL_SECONDS)
        for key, seconds in v.items():
            name = key.strip().upper()
            if name not in out:
                raise ValueError(f"unknown timeframe {key!r}; use one of {', '.join(out)}")
            if seconds < 0:
                raise ValueError(f"cache TTL for {name} must be >= 0, got {seconds}")
            out[name] = float(seconds)
        return out


class NewsSettings(_Section):
    """News providers: the default one, RSS/Atom feeds, and how much a fetch may bring."""

    source: Literal["alpaca", "rss", "openbb", "stored"] = Field(
        "alpaca", description="what `tradecrew news` asks when --source is not given"
    )
    rss_feeds: list[str] = Field(
        default_factory=list,
        description="RSS/Atom feed URLs; {symbol} in one makes it a per-symbol feed, the others "
        "count an item for a symbol only when it names the symbol",
    )
    lookback_days: float = Field(7.0, gt=0, description="how far back a fetch reaches by default")
    max_items: int = Field(200, ge=1, le=5000, description="most items one fetch asks for")
    max_feed_bytes: int = Field(5_000_000, ge=1024, description="a larger feed is refused")


class McpSettings(_Section):
    """The MCP server. A bare tool call is a model's, not a person's: it approves nothing
    unless the user turns that on here, and then only on a paper account."""

    approve_without_confirmation: bool = Field(
        False,
        description="paper only: approve_proposal fills without an elicitation the user confirmed",
    )


class LLMSettings(_Section):
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0)
    max_tokens_per_run: int = Field(200_000, ge=1)
    max_cost_per_run: float = Field(2.0, ge=0)
    max_concurrency: int = Field(4, ge=1)
