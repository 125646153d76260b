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
    "ABComponent",
    "AlertSettings",
    "AutoMLComponent",
    "BrokerSettings",
    "CalendarComponent",
    "Components",
    "CorrelationComponent",
    "DataSettings",
    "FusionSettings",
    "GuardSettings",
    "LLMSettings",
    "McpSettings",
    "NewsSettings",
    "QuoteAgeLimits",
    "RegimeComponent",
    "ResearchSettings",
    "RiskSettings",
    "SentimentComponent",
    "ServeSettings",
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
    backend: Literal["linear", "lexicon", "finbert", "llm"] = "linear"
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


class AutoMLComponent(_Section):
    enabled: bool = False
    n_trials: int = Field(50, ge=1)
    every_n_trades: int = Field(50, ge=1, description="closed trades between tuning runs")
    timeout_seconds: float = Field(300.0, gt=0, description="a tuning run's budget")


class ABComponent(_Section):
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


class Components(_Section):
    """The seed's ``hybrid_ai.components``: each analyzer on/off with its thresholds."""

    regime: RegimeComponent = Field(default_factory=RegimeComponent)
    sentiment: SentimentComponent = Field(default_factory=SentimentComponent)
    correlation: CorrelationComponent = Field(default_factory=CorrelationComponent)
    session: SessionComponent = Field(default_factory=SessionComponent)
    calendar: CalendarComponent = Field(default_factory=CalendarComponent)
    automl: AutoMLComponent = Field(default_factory=AutoMLComponent)
    ab: ABComponent = Field(default_factory=ABComponent)


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
    alpaca_stream_url: str = Field(
        "wss://stream.data.alpaca.markets",
        description="root of Alpaca's market-data websocket (/v2/{feed}, /v1beta3/crypto/us)",
    )
    alpaca_feed: Literal["iex", "sip"] = "iex"
    stream_silence_seconds: float = Field(
        30.0, gt=0, description="no quote for this long while a market is open: reconnect"
    )
    ccxt_exchange: str = Field(
        "binance", description="the exchange `--source ccxt` reads (ccxt's id: binance, kraken)"
    )
    ccxt_url: str | None = Field(
        None, description="another host for the exchange's public API (a mirror or a stand-in)"
    )
    openbb_provider: str = Field(
        "yfinance", description="the OpenBB data provider asked (an installed openbb-* package)"
    )
    mt5_server_utc_offset_hours: float = Field(
        0.0, ge=-14, le=14, description="the MT5 server's clock minus UTC (often 2 or 3)"
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
    sentiment_half_life_hours: float = Field(
        24.0, gt=0, description="a headline's weight in a symbol's sentiment halves this often"
    )
    sentiment_window_days: float = Field(
        7.0, gt=0, description="headlines older than this do not count in a symbol's sentiment"
    )
    source_weights: dict[str, float] = Field(
        default_factory=dict,
        description="weight of a news source in a symbol's sentiment (others count 1.0)",
    )

    @field_validator("source_weights")
    @classmethod
    def _source_weights(cls, v: dict[str, float]) -> dict[str, float]:
        for name, weight in v.items():
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"source weight of {name!r} must be >= 0, got {weight}")
        return {k.strip().lower(): float(w) for k, w in v.items()}


class MemorySettings(_Section):
    """The desk memory's embedding: ``auto`` takes a local sentence-transformers model when
    one is installed and cached, else the OpenAI-compatible endpoint's ``/v1/embeddings``
    when ``embedding_model`` is set, else the offline hashing embedding."""

    embedding: str = Field(
        "auto", description="auto | hashing[:DIM] | sentence-transformers[:MODEL] | onnx | openai"
    )
    embedding_model: str | None = Field(
        None, description="model name at the endpoint (e.g. text-embedding-3-small)"
    )
    embedding_base_url: str | None = Field(
        None, description="OpenAI-compatible base URL (.../v1); defaults to llm.base_url"
    )


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


class GuardSettings(_Section):
    """The overfitting guards a tuned result must pass before it can be adopted."""

    min_dsr: float = Field(
        0.95, ge=0.0, le=1.0, description="deflated Sharpe ratio floor (a probability)"
    )
    # At 0.5 the in-sample winner is a coin flip out of sample. 0.3 asks for odds of 7:3
    # that it lands in the top half, a margin for the estimate's own noise: pure-noise grids
    # (100 x 2,000 bars, 200 seeds) reach 0.3 or less only 9 % of the time, so this guard
    # stops noise on its own, not only through the deflated Sharpe ratio.
    max_pbo: float = Field(
        0.3, ge=0.0, le=1.0, description="probability of backtest overfitting ceiling"
    )
    min_trades: int = Field(30, ge=0, description="fewer out-of-sample trades prove nothing")


