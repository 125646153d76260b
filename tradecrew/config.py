"""Settings: defaults, then ``crew.yaml`` (its ``hybrid_ai`` section), then ``TRADECREW_*`` env.

Nested fields use ``__`` in the environment: ``TRADECREW_RISK__MAX_DAILY_LOSS_PCT=0.02``,
``TRADECREW_COMPONENTS__SENTIMENT__BACKEND=finbert``. Secrets (API keys) only ever come from
the environment and are ``SecretStr`` so they never print.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from tradecrew.crewfile import load_crew_file


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    window: int = Field(60, ge=5)
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


class FusionSettings(_Section):
    """Weights of the signal fusion; the optimizer tunes these."""

    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "trend": 0.25,
            "momentum": 0.20,
            "regime": 0.20,
            "volume": 0.10,
            "sentiment": 0.10,
            "mtf": 0.15,
        }
    )
    timeframe_weights: dict[str, float] = Field(
        default_factory=lambda: {"M5": 0.1, "M15": 0.2, "H1": 0.3, "H4": 0.4}
    )
    neutral_band: float = Field(0.1, ge=0.0, le=1.0, description="|score| below this is flat")


class RiskSettings(_Section):
    """Limits of the pre-trade gate. Notionals are in the account currency."""

    max_order_notional: float = Field(50_000.0, gt=0)
    max_position_notional: float = Field(100_000.0, gt=0)
    max_position_units: dict[str, float] = Field(default_factory=dict)
    max_gross_exposure: float = Field(250_000.0, gt=0)
    max_net_exposure: float = Field(150_000.0, gt=0)
    max_currency_exposure: float = Field(150_000.0, gt=0)
    max_daily_loss_pct: float = Field(0.03, gt=0, le=1)
    max_drawdown_pct: float = Field(0.10, gt=0, le=1)
    max_correlation: float = Field(0.8, ge=0, le=1)
    price_band_pct: float = Field(0.05, gt=0, le=1, description="fat-finger band around last")
    min_signal_confidence: float = Field(0.0, ge=0, le=1)
    max_orders_per_minute: int = Field(30, ge=1)
    enforce_market_hours: bool = True
    risk_per_trade: float = Field(0.01, gt=0, le=1, description="equity fraction risked")
    atr_stop_multiple: float = Field(2.0, gt=0)
    max_quote_age_seconds: float = Field(
        0.0, ge=0, description="0 disables the staleness check (sample data has no live clock)"
    )
    approval_ttl_seconds: int = Field(300, ge=1)
    proposal_ttl_seconds: int = Field(3600, ge=1)


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


class LLMSettings(_Section):
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    max_retries: int = Field(2, ge=0)
    max_tokens_per_run: int = Field(200_000, ge=1)
    max_cost_per_run: float = Field(2.0, ge=0)
    max_concurrency: int = Field(4, ge=1)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRADECREW_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_default=True,
    )

    home: Path = Field(default_factory=lambda: Path.home() / ".tradecrew")
    crew_file: Path | None = None
    database_url: str | None = None
    data_source: str = Field("sample", description="sample | csv:PATH | alpaca | yfinance")
    symbols: list[str] = Field(
        default_factory=lambda: ["XAUUSD", "EURUSD", "GBPUSD", "SPX", "BTCUSD"]
    )
    timeframe: str = "D1"
    components: Components = Field(default_factory=Components)
    fusion: FusionSettings = Field(default_factory=FusionSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _CrewFileSource(settings_cls))

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'tradecrew.db'}"

    def ensure_home(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        return self.home


class _CrewFileSource(PydanticBaseSettingsSource):
    """Reads the ``hybrid_ai`` section of crew.yaml: components, fusion, risk, broker."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        crew = load_crew_file()
        section = crew.hybrid_ai.model_dump(exclude_none=True) if crew.hybrid_ai else {}
        return section


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after env changes."""
    return Settings()
