"""The weekly forex calendar JSON feed many trading tools read, fetched and cached.

The feed (ForexFactory's export as served by faireconomy.media) is a list of
``{"title", "country", "date", "impact", "forecast", "previous"}`` where ``country`` is the
currency, ``date`` an ISO time with its offset and ``impact`` High, Medium, Low or Holiday.
A copy is kept under ``TRADECREW_HOME/cache/calendar/`` with the time it was fetched: within
the TTL no request is made (the public feed rate-limits hard). Requests time out and retry
429/5xx honouring Retry-After. When a refresh fails, a copy fetched within the last week
(the feed's span) is used and the failure logged; with no such copy the failure is an error
naming the feed and the cause. An empty or unreadable answer is a failure, never "no events".
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from tradecrew.data import sealed
from tradecrew.data.alpaca_transport import RetryingSession, public_url
from tradecrew.data.base import SourceUnavailable
from tradecrew.data.calendar_events import EconomicEvent
from tradecrew.text import redacted

PROVIDER = "forex_feed"
DEFAULT_FEED_URL = "https://nfs.faireconomy.media/ff_calendar_thisweek.json"
STALE_LIMIT_SECONDS = 7 * 24 * 3600.0  # a weekly calendar's copy is good for its week
_IMPACTS = {"high": "high", "medium": "medium", "low": "low", "holiday": "holiday"}
log = logging.getLogger(__name__)


def parse_feed(payload: Any, source: str = PROVIDER) -> list[EconomicEvent]:
    """Events of a decoded feed; rows it cannot read (no date, "All" currencies, an impact
    it does not know) are skipped. SourceUnavailable when the payload is not a list or no
    row at all is usable."""
    if not isinstance(payload, list):
        raise SourceUnavailable(source, "malformed reply: expected a list of events")
    if not payload:
        raise SourceUnavailable(source, "the feed returned no events")
    events, skipped = [], 0
    for row in payload:
        event = _event(row, source) if isinstance(row, dict) else None
        if event is None:
            skipped += 1
        else:
            events.append(event)
    if not events:
        raise SourceUnavailable(source, f"malformed reply: none of {len(payload)} events usable")
    if skipped:
        log.info("%s: skipped %d of %d events it could not read", source, skipped, len(payload))
    return sorted(events, key=lambda e: e.time)


def _event(row: dict[str, Any], source: str) -> EconomicEvent | None:
    impact = _IMPACTS.get(str(row.get("impact", "")).strip().lower())
    currency = str(row.get("country", "")).strip().upper()
    if impact is None or len(currency) != 3 or currency == "ALL":
        return None
    try:
        return EconomicEvent.model_validate(
            {
                "time": row.get("date"),
                "currency": currency,
                "impact": impact,
                # A feed's words are data: one line, bounded.
                "title": redacted(str(row.get("title") or ""), (), 120) or "untitled",
                "forecast": _text(row.get("forecast")),
                "previous": _text(row.get("previous")),
                "actual": _text(row.get("actual")),
                "source": source,
            }
        )
    except ValueError:
        return None


def _text(value: Any) -> str | None:
    return redacted(str(value), (), 40) if value not in (None, "") else None


class ForexFeed:
    """The feed at ``url``, cached in ``cache_dir`` for ``ttl_seconds``."""

    def __init__(
        self,
        url: str = DEFAULT_FEED_URL,
        cache_dir: str | Path | None = None,
        *,
        ttl_seconds: float = 3600.0,
        timeout: float = 10.0,
        attempts: int = 3,
        max_wait: float = 30.0,
        backoff: float = 0.5,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        secret: bytes | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the calendar feed URL must be http(s), got {public_url(url)!r}")
        self.url = url
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        self.ttl = ttl_seconds
        self._clock = clock
        # The cache counts only under the home's MAC key (``sealed``); this process's own
        # by default.
        self._secret = secret if secret is not None else sealed.cache_secret(None)
        self._session = RetryingSession(
            timeout=timeout, attempts=attempts, backoff=backoff, max_wait=max_wait, sleep=sleep
        )

    @property
    def cache_path(self) -> Path | None:
        if self.cache_dir is None:
            return None
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        return self.cache_dir / f"{PROVIDER}-{digest}.json"

    def events(self) -> list[EconomicEvent]:
        """This week's events: from the cache within the TTL, else from the feed."""
        cached = self._read_cache()
        now = self._clock()
        if cached is not None and 0 <= now - cached[0] < self.ttl:
            return parse_feed(cached[1])
        try:
            payload = self._fetch()
            events = parse_feed(payload)
        except SourceUnavailable as exc:
            if cached is not None and 0 <= now - cached[0] < STALE_LIMIT_SECONDS:
                log.warning("%s; using the copy fetched %.0f s ago", exc, now - cached[0])
                return parse_feed(cached[1])
            raise
        self._write_cache(now, payload)
        return events

    # ------------------------------------------------------------------ transport

    def _fetch(self) -> Any:
        where = public_url(self.url)
        try:
            response = self._session.get(self.url, headers={"Accept": "application/json"})
        except requests.Timeout:
            raise SourceUnavailable(PROVIDER, f"no answer from {where} (timed out)") from None
        except requests.RequestException as exc:
            raise SourceUnavailable(
                PROVIDER, f"cannot reach {where} ({type(exc).__name__}: no network?)"
            ) from None
        status = response.status_code
        if status == 429:
            after = response.headers.get("Retry-After")
            hint = f"; the server asks to wait {after} s" if after else ""
            raise SourceUnavailable(PROVIDER, f"rate limited (429) at {where}{hint}")
        if status >= 400:
            raise SourceUnavailable(PROVIDER, f"HTTP {status} from {where}")
        try:
            return response.json()
        except ValueError:
            raise SourceUnavailable(PROVIDER, f"malformed reply from {where}: not JSON") from None

    def _read_cache(self) -> tuple[float, Any] | None:
        path = self.cache_path
        doc = sealed.read_json(path, self._secret) if path is not None else None
        try:
            return (float(doc["fetched_at"]), doc["events"]) if doc is not None else None
        except (KeyError, TypeError, ValueError):
            return None  # damaged: fetch again

    def _write_cache(self, now: float, payload: Any) -> None:
        if self.cache_path is not None:
            doc = {"url": public_url(self.url), "fetched_at": now, "events": payload}
            sealed.write_json(self.cache_path, self._secret, doc)
