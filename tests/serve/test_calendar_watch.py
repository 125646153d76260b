"""The serve loop's risk watch reads the calendar source the gate reads (not only the file)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.data.fake_calendar_feed import FakeCalendarFeed, week_feed
from tests.data.test_calendar_feed import CPI, MONDAY, settings_for
from tradecrew.serve.calendar_watch import CalendarWatch


def test_the_watch_takes_blackouts_from_the_live_feed(tmp_path: Path) -> None:
    server = FakeCalendarFeed(week_feed(MONDAY)).start()
    try:
        cfg = settings_for(tmp_path, source="forex_feed", feed_url=server.feed_url)
        watch = CalendarWatch(cfg, live=True)
        now = CPI - timedelta(minutes=5)
        assert watch.error(now) is None
        found = watch.blackouts(["XAUUSD", "EURJPY"], now)
        assert list(found) == ["XAUUSD"]  # a USD event: gold is affected, EURJPY is not
        assert "Core CPI" in found["XAUUSD"] and "synthetic" not in found["XAUUSD"]
    finally:
        server.stop()


def test_a_feed_that_cannot_be_read_is_an_error_the_watch_reports(tmp_path: Path) -> None:
    server = FakeCalendarFeed([]).start()  # an empty week is an outage, not a calm week
    try:
        cfg = settings_for(tmp_path, source="forex_feed", feed_url=server.feed_url)
        watch = CalendarWatch(cfg, live=True)
        error = watch.error(CPI)
        assert error is not None and "forex_feed" in error
        assert watch.blackouts(["XAUUSD"], CPI) == {}
    finally:
        server.stop()
