"""The economic calendar the settings select, for the risk gate and every view.

``components.calendar.source`` picks it: ``sample`` (the offline default: the calendar file
``components.calendar.file`` when set, else the packaged sample, labelled synthetic),
``forex_feed`` (the weekly forex calendar JSON at ``feed_url``, cached under
``TRADECREW_HOME`` for ``feed_ttl_seconds``) or ``openbb`` (``obb.economy.calendar``, cached
the same way). Live events carry their source. A live source that fails raises
``SourceUnavailable``: never a silent fall back to the sample.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tradecrew.config import Settings
from tradecrew.data import calendar_openbb
from tradecrew.data.calendar_events import Calendar, EconomicEvent
from tradecrew.data.calendar_feed import PROVIDER as FEED
from tradecrew.data.calendar_feed import ForexFeed
from tradecrew.data.calendar_file import CalendarFile
from tradecrew.data.sealed import cache_secret, read_json, write_json

__all__ = ["calendar_loader", "load_calendar"]


def calendar_loader(
    settings: Settings, calendar_file: CalendarFile | None = None
) -> Callable[[], Calendar]:
    """The selected calendar as the loader the tools call, holding one reader of the
    configured file (``calendar_file``, or a new one), so the file is parsed once per version
    however often the tools ask."""
    held = calendar_file or CalendarFile(settings.components.calendar.file)
    return lambda: load_calendar(settings, calendar_file=held)


def load_calendar(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    calendar_file: CalendarFile | None = None,
) -> Calendar:
    """The selected calendar; SourceUnavailable (live sources) or CalendarFileError/OSError
    (a calendar file) when it cannot be had. ``calendar_file``: the caller's reader of the
    configured file, which parses it once per version; without it the file is read now."""
    cfg = settings.components.calendar
    if cfg.source == "forex_feed":
        feed = ForexFeed(
            cfg.feed_url,
            _cache_dir(settings),
            ttl_seconds=cfg.feed_ttl_seconds,
            timeout=settings.data.timeout_seconds,
            attempts=settings.data.max_attempts,
            max_wait=settings.data.max_retry_wait_seconds,
            clock=clock,
            secret=cache_secret(settings.home),
        )
        return Calendar(feed.events(), FEED)
    if cfg.source == "openbb":
        return Calendar(_openbb_events(settings, cfg.openbb_provider, clock), "openbb")
    if calendar_file is None or calendar_file.configured != cfg.file:
        calendar_file = CalendarFile(cfg.file)
    return calendar_file.calendar()


def _cache_dir(settings: Settings) -> Path:
    return settings.home / "cache" / "calendar"


def _openbb_events(
    settings: Settings, provider: str | None, clock: Callable[[], float]
) -> list[EconomicEvent]:
    """OpenBB's events, from a copy on disk younger than the feed TTL when there is one."""
    ttl = settings.components.calendar.feed_ttl_seconds
    path = _cache_dir(settings) / f"openbb-{provider or 'default'}.json"
    secret = cache_secret(settings.home)
    now = clock()
    doc = read_json(path, secret)
    try:
        if doc is not None and 0 <= now - float(doc["fetched_at"]) < ttl:
            return [EconomicEvent.model_validate(e) for e in doc["events"]]
    except (ValueError, KeyError, TypeError):
        pass  # damaged: ask OpenBB
    events = calendar_openbb.fetch_events(provider)
    write_json(
        path, secret, {"fetched_at": now, "events": [e.model_dump(mode="json") for e in events]}
    )
    return events
