"""Signals: the market regime, each analyzer's vote and the fused view on a symbol."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from .base import Model
from .trading import Direction


class Regime(StrEnum):
    TRENDING_BULL = "trending_bull"
    TRENDING_BEAR = "trending_bear"
    RANGING = "ranging"
    VOLATILE = "volatile"


class ComponentSignal(Model):
    """One analyzer's vote in the fusion: score in [-1, 1] (short..long), weight, why."""

    name: str
    score: float = Field(ge=-1.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    weight: float = Field(ge=0.0)
    contribution: float = 0.0
    detail: str = ""


class Signal(Model):
    """The fused view on a symbol: which way, how strongly, how sure, and who said so."""

    symbol: str
    timestamp: datetime | None = None
    direction: Direction
    score: float = Field(ge=-1.0, le=1.0)
    strength: float = Field(ge=0.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    components: list[ComponentSignal] = Field(default_factory=list)
    vetoes: list[str] = Field(default_factory=list)
    risk_reduction: float = Field(default=1.0, ge=0.0, le=1.0)
