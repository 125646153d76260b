"""Fetch, keep, and read back a symbol's news: what every front end calls.

A fetch asks one provider, adds what it served to the store, and answers from the store, so
what a command shows is exactly what a later replay at the same ``asof`` will see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tradecrew.config import Settings, get_settings
from tradecrew.news.models import StoredHeadline, news_symbol, utc
from tradecrew.news.store import HeadlineStore

SOURCES = ("alpaca", "rss", "openbb", "stored")
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def store_for(settings: Settings) -> HeadlineStore:
    """The headline store under ``TRADECREW_HOME``."""
    return HeadlineStore(settings.home / "news.db")


def parse_when(text: str, *, now: datetime, name: str) -> datetime:
    """A moment from the command line: ISO 8601 (``2026-12-01``, ``2026-12-01T14:30Z``; UTC
    unless it says otherwise) or an age such as ``90m``, ``12h``, ``3d``, ``2w`` before now."""
    value = text.strip()
    rel = _RELATIVE.match(value.lower())
    if rel:
        return now - timedelta(**{_UNITS[rel.group(2)]: float(rel.group(1))})
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")))
    except ValueError:
        raise ValueError(
            f"{name} must be an ISO date or time (2026-12-01, 2026-12-01T14:30Z) or an age "
            f"(90m, 12h, 3d, 2w), got {text[:40]!r}"
        ) from None


def provider_for(source: str, settings: Settings) -> Any:
    """The provider named ``source`` (``alpaca``, ``rss``, ``openbb``)."""
    if source == "alpaca":
        from tradecrew.news.alpaca import AlpacaNews

        return AlpacaNews(settings)
    if source == "rss":
        from tradecrew.news.rss import RssNews

        return RssNews(settings)
    if source == "openbb":
        from tradecrew.news.openbb import OpenBBNews

        return OpenBBNews(settings)
    raise ValueError(f"unknown news source {source!r}; use one of {', '.join(SOURCES)}")


def latest_news(
    symbol: str,
    *,
    source: str | None = None,
    since: datetime | None = None,
    asof: datetime | None = None,
    limit: int | None = None,
    settings: Settings | None = None,
    clock: Callable[[], datetime] | None = None,
) -> list[StoredHeadline]:
    """The symbol's news published in ``[since, asof)``, newest first, after asking
    ``source`` for it (``stored`` asks no one). ``asof`` defaults to now, ``since`` to
    ``news.lookback_days`` before ``asof``."""
    cfg = settings or get_settings()
    sym = news_symbol(symbol)
    src = (source or cfg.news.source).strip().lower()
    if src not in SOURCES:
        raise ValueError(f"unknown news source {src!r}; use one of {', '.join(SOURCES)}")
    now = (clock or (lambda: datetime.now(UTC)))()
    end = utc(asof) if asof is not None else None
    start = (
        utc(since) if since is not None else (end or now) - timedelta(days=cfg.news.lookback_days)
    )
    if start >= (end or now):
        raise ValueError("--since must be before --asof (and before now)")
    count = cfg.news.max_items if limit is None else limit
    if count < 1:
        raise ValueError(f"limit must be at least 1, got {count}")
    store = store_for(cfg)
    if src != "stored":
        provider = provider_for(src, cfg)
        # Asked up to asof: the store then holds everything a replay at asof may show.
        store.add(provider.fetch(sym, start=start, end=end, limit=count))
    return store.query(sym, asof=end, since=start, limit=count)


def stored_headlines(
    symbol: str, asof: datetime | None, settings: Settings, *, limit: int = 20
) -> list[str]:
    """The headline texts the store holds for ``symbol`` published before ``asof`` within
    ``news.lookback_days``, newest first; no network, and none when there is no store."""
    path = settings.home / "news.db"
    if not path.is_file():
        return []
    try:
        sym = news_symbol(symbol)
    except ValueError:
        return []
    end = utc(asof) if asof is not None else datetime.now(UTC)
    start = end - timedelta(days=settings.news.lookback_days)
    items = store_for(settings).query(sym, asof=end, since=start, limit=limit)
    return [h.headline for h in items]
