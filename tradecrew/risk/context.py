"""RiskContext: everything the risk engine needs, passed in, so the engine stays pure."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradecrew.config_sections import RiskSettings
from tradecrew.instruments import Instrument, normalize_symbol
from tradecrew.models import Account, Order, Position, Quote, TradingState


class RiskContext(BaseModel):
    """A snapshot of the desk at ``now``. NaN values are accepted here and denied by checks,
    so a bad feed produces a recorded denial instead of a crash.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    now: datetime = Field(description="the decision time; timezone-aware")
    limits: RiskSettings = Field(default_factory=RiskSettings)
    account: Account
    positions: list[Position] = Field(default_factory=list)
    open_orders: list[Order] = Field(
        default_factory=list, description="orders sent but not done; their remainder counts"
    )
    quote: Quote | None = None
    last_price: float | None = Field(None, description="last trade price of the symbol")
    instrument: Instrument | None = Field(None, description="None: the symbol is unknown")
    atr: float | None = Field(None, description="average true range, in quote-currency units")
    signal_confidence: float | None = None
    correlations: dict[str, float] = Field(
        default_factory=dict, description="symbol -> correlation with the proposal's symbol"
    )
    in_blackout: bool = False
    risk_reduction: float = Field(1.0, description="size factor in a blackout; 0 blocks")
    calendar_error: str | None = Field(
        None,
        description="the enabled economic calendar could not be read (why): new risk is "
        "refused, since no event blackout can be ruled out",
    )
    calendar_synthetic: bool = Field(
        False, description="the blackout comes from the generated sample calendar"
    )
    calendar_off: str | None = Field(
        None,
        description="why no blackout is checked although the calendar is enabled (a live "
        "account with only the sample calendar configured)",
    )
    calendar_source: str | None = Field(
        None, description="where the calendar's events came from (forex_feed, openbb, file)"
    )
    market_open: bool | None = Field(None, description="None: unknown")
    quote_replayed: bool = Field(
        False,
        description="the quote comes from replayed data (sample, csv) with no live clock, so "
        "its age is not measured; anything else is a live quote whose age is checked",
    )
    orders_last_minute: int = Field(
        0, ge=0, description="orders sent to this account in the 60 s before now"
    )
    trading_state: TradingState = TradingState.ACTIVE
    kill_switch: bool = False
    equity: float | None = Field(None, description="current equity; default account.equity")
    start_of_day_equity: float | None = Field(
        None, description="default account.start_of_day_equity; None: daily loss not measured"
    )
    peak_equity: float | None = Field(
        None, description="default account.peak_equity, else max(equity, start of day)"
    )
    prices: dict[str, float] = Field(
        default_factory=dict,
        description="symbol -> price for valuing other positions and FX (EURUSD, USDJPY...)",
    )
    fx_fallback: Literal["typical", "deny"] = Field(
        "typical",
        description=(
            "when no price converts a currency: 'typical' uses the catalogue's typical price "
            "of the pair (an explicit approximation, named in the check's reason); 'deny' fails"
        ),
    )

    @field_validator("now")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("now must be timezone-aware (UTC)")
        return value

    @field_validator("prices", "correlations")
    @classmethod
    def _upper_keys(cls, value: dict[str, float]) -> dict[str, float]:
        return {normalize_symbol(k): v for k, v in value.items()}

    @property
    def current_equity(self) -> float:
        return self.account.equity if self.equity is None else self.equity

    @property
    def day_start_equity(self) -> float | None:
        if self.start_of_day_equity is not None:
            return self.start_of_day_equity
        return self.account.start_of_day_equity

    @property
    def peak(self) -> float:
        if self.peak_equity is not None:
            return self.peak_equity
        if self.account.peak_equity is not None:
            return self.account.peak_equity
        start = self.day_start_equity
        return self.current_equity if start is None else max(self.current_equity, start)
