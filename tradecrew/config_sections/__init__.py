"""The sections of the settings: one pydantic model per ``crew.yaml``/env section.

Each model forbids unknown keys and non-finite numbers and validates its own limits (a key
that was removed is dropped with a warning instead, see ``retired``);
``tradecrew.config.Settings`` assembles them and decides where their values come from.

The sections live in modules by what they configure; this package re-exports them all so
that callers keep importing from ``tradecrew.config_sections``.
"""

from __future__ import annotations

from .agents import LLMSettings, MemorySettings
from .analysis import (
    MAX_CORRELATION_WINDOW,
    ABComponent,
    AutoMLComponent,
    CalendarComponent,
    Components,
    CorrelationComponent,
    FusionSettings,
    RegimeComponent,
    SentimentComponent,
    SessionComponent,
)
from .market_data import DataSettings, NewsSettings
from .research import GuardSettings, ResearchSettings
from .serving import AlertSettings, McpSettings, ServeSettings
from .trading import BrokerSettings, QuoteAgeLimits, RiskSettings

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
    "MemorySettings",
    "NewsSettings",
    "QuoteAgeLimits",
    "RegimeComponent",
    "ResearchSettings",
    "RiskSettings",
    "SentimentComponent",
    "ServeSettings",
    "SessionComponent",
]
