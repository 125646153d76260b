"""The tools as a front end calls them: with the process settings (or the ones given) and
the economic calendar those settings select."""

from __future__ import annotations

from typing import Any

from tradecrew.config import Settings, get_settings
from tradecrew.data.calendars import calendar_loader
from tradecrew.tools.analysis import AnalysisReport
from tradecrew.tools.catalog import AnalyzeQuery, analyze_symbol, build_registry
from tradecrew.tools.registry import ToolSpec
from tradecrew.tools.sentiment_aggregate import SentimentAggregate


def analyze(
    query: AnalyzeQuery,
    settings: Settings | None = None,
    news_sentiment: SentimentAggregate | None = None,
) -> AnalysisReport:
    settings = settings or get_settings()
    calendar = calendar_loader(settings)
    return analyze_symbol(query, settings, calendar=calendar, news_sentiment=news_sentiment)


def registry(settings: Settings | None = None) -> dict[str, ToolSpec[Any, Any]]:
    settings = settings or get_settings()
    return build_registry(settings, calendar=calendar_loader(settings))
