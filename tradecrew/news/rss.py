"""Headlines from RSS and Atom feeds configured by URL, parsed with feedparser.

A URL holding ``{symbol}`` is a per-symbol feed: its items are about that symbol. Any other
feed is general: an item counts for a symbol only when its headline or summary names it
(``AAPL`` or ``$AAPL`` as a word). Feeds are fetched here, not by feedparser, so a fetch has
a timeout, retries 429/5xx honouring Retry-After, and a size limit; a feed that fails makes
the fetch fail with one line naming it.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from tradecrew.config import Settings, get_settings
from tradecrew.data.alpaca_transport import RetryingSession, public_url, retry_after_seconds
from tradecrew.data.base import SourceUnavailable
from tradecrew.news.models import Headline, news_symbol, utc

PROVIDER = "rss"
_TAG = re.compile(r"<[^>]*>")


def _plain(text: Any) -> str:
    return _TAG.sub(" ", text) if isinstance(text, str) else ""


def _when(entry: Any) -> datetime | None:
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (OverflowError, ValueError, TypeError):
        return None


def _names(symbol: str, text: str) -> bool:
    """Whether ``text`` names the ticker as a word (``AAPL``, ``$AAPL``), in capitals."""
    return re.search(rf"(?<![\w.]){re.escape(symbol)}(?![\w])", text) is not None


class RssNews:
    """News about symbols from the configured RSS/Atom feeds."""

    name = PROVIDER

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        feeds: list[str] | None = None,
        backoff: float = 0.5,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        cfg = settings or get_settings()
        self._data = cfg.data
        self._max_bytes = cfg.news.max_feed_bytes
        self.feeds = list(feeds if feeds is not None else cfg.news.rss_feeds)
        for feed in self.feeds:
            parts = urlsplit(feed.replace("{symbol}", "X"))
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"a news feed must be an http(s) URL, got {public_url(feed)!r}")
        self._clock = clock or (lambda: datetime.now(UTC))
        self._session = RetryingSession(
            timeout=self._data.timeout_seconds,
            attempts=self._data.max_attempts,
            backoff=backoff,
            max_wait=self._data.max_retry_wait_seconds,
            **({} if sleep is None else {"sleep": sleep}),
        )
        self._session.headers["User-Agent"] = "tradecrew-news"

    def fetch(
        self, symbol: str, *, start: datetime, end: datetime | None = None, limit: int = 200
    ) -> list[Headline]:
        """Up to ``limit`` items about ``symbol`` published in ``[start, end]``, newest first."""
        sym = news_symbol(symbol)
        if not self.feeds:
            raise SourceUnavailable(
                PROVIDER,
                "no feeds configured: set TRADECREW_NEWS__RSS_FEEDS to a JSON list of URLs",
            )
        now = self._clock()
        out: list[Headline] = []
        for feed in self.feeds:
            per_symbol = "{symbol}" in feed
            url = feed.replace("{symbol}", quote(sym, safe=""))
            for item in self._read(url, sym, per_symbol, now):
                at = item.published_at
                if at >= utc(start) and (end is None or at <= utc(end)):
                    out.append(item)
        out.sort(key=lambda h: h.published_at, reverse=True)
        return out[: max(int(limit), 0)]

    def _read(self, url: str, sym: str, per_symbol: bool, now: datetime) -> list[Headline]:
        try:
            import feedparser
        except ImportError:
            raise SourceUnavailable(
                PROVIDER, "feedparser is not installed; install the extra: tradecrew[news]"
            ) from None
        where = public_url(url)
        body = self._get(url, where)
        parsed = feedparser.parse(body, response_headers={"content-location": url})
        if not parsed.get("version") and not parsed.entries:
            why = type(parsed.get("bozo_exception")).__name__ if parsed.get("bozo") else "no feed"
            raise SourceUnavailable(PROVIDER, f"malformed feed at {where}: {why}")
        source = _plain(parsed.feed.get("title")) or urlsplit(url).hostname or "rss"
        host = urlsplit(url).hostname or ""
        items: list[Headline] = []
        for entry in parsed.entries:
            title = _plain(entry.get("title"))
            summary = _plain(entry.get("summary"))
            if not title.strip():
                continue
            if not per_symbol and not _names(sym, f"{title} {summary}"):
                continue
            ident = entry.get("id") or entry.get("link")
            items.append(
                Headline(
                    provider="rss",
                    # Guids are only unique within a feed.
                    provider_id=f"{host}:{ident}" if ident else None,
                    source=source,
                    headline=title,
                    url=entry.get("link"),
                    summary=summary,
                    symbols=[sym],
                    # An undated item was published no later than now, when it was seen.
                    published_at=_when(entry) or now,
                )
            )
        return items

    def _get(self, url: str, where: str) -> bytes:
        try:
            with self._session.get(url, stream=True) as reply:
                status = reply.status_code
                if status == 429:
                    after = retry_after_seconds(reply)
                    hint = f"; the server asks to wait {after:.0f} s" if after is not None else ""
                    raise SourceUnavailable(PROVIDER, f"rate limited (429) at {where}{hint}")
                if status >= 500:
                    raise SourceUnavailable(PROVIDER, f"server error {status} at {where}")
                if status >= 400:
                    raise SourceUnavailable(PROVIDER, f"feed refused ({status}) at {where}")
                chunks, size = [], 0
                for chunk in reply.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > self._max_bytes:
                        raise SourceUnavailable(
                            PROVIDER, f"feed at {where} is larger than {self._max_bytes} bytes"
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.Timeout:
            raise SourceUnavailable(PROVIDER, f"no answer from {where} (timed out)") from None
        except requests.ConnectionError:
            raise SourceUnavailable(PROVIDER, f"cannot reach {where}") from None
        except requests.RequestException as exc:
            raise SourceUnavailable(PROVIDER, f"request failed: {type(exc).__name__}") from None
