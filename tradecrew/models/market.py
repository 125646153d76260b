"""Market data: timeframes, asset classes, bars, quotes, the order book and the tape."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .base import Model
from .trading import Side


class Timeframe(StrEnum):
    M1 = "M1"
    M5 = "M5"
    M15 = "M15"
    M30 = "M30"
    H1 = "H1"
    H4 = "H4"
    D1 = "D1"
    W1 = "W1"
    MN1 = "MN1"

    @property
    def minutes(self) -> int:
        return _TIMEFRAME_MINUTES[self]

    @property
    def pandas_rule(self) -> str:
        """The pandas resample rule for this timeframe."""
        return _TIMEFRAME_RULES[self]

    @classmethod
    def parse(cls, value: str | Timeframe) -> Timeframe:
        """Accept ``H1``, ``h1``, ``1h``, ``60m``, ``1d``, ``daily``... or raise ValueError."""
        if isinstance(value, Timeframe):
            return value
        text = str(value).strip().upper()
        aliases = {
            "1M": "M1",
            "1MIN": "M1",
            "5M": "M5",
            "5MIN": "M5",
            "15M": "M15",
            "15MIN": "M15",
            "30M": "M30",
            "30MIN": "M30",
            "60M": "H1",
            "1H": "H1",
            "4H": "H4",
            "240M": "H4",
            "1D": "D1",
            "D": "D1",
            "DAY": "D1",
            "DAILY": "D1",
            "1W": "W1",
            "W": "W1",
            "WEEKLY": "W1",
            "MN": "MN1",
            "1MO": "MN1",
            "MONTHLY": "MN1",
        }
        text = aliases.get(text, text)
        try:
            return cls(text)
        except ValueError:
            valid = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown timeframe {value!r}; use one of {valid}") from None


_TIMEFRAME_MINUTES = {
    Timeframe.M1: 1,
    Timeframe.M5: 5,
    Timeframe.M15: 15,
    Timeframe.M30: 30,
    Timeframe.H1: 60,
    Timeframe.H4: 240,
    Timeframe.D1: 1440,
    Timeframe.W1: 10080,
    Timeframe.MN1: 43200,
}
_TIMEFRAME_RULES = {
    Timeframe.M1: "1min",
    Timeframe.M5: "5min",
    Timeframe.M15: "15min",
    Timeframe.M30: "30min",
    Timeframe.H1: "1h",
    Timeframe.H4: "4h",
    Timeframe.D1: "1D",
    Timeframe.W1: "W-FRI",
    Timeframe.MN1: "MS",
}


class AssetClass(StrEnum):
    FOREX = "forex"
    METAL = "metal"
    INDEX = "index"
    EQUITY = "equity"
    CRYPTO = "crypto"
    COMMODITY = "commodity"


class Bar(Model):
    timestamp: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


class Quote(Model):
    symbol: str
    bid: float
    ask: float
    last: float
    timestamp: datetime
    synthetic: bool = False
    source: str = "sample"

    @property
    def mid(self) -> float:
        return (self.bid + self.ask) / 2.0


class BookLevel(Model):
    price: float = Field(gt=0.0)
    size: float = Field(ge=0.0)


class OrderBookSnapshot(Model):
    """Level-2 book at one instant; bids best (highest) first, asks best (lowest) first."""

    symbol: str
    timestamp: datetime
    bids: list[BookLevel]
    asks: list[BookLevel]
    synthetic: bool = False


class TradePrint(Model):
    """One trade from the tape; ``side`` is the aggressor when the venue reports it."""

    timestamp: datetime
    price: float = Field(gt=0.0)
    size: float = Field(gt=0.0)
    side: Side | None = None
