"""Alpaca's news endpoint (``GET /v1beta1/news``) on 127.0.0.1, beside the fake data server.

It answers as Alpaca's does: ``{"news": [...], "next_page_token": ...}`` with items shaped
like alpaca-py's ``News`` (integer ``id``, ``headline``, ``author``, ``created_at``,
``updated_at``, ``summary``, ``content``, ``images``, ``symbols``, ``source``, ``url``),
filtered by ``symbols`` (any of them), ``start``/``end`` (inclusive, on ``created_at``),
sorted by ``sort`` (``desc`` by default), at most 50 a page. Faults (429 with Retry-After,
5xx, malformed bodies) and key checks are the data server's.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.data.fake_alpaca_data import FakeAlpacaData, _parse, iso

NEWS = "/v1beta1/news"


def article(
    n: int,
    created: datetime,
    symbols: list[str],
    headline: str | None = None,
    url: str | None = None,
    source: str = "benzinga",
) -> dict[str, Any]:
    """One item as Alpaca serves it."""
    return {
        "id": 24_800_000 + n,
        "headline": headline or f"Story {n} about {', '.join(symbols)}",
        "author": "Benzinga Newsdesk",
        "created_at": iso(created),
        "updated_at": iso(created + timedelta(minutes=1)),
        "summary": f"Summary of story {n}.",
        "content": "",
        "images": [],
        "symbols": symbols,
        "source": source,
        "url": url or f"https://www.benzinga.com/news/24/12/{24_800_000 + n}/story-{n}",
    }


class FakeAlpacaNews(FakeAlpacaData):
    """The fake data server, also serving news from ``self.news``."""

    def __init__(self, *args: Any, news_page: int = 50, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.news: list[dict[str, Any]] = []
        self.news_page = news_page
        self.endless_tokens = False  # a broken server: a token with every (empty) page

    def handle(self, raw_path: str, headers: Any) -> tuple[int, bytes, dict[str, str], float]:
        url = urlparse(raw_path)
        if url.path != NEWS:
            return super().handle(raw_path, headers)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.lock:
            refused = self.admit(url.path, query, headers)
            if refused is not None:
                return refused
            return 200, json.dumps(self._news(query)).encode(), {}, 0.0

    def _news(self, query: dict[str, str]) -> dict[str, Any]:
        wanted = {s for s in query.get("symbols", "").split(",") if s}
        start, end = _parse(query.get("start")), _parse(query.get("end"))
        items = []
        for item in self.news:
            t = _parse(item["created_at"])
            assert t is not None
            if wanted and not wanted & set(item["symbols"]):
                continue
            if (start is None or t >= start) and (end is None or t <= end):
                items.append(item)
        items.sort(key=lambda i: i["created_at"], reverse=query.get("sort", "desc") == "desc")
        if self.endless_tokens:
            return {"news": [], "next_page_token": "c2FtZQ=="}
        offset = int(base64.b64decode(query["page_token"])) if query.get("page_token") else 0
        limit = min(int(query.get("limit") or 10), self.news_page, 50)
        page = items[offset : offset + limit]
        more = offset + limit < len(items)
        token = base64.b64encode(str(offset + limit).encode()).decode() if more else None
        return {"news": page, "next_page_token": token}


def now_utc() -> datetime:
    return datetime.now(UTC)
