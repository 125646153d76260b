"""Trading settings: the pre-trade risk limits and the broker."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from tradecrew.instruments import normalize_symbol

from .base import Section


class QuoteAgeLimits(Section):
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


class RiskSettings(Section):
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


class BrokerSettings(Section):
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