class ResearchSettings(_Section):
    """Backtests, walk-forward and tuning: the guards and the optimizer's defaults."""

    guards: GuardSettings = Field(default_factory=GuardSettings)
    optimize_timeout_seconds: float = Field(300.0, gt=0, description="a tuning run's budget")
    optimize_trials: int = Field(100, ge=1, description="trials of a tuning run")


class ServeSettings(_Section):
    """``tradecrew serve``: how often each job runs, when data counts as stale, where the
    HTTP endpoints may listen. Intervals are seconds."""

    watch_seconds: float = Field(5.0, gt=0, description="risk watch over the book")
    refresh_seconds: float = Field(30.0, gt=0, description="market data and paper matching")
    reconcile_seconds: float = Field(60.0, gt=0, description="ledger against the broker")
    crew: dict[str, float] = Field(
        default_factory=lambda: {"D1": 86400.0},
        description="timeframe -> seconds between crew cycles over the watchlist, aligned "
        "to multiples of the interval; {} runs no crew",
    )
    ab_check_seconds: float = Field(3600.0, gt=0)
    automl_check_seconds: float = Field(3600.0, gt=0)
    stream_quotes: bool = Field(
        True, description="stream the watchlist's quotes when the data source streams (alpaca)"
    )
    telegram_poll_seconds: float = Field(
        5.0, gt=0, description="Telegram approve/reject presses, when an approver chat is set"
    )
    misfire_grace_seconds: float = Field(
        30.0, gt=0, description="a run later than this is skipped, not replayed"
    )
    snapshot_seconds: float = Field(
        60.0, gt=0, description="equity observations for the daily-loss and drawdown limits"
    )
    max_data_age_seconds: float = Field(
        300.0, gt=0, description="/readyz: oldest live quote while its market is open"
    )
    halt_loss_multiple: float = Field(
        2.0, ge=1, description="a daily loss or drawdown this many times its limit halts"
    )
    shutdown_seconds: float = Field(
        8.0, gt=0, le=9, description="how long a SIGTERM waits for the running step"
    )
    allow_network: bool = Field(
        False, description="let --http bind an address other machines can reach"
    )
    allowed_hosts: list[str] = Field(
        default_factory=list, description="other Host names clients reach --http by"
    )


def _loopback_or_https(url: str, what: str) -> str:
    """HTTPS, or plain HTTP to this machine only (a local stand-in, a relay on loopback):
    a token must never cross a network in clear text."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return url
    raise ValueError(f"{what} must be an https:// URL (or http:// on 127.0.0.1)")


class AlertSettings(_Section):
    """Alerts (webhook, Telegram) and Telegram's approve/reject buttons. Environment only:
    ``TRADECREW_ALERTS__...``; the token and the webhook URL are secrets and never print."""

    webhook_url: SecretStr | None = Field(
        None, description="JSON POST of every alert; may carry a token, so it is a secret"
    )
    telegram_bot_token: SecretStr | None = None
    telegram_chat_id: str | None = Field(
        None, description="the chat alerts go to; callbacks from any other chat are refused"
    )
    telegram_approver_chat_id: str | None = Field(
        None,
        description="the user's own chat: its approve/reject buttons count as a person's "
        "approval (channel 'telegram'); unset, buttons are refused",
    )
    telegram_api_url: str = Field("https://api.telegram.org", description="Bot API base URL")
    dedup_seconds: float = Field(
        300.0, ge=0, description="the same alert key within this window is sent once"
    )
    rate_limit: int = Field(20, ge=1, description="most alerts sent per rate window")
    rate_window_seconds: float = Field(
        60.0, gt=0, description="past the limit, the window's alerts come as one summary"
    )
    timeout_seconds: float = Field(5.0, gt=0, le=60, description="per HTTP request to a sink")
    poll_seconds: int = Field(
        20, ge=0, le=50, description="getUpdates long-poll wait for button presses"
    )

    @field_validator(
        "webhook_url",
        "telegram_bot_token",
        "telegram_chat_id",
        "telegram_approver_chat_id",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An empty variable (``VAR=`` in a compose or .env file) means "not configured".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_chat_id", "telegram_approver_chat_id")
    @classmethod
    def _chat_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = str(value).strip()
        if not value.lstrip("-").isdigit():
            raise ValueError("a Telegram chat id is a (possibly negative) integer")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _loopback_or_https(value.rstrip("/"), "telegram_api_url")

    @field_validator("webhook_url")
    @classmethod
    def _webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                _loopback_or_https(value.get_secret_value(), "webhook_url")
            except ValueError:
                # Said without the value: the URL is a secret.
                raise ValueError(
                    "webhook_url must be an https:// URL (or http:// on 127.0.0.1)"
                ) from None
        return value

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_bot_token is not None and self.telegram_chat_id is not None

    @property
    def telegram_approves(self) -> bool:
        """Buttons count as a person's approval only when the alert chat is the user's own."""
        return (
            self.telegram_enabled
            and self.telegram_approver_chat_id is not None
            and self.telegram_approver_chat_id == self.telegram_chat_id
        )
