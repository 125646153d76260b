"""The weekly forex calendar JSON feed on 127.0.0.1, in the faireconomy/ForexFactory export
shape, with faults: 429 with Retry-After, 5xx, a malformed body, an empty list."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.http import LoopbackServer, QuietHandler

FEED_PATH = "/ff_calendar_thisweek.json"
NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def week_feed(monday: datetime) -> list[dict[str, Any]]:
    """A week of events as the feed writes them: New York times with their offset."""
    at = monday.astimezone(NEW_YORK_WINTER).replace(hour=8, minute=30, second=0, microsecond=0)

    def row(days: int, hours: float, country: str, title: str, impact: str) -> dict[str, Any]:
        when = at + timedelta(days=days, hours=hours)
        return {
            "title": title,
            "country": country,
            "date": when.isoformat(),
            "impact": impact,
            "forecast": "0.3%",
            "previous": "0.2%",
        }

    return [
        row(0, 0, "USD", "Core CPI m/m", "High"),
        row(0, 2, "EUR", "German ZEW Economic Sentiment", "Medium"),
        row(1, 5.5, "USD", "FOMC Statement", "High"),
        row(2, -4, "GBP", "Bank Holiday", "Holiday"),
        row(3, 0, "JPY", "BoJ Policy Rate", "High"),
        row(3, 1, "All", "G7 Meetings", "Medium"),
        row(4, 0, "CAD", "Employment Change", "Low"),
        {"title": "no date", "country": "USD", "impact": "High"},
    ]


class FakeCalendarFeed(LoopbackServer):
    def __init__(self, payload: list[dict[str, Any]]) -> None:
        self.payload = payload
        self.requests = 0
        self.faults: list[tuple[int, dict[str, str], bytes]] = []  # served before the payload
        self.lock = threading.Lock()
        feed = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                with feed.lock:
                    feed.requests += 1
                    fault = feed.faults.pop(0) if feed.faults else None
                if self.path != FEED_PATH:
                    self.reply(404, b"not found", {})
                elif fault is not None:
                    self.reply(*fault[:1], fault[2], fault[1])
                else:
                    body = json.dumps(feed.payload).encode()
                    self.reply(200, body, {"Content-Type": "application/json"})

        handler: type[BaseHTTPRequestHandler] = Handler
        self.serve(handler)

    @property
    def feed_url(self) -> str:
        return self.url + FEED_PATH

    def fail_next(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        with self.lock:
            self.faults.append((status, headers or {}, body))
