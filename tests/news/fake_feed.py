"""RSS 2.0 and Atom feeds served from 127.0.0.1, with fault injection (429 with Retry-After,
5xx, any body), in the shapes finance sites publish."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlparse
from xml.sax.saxutils import escape

from tests.fakes.http import LoopbackServer, QuietHandler


@dataclass
class Item:
    title: str
    link: str | None
    published: datetime | None
    guid: str | None = None
    summary: str = ""


def rss(title: str, items: list[Item]) -> bytes:
    """An RSS 2.0 document (Yahoo Finance's headline feed has this shape)."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://example.com/</link>",
        "<description>Latest news</description><language>en-US</language>",
    ]
    for it in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(it.title)}</title>")
        if it.link is not None:
            parts.append(f"<link>{escape(it.link)}</link>")
        if it.summary:
            parts.append(f"<description>{escape(it.summary)}</description>")
        if it.guid is not None:
            parts.append(f'<guid isPermaLink="false">{escape(it.guid)}</guid>')
        if it.published is not None:
            parts.append(f"<pubDate>{format_datetime(it.published)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()


def atom(title: str, items: list[Item]) -> bytes:
    """An Atom 1.0 document."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><id>urn:feed:test</id>",
        "<updated>2026-12-01T00:00:00Z</updated>",
    ]
    for it in items:
        parts.append("<entry>")
        parts.append(f"<title>{escape(it.title)}</title>")
        if it.link is not None:
            parts.append(f'<link href="{escape(it.link)}"/>')
        parts.append(f"<id>{escape(it.guid or it.link or it.title)}</id>")
        if it.published is not None:
            parts.append(f"<updated>{it.published.isoformat()}</updated>")
        if it.summary:
            parts.append(f"<summary>{escape(it.summary)}</summary>")
        parts.append("</entry>")
    parts.append("</feed>")
    return "\n".join(parts).encode()


@dataclass
class _Fault:
    count: int
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass
class FeedServer(LoopbackServer):
    """Serves ``pages[path]``; ``fail_next`` answers the next requests with an error."""

    pages: dict[str, bytes] = field(default_factory=dict)
    content_type: str = "application/rss+xml; charset=utf-8"
    faults: list[_Fault] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.serve(_handler(self))

    def fail_next(self, n: int, status: int, *, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.faults.append(_Fault(n, status, b"<html>busy</html>", headers))

    def handle(self, raw: str) -> tuple[int, bytes, dict[str, str]]:
        path = urlparse(raw).path
        with self.lock:
            self.log.append(raw)
            if self.faults:
                fault = self.faults[0]
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.pop(0)
                return fault.status, fault.body, fault.headers
            if path not in self.pages:
                return 404, b"<html>not found</html>", {}
            return 200, self.pages[path], {"Content-Type": self.content_type}


def _handler(app: FeedServer) -> type[QuietHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            status, data, headers = app.handle(self.path)
            headers.setdefault("Content-Type", "text/html")
            self.reply(status, data, headers)

    return Handler
