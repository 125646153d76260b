"""The embedded sample calendar: events generated from fixed rules (first-Friday payrolls,
scheduled central-bank meetings...), labelled ``sample``.

An approximation of real release dates, good for offline runs and tests, not for live
trading; ``write_events_csv(sample_events(), ...)`` made the packaged ``sample_calendar.csv``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tradecrew.data.calendar_events import EconomicEvent, Impact

SAMPLE_YEARS = (2015, 2030)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


# (title, currency, impact, tz, local time, months, weekday Mon=0, nth occurrence)
_SAMPLE_RULES: tuple[tuple[str, str, Impact, str, time, tuple[int, ...], int, int], ...] = (
    (
        "US Non-Farm Payrolls",
        "USD",
        "high",
        "America/New_York",
        time(8, 30),
        tuple(range(1, 13)),
        4,
        1,
    ),
    ("US CPI", "USD", "high", "America/New_York", time(8, 30), tuple(range(1, 13)), 2, 2),
    (
        "US Retail Sales",
        "USD",
        "medium",
        "America/New_York",
        time(8, 30),
        tuple(range(1, 13)),
        2,
        3,
    ),
    (
        "FOMC Rate Decision",
        "USD",
        "high",
        "America/New_York",
        time(14, 0),
        (1, 3, 5, 6, 7, 9, 11, 12),
        2,
        3,
    ),
    (
        "ECB Rate Decision",
        "EUR",
        "high",
        "Europe/Berlin",
        time(14, 15),
        (1, 3, 4, 6, 7, 9, 10, 12),
        3,
        2,
    ),
    (
        "Eurozone CPI Flash",
        "EUR",
        "medium",
        "Europe/Berlin",
        time(11, 0),
        tuple(range(1, 13)),
        1,
        1,
    ),
    (
        "BoE Rate Decision",
        "GBP",
        "high",
        "Europe/London",
        time(12, 0),
        (2, 3, 5, 6, 8, 9, 11, 12),
        3,
        1,
    ),
    (
        "BoJ Rate Decision",
        "JPY",
        "high",
        "Asia/Tokyo",
        time(12, 0),
        (1, 3, 4, 6, 7, 9, 10, 12),
        4,
        3,
    ),
    (
        "RBA Rate Decision",
        "AUD",
        "high",
        "Australia/Sydney",
        time(14, 30),
        (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
        1,
        1,
    ),
    (
        "BoC Rate Decision",
        "CAD",
        "high",
        "America/Toronto",
        time(10, 0),
        (1, 3, 4, 6, 7, 9, 10, 12),
        2,
        2,
    ),
)


def sample_events(
    start_year: int = SAMPLE_YEARS[0], end_year: int = SAMPLE_YEARS[1]
) -> list[EconomicEvent]:
    """The deterministic sample calendar for the years given (inclusive), sorted by time.

    Rules, not real release dates: e.g. payrolls on the first Friday at 08:30 New York time,
    FOMC on the third Wednesday of its eight meeting months at 14:00 New York time.
    """
    if start_year > end_year:
        raise ValueError(f"start_year {start_year} is after end_year {end_year}")
    events = []
    for year in range(start_year, end_year + 1):
        for title, ccy, impact, tz, at, months, weekday, nth in _SAMPLE_RULES:
            for month in months:
                day = _nth_weekday(year, month, weekday, nth)
                when = datetime.combine(day, at, ZoneInfo(tz)).astimezone(UTC)
                events.append(
                    EconomicEvent(time=when, currency=ccy, impact=impact, title=title, sample=True)
                )
    return sorted(events, key=lambda e: (e.time, e.currency, e.title))
