"""News: providers (Alpaca, RSS/Atom) and the stored, deduplicated headline history.

Headlines are untrusted text: cleaned to plain one-line text when they arrive, and data,
never instructions, wherever they go next. Reads are point-in-time: ``asof`` T shows only
items published before T.
"""

from tradecrew.news.models import Headline, HeadlineSentiment, NewsItem, StoredHeadline
from tradecrew.news.service import SOURCES, latest_news, parse_when, stored_headlines
from tradecrew.news.store import HeadlineStore

__all__ = [
    "SOURCES",
    "Headline",
    "HeadlineSentiment",
    "HeadlineStore",
    "NewsItem",
    "StoredHeadline",
    "latest_news",
    "parse_when",
    "stored_headlines",
]
