"""A symbol's news sentiment at ``asof`` from the stored headlines: the news layer feeds the
pure ``tools.sentiment_aggregate`` (stored items scored, deduplicated by title, weighted)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from tradecrew.config import Settings
from tradecrew.news.models import news_symbol, utc
from tradecrew.news.service import store_for
from tradecrew.news.store import title_key
from tradecrew.tools.sentiment_aggregate import (
    ScoredHeadline,
    SentimentAggregate,
    aggregate_sentiment,
)

#: The most headlines one aggregate reads (the newest); older ones weigh next to nothing.
MAX_ITEMS = 500
# A publisher's name after the title ("... - Reuters", "... | Bloomberg"): not the story.
_BYLINE = re.compile(r"\s+[-|\u2013\u2014]\s+[^-|\u2013\u2014]{1,40}$")


def story_key(headline: str) -> str:
    """The story a headline tells, as compared across sources: the title without a trailing
    publisher's name, casefolded, punctuation dropped."""
    return title_key(_BYLINE.sub("", headline.strip())) or title_key(headline)


def symbol_sentiment(
    symbol: str, asof: datetime | None, settings: Settings, *, backend: str | None = None
) -> SentimentAggregate:
    """The recency-, source-weighted sentiment of the distinct stories about ``symbol``
    published before ``asof`` within ``news.sentiment_window_days`` (empty without a store)."""
    end = utc(asof) if asof is not None else datetime.now(UTC)
    if not (settings.home / "news.db").is_file():
        return SentimentAggregate()
    news = settings.news
    start = end - timedelta(days=news.sentiment_window_days)
    items = store_for(settings).query(news_symbol(symbol), asof=end, since=start, limit=MAX_ITEMS)
    if not items:
        return SentimentAggregate()
    from tradecrew.tools.sentiment import analyze_configured

    scored = analyze_configured([h.headline for h in items], settings, backend)
    return aggregate_sentiment(
        [
            ScoredHeadline(
                story=story_key(h.headline),
                score=r.score,
                confidence=r.confidence,
                published_at=h.published_at,
                source=h.source,
            )
            for h, r in zip(items, scored, strict=True)
        ],
        end,
        half_life_hours=news.sentiment_half_life_hours,
        source_weights=news.source_weights,
        window_hours=news.sentiment_window_days * 24,
    )
