"""Live economic calendars: the weekly forex feed over a local HTTP server, OpenBB through a
fake module, the source setting, and what the risk gate and views make of them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.data.fake_calendar_feed import FakeCalendarFeed, week_feed
from tests.fakes import fake_openbb_calendar
from tradecrew.config import Settings, get_settings
from tradecrew.data.base import SourceUnavailable
from tradecrew.data.calendar_feed import ForexFeed, parse_feed
from tradecrew.data.calendar_file import CalendarFile
from tradecrew.data.calendars import load_calendar
from tradecrew.tools.calendar import blackout

MONDAY = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
CPI = datetime(2026, 12, 7, 13, 30, tzinfo=UTC)  # 08:30 New York (-05:00)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[FakeCalendarFeed]:
    srv = FakeCalendarFeed(week_feed(MONDAY)).start()
    yield srv
    srv.stop()


def feed(server: FakeCalendarFeed, tmp_path: Path, clock: Clock | None = None) -> ForexFeed:
    return ForexFeed(
        server.feed_url,
        tmp_path / "cache",
        ttl_seconds=600,
        attempts=3,
        max_wait=5,
        clock=clock or Clock(),
        sleep=lambda s: None,
    )


def test_a_good_feed_becomes_utc_events_labelled_with_their_source(
    server: FakeCalendarFeed, tmp_path: Path
) -> None:
    events = feed(server, tmp_path).events()
    assert [e.currency for e in events] == ["USD", "EUR", "USD", "GBP", "JPY", "CAD"]
    cpi = events[0]
    assert cpi.time == CPI and cpi.impact == "high" and cpi.title == "Core CPI m/m"
    assert cpi.source == "forex_feed" and not cpi.sample
    assert (cpi.forecast, cpi.previous) == ("0.3%", "0.2%")
    assert events[3].impact == "holiday"  # kept, never a blackout (not high impact)


def test_a_cached_feed_within_its_ttl_makes_no_request(
    server: FakeCalendarFeed, tmp_path: Path
) -> None:
    clock = Clock()
    first = feed(server, tmp_path, clock).events()
    clock.now += 599
    again = feed(server, tmp_path, clock).events()  # a new process: the copy on disk
    assert again == first and server.requests == 1
    clock.now += 2
    feed(server, tmp_path, clock).events()
    assert server.requests == 2


def test_429_with_retry_after_is_retried_after_the_asked_wait(
    server: FakeCalendarFeed, tmp_path: Path
) -> None:
    waits: list[float] = []
    server.fail_next(429, b"slow down", {"Retry-After": "2"})
    source = ForexFeed(server.feed_url, None, attempts=3, max_wait=5, sleep=waits.append)
    assert len(source.events()) == 6
    assert waits == [2.0] and server.requests == 2


def test_429_asking_longer_than_allowed_fails_at_once_naming_the_feed(
    server: FakeCalendarFeed, tmp_path: Path
) -> None:
    server.fail_next(429, b"", {"Retry-After": "3600"})
    with pytest.raises(SourceUnavailable, match=r"forex_feed: rate limited \(429\).*3600"):
        feed(server, tmp_path).events()
    assert server.requests == 1


def test_server_errors_are_retried_then_reported(server: FakeCalendarFeed, tmp_path: Path) -> None:
    for _ in range(3):
        server.fail_next(503)
    with pytest.raises(SourceUnavailable, match="forex_feed: HTTP 503"):
        feed(server, tmp_path).events()
    assert server.requests == 3
    server.fail_next(502)
    assert len(feed(server, tmp_path).events()) == 6  # one retry then the feed


def test_malformed_json_is_an_outage_not_an_empty_week(
    server: FakeCalendarFeed, tmp_path: Path
) -> None:
    server.fail_next(200, b"<html>maintenance</html>")
    with pytest.raises(SourceUnavailable, match=r"malformed reply.*not JSON"):
        feed(server, tmp_path).events()
    server.fail_next(200, b'{"events": 3}')
    with pytest.raises(SourceUnavailable, match="expected a list"):
        feed(server, tmp_path).events()
    assert not (tmp_path / "cache").exists()  # nothing bad was cached


def test_an_empty_list_is_an_outage(server: FakeCalendarFeed, tmp_path: Path) -> None:
    server.payload = []
    with pytest.raises(SourceUnavailable, match="no events"):
        feed(server, tmp_path).events()
    with pytest.raises(SourceUnavailable, match="none of 1"):
        parse_feed([{"title": "x", "country": "USD", "impact": "Bogus", "date": "2026-01-01"}])


def test_a_failed_refresh_uses_this_weeks_copy(server: FakeCalendarFeed, tmp_path: Path) -> None:
    clock = Clock()
    first = feed(server, tmp_path, clock).events()
    clock.now += 3600
    for _ in range(3):
        server.fail_next(500)
    assert feed(server, tmp_path, clock).events() == first
    clock.now += 8 * 24 * 3600  # last week's copy is no calendar for this week
    for _ in range(3):
        server.fail_next(500)
    with pytest.raises(SourceUnavailable):
        feed(server, tmp_path, clock).events()


def test_no_server_is_one_line_naming_the_feed(tmp_path: Path) -> None:
    source = ForexFeed("http://127.0.0.1:9/ff.json", tmp_path, attempts=1)
    with pytest.raises(SourceUnavailable, match=r"forex_feed: cannot reach http://127\.0\.0\.1:9"):
        source.events()
    with pytest.raises(ValueError, match="http"):
        ForexFeed("file:///etc/passwd")


# --------------------------------------------------------------------------- the setting


def settings_for(home: Path, **calendar: object) -> Settings:
    return Settings(home=home, components={"calendar": calendar})  # type: ignore[arg-type]


def test_the_source_setting_selects_the_feed_and_labels_blackouts(
    server: FakeCalendarFeed, tmp_path: Path
) -> None:
    cfg = settings_for(tmp_path, source="forex_feed", feed_url=server.feed_url)
    calendar = load_calendar(cfg)
    assert calendar.source == "forex_feed" and not calendar.synthetic
    check = blackout("XAUUSD", CPI - timedelta(minutes=5), calendar)
    assert check.in_blackout and check.source == "forex_feed"
    assert check.reason.endswith("(forex_feed calendar)") and "synthetic" not in check.reason
    assert not blackout("EURJPY", CPI, calendar).in_blackout  # USD only
    assert (tmp_path / "cache" / "calendar").is_dir()  # cached under TRADECREW_HOME
    load_calendar(cfg)
    assert server.requests == 1


def test_the_default_source_is_the_sample_and_stays_synthetic(tmp_path: Path) -> None:
    calendar = load_calendar(settings_for(tmp_path))
    assert calendar.synthetic and calendar.source == "sample"
    held = CalendarFile()  # the caller's reader: the file is indexed once per version
    again = load_calendar(settings_for(tmp_path), calendar_file=held)
    assert load_calendar(settings_for(tmp_path), calendar_file=held) is again
    assert again is not calendar and again.events == calendar.events  # nothing process-wide


def test_a_reader_of_another_file_is_not_used_for_the_configured_one(tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text("time,currency,impact,title\n2026-12-07T13:30Z,USD,high,CPI\n")
    calendar = load_calendar(settings_for(tmp_path, file=mine), calendar_file=CalendarFile())
    assert calendar.source == "file" and [e.title for e in calendar] == ["CPI"]


def test_openbb_calendar_through_its_python_interface(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_openbb_calendar.install(
        monkeypatch,
        [
            {"date": CPI, "country": "United States", "event": "CPI YoY", "importance": 3},
            {"date": CPI, "country": "JP", "event": "Tankan", "importance": "2"},
            {"date": CPI, "country": "Euro Area", "event": "ZEW", "currency": "EUR"},
            {"date": CPI, "country": "Atlantis", "event": "Tide", "importance": 3},
            {"date": CPI, "country": "US", "event": "NFP", "impact": "High", "consensus": 180},
        ],
    )
    cfg = settings_for(tmp_path, source="openbb", openbb_provider="fmp")
    calendar = load_calendar(cfg)
    assert [(e.currency, e.impact, e.title) for e in calendar] == [
        ("USD", "high", "CPI YoY"),
        ("JPY", "medium", "Tankan"),
        ("USD", "high", "NFP"),  # the euro row has no impact: skipped
    ]
    assert calendar.source == "openbb" and all(e.source == "openbb" for e in calendar)
    assert fake.calls[0]["provider"] == "fmp"
    assert blackout("SPX", CPI, calendar).reason.endswith("(openbb calendar)")
    assert len(load_calendar(cfg).events) == 3 and len(fake.calls) == 1  # cached


def test_openbb_failures_and_absence_name_openbb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "openbb", None)  # not installed
    cfg = settings_for(tmp_path, source="openbb")
    with pytest.raises(SourceUnavailable, match="openbb is not installed"):
        load_calendar(cfg)
    fake = fake_openbb_calendar.install(monkeypatch, [])
    with pytest.raises(SourceUnavailable, match="openbb: the calendar returned no events"):
        load_calendar(cfg)
    fake.error = RuntimeError("provider fmp: invalid API key")
    with pytest.raises(SourceUnavailable, match=r"openbb: economy\.calendar failed"):
        load_calendar(cfg)


def test_an_unknown_source_is_refused_by_the_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="source"):
        settings_for(tmp_path, source="ouija")


# --------------------------------------------------------------------------- the risk gate


def test_the_risk_gate_blacks_out_on_the_live_feed_and_names_it(
    server: FakeCalendarFeed, tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.desk.context import _blackout

    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__SOURCE", "forex_feed")
    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__FEED_URL", server.feed_url)
    get_settings.cache_clear()
    inside = _blackout("EURUSD", CPI + timedelta(minutes=10), get_settings(), live=True)
    assert inside.in_blackout and inside.source == "forex_feed" and not inside.synthetic
    assert inside.off is None and inside.error is None


def test_a_live_feed_outage_refuses_new_risk_with_the_cause(
    tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.desk.context import _blackout

    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__SOURCE", "forex_feed")
    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__FEED_URL", "http://127.0.0.1:9/ff.json")
    monkeypatch.setenv("TRADECREW_DATA__MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    out = _blackout("EURUSD", CPI, get_settings(), live=True)
    assert out.error is not None and "forex_feed: cannot reach" in out.error


def test_a_live_account_is_blacked_out_by_the_feed_and_the_reason_names_it(
    server: FakeCalendarFeed, tmp_path: Path
) -> None:
    from tests.desk.helpers import Clock as DeskClock
    from tests.desk.helpers import build_desk, make_settings
    from tests.desk.test_sample_calendar import LiveLabelledPaper
    from tradecrew.models import ProposalRequest, Side

    settings = make_settings(tmp_path)
    settings.components.calendar.source = "forex_feed"
    settings.components.calendar.feed_url = server.feed_url
    desk = build_desk(tmp_path, settings, clock=DeskClock(CPI), broker_cls=LiveLabelledPaper)
    try:
        made = desk.propose(ProposalRequest(symbol="EURUSD", side=Side.BUY, quantity=1000.0))
        assert made.decision is not None
        check = next(c for c in made.decision.checks if c.name == "blackout")
    finally:
        desk.close()
    assert check.max_quantity is not None and check.max_quantity < 1000.0
    assert check.reason.startswith("event blackout (forex_feed calendar)")


def test_analyze_reads_the_selected_calendar_and_notes_an_outage(
    server: FakeCalendarFeed, tradecrew_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradecrew.agents.adapters import desk_registry
    from tradecrew.tools.catalog import AnalyzeQuery

    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__SOURCE", "forex_feed")
    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__FEED_URL", server.feed_url)
    get_settings.cache_clear()
    query = AnalyzeQuery(symbol="EURUSD", timeframe="D1", source="sample")
    report = desk_registry(get_settings())["analyze_symbol"].run(query)
    assert report.blackout is not None and report.blackout.source == "forex_feed"
    assert "(forex_feed calendar)" in report.blackout.reason
    monkeypatch.setenv("TRADECREW_COMPONENTS__CALENDAR__FEED_URL", "http://127.0.0.1:9/ff.json")
    monkeypatch.setenv("TRADECREW_DATA__MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    # The analysis stands; the calendar says why it is missing.
    down = desk_registry(get_settings())["analyze_symbol"].run(query)
    assert down.blackout is None
    assert any(n.startswith("calendar: forex_feed: cannot reach") for n in down.notes)


def test_a_planted_cache_without_the_desks_mac_is_ignored(
    server: FakeCalendarFeed, tmp_path: Path
) -> None:
    import json

    clock = Clock()
    source = feed(server, tmp_path, clock)
    assert source.cache_path is not None
    source.cache_path.parent.mkdir(parents=True)
    # An empty week (no blackouts), "fetched" now and far in the future.
    for stamp in (clock.now, clock.now + 1e9):
        source.cache_path.write_text(json.dumps({"fetched_at": stamp, "events": []}))
        assert [e.currency for e in source.events()][:1] == ["USD"]
    assert server.requests == 2
