"""What a headline is, wherever it came from, and how its text is made safe to keep and show.

Headlines are untrusted text: a feed can carry terminal escape sequences, control characters
or a ``javascript:`` link. They are cleaned once, when a provider builds the ``Headline``, so
the store, the CLI and the crew only ever see plain text and http(s) links.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradecrew.text import clean_text

Provider = Literal["alpaca", "rss", "openbb"]

_MAX_HEADLINE = 500
_MAX_SUMMARY = 2000
_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9.\-]{0,14}$")


def clean_url(url: str | None) -> str | None:
    """The link when it is a plain http(s) URL, else None (no ``javascript:`` or ``file:``)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(unicodedata.category(ch)[0] == "C" or ch.isspace() for ch in url):
        return None
    return url[:2000]


def news_symbol(symbol: str) -> str:
    """The desk symbol as news providers tag it (``BTC/USD`` -> ``BTCUSD``); a ValueError for
    anything that is not a ticker."""
    text = symbol.strip().upper().replace("/", "")
    if not _SYMBOL.match(text):
        raise ValueError(f"not a ticker symbol: {symbol[:40]!r}")
    return text


def utc(ts: datetime) -> datetime:
    """``ts`` as an aware UTC datetime (a naive one is taken to be UTC)."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


class Headline(BaseModel):
    """One news item as a provider served it, cleaned: who published it, when, and about what."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    provider_id: str | None = Field(None, description="the provider's own id of the item")
    source: str = Field(description="the publisher (Benzinga, a feed's title)")
    headline: str = Field(min_length=1)
    url: str | None = None
    summary: str = ""
    symbols: list[str] = Field(default_factory=list)
    published_at: datetime

    @field_validator("headline")
    @classmethod
    def _headline(cls, v: str) -> str:
        text = clean_text(v, _MAX_HEADLINE)
        if not text:
            raise ValueError("a headline needs text")
        return text

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        return clean_text(v, 120) or "unknown"

    @field_validator("summary")
    @classmethod
    def _summary(cls, v: str) -> str:
        return clean_text(v, _MAX_SUMMARY)

    @field_validator("provider_id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        return clean_text(v, 200) or None if v is not None else None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return clean_url(v)

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, v: list[str]) -> list[str]:
        out: list[str] = []
        for s in v:
            try:
                sym = news_symbol(s)
            except ValueError:
                continue  # a tag that is not a ticker says nothing about any symbol
            if sym not in out:
                out.append(sym)
        return out

    @field_validator("published_at")
    @classmethod
    def _published(cls, v: datetime) -> datetime:
        return utc(v)


class StoredHeadline(Headline):
    """A headline as the store keeps it: with the moment the desk first saw it."""

    first_seen_at: datetime


class HeadlineSentiment(BaseModel):
    """The desk's reading of one headline (its configured sentiment backend)."""

    label: Literal["positive", "negative", "neutral"]
    score: float = Field(ge=-1.0, le=1.0)
    confidence: float = Field(ge=0.0, le=1.0)
    backend: str


class NewsItem(BaseModel):
    """One row of ``tradecrew news``: the headline (untrusted text) and the desk's sentiment."""

    timestamp: datetime = Field(description="when the item was published (UTC)")
    headline: str
    source: str
    url: str | None
    symbols: list[str]
    sentiment: HeadlineSentiment
    provider: Provider
    first_seen_at: datetime
