"""Calendar files: reading CSV and JSON calendars with errors that name the file and row
(never its contents), and a reader that parses a file once per version."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradecrew.data.calendar_events import EconomicEvent
from tradecrew.data.calendar_file import (
    CalendarFile,
    CalendarFileError,
    load_events,
    sample_calendar_path,
)
from tradecrew.data.calendar_sample import sample_events

T0 = datetime(2024, 7, 5, 12, 30, tzinfo=UTC)


def event(
    currency: str, impact: str = "high", at: datetime = T0, title: str = "X"
) -> EconomicEvent:
    return EconomicEvent(time=at, currency=currency, impact=impact, title=title)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- loading


def test_csv_events_load_with_any_case_impact_event_alias_and_utc_times(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "cal.csv",
        "time,currency,impact,event,forecast,previous,actual\n"
        "2024-07-05T14:30:00+02:00,usd,HIGH,Non-Farm Payrolls,190K,272K,\n"
        "2024-07-04 09:00,eur,Medium,PMI,,,\n",
    )
    events = load_events(path)
    assert [e.title for e in events] == ["PMI", "Non-Farm Payrolls"]  # sorted by time
    pmi, nfp = events
    assert nfp.time == datetime(2024, 7, 5, 12, 30, tzinfo=UTC)
    assert pmi.time == datetime(2024, 7, 4, 9, 0, tzinfo=UTC)  # naive time read as UTC
    assert (nfp.currency, nfp.impact, nfp.forecast, nfp.previous, nfp.actual) == (
        "USD",
        "high",
        "190K",
        "272K",
        None,
    )
    assert not nfp.sample


def test_json_events_load_from_a_list_or_an_events_object(tmp_path: Path) -> None:
    rows = [
        {
            "time": "2024-07-05T12:30:00Z",
            "currency": "USD",
            "impact": "High",
            "title": "NFP",
            "forecast": 190,
        }
    ]
    a = load_events(write(tmp_path, "a.json", json.dumps(rows)))
    b = load_events(write(tmp_path, "b.json", json.dumps({"events": rows})))
    assert a == b and a[0].time == T0 and a[0].forecast == "190"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "time,currency,impact,title\n2024-07-05T12:30Z,USD,high,ok\n2024-07-05,USD,huge,bad\n",
            "row 3: impact",
        ),
        ("time,currency,impact,title\n2024-07-05T12:30Z,,high,NFP\n", "row 2: missing currency"),
        ("time,currency,impact,title\nyesterday,USD,high,NFP\n", "row 2: time"),
        ("time,currency,impact,title\n2024-07-05T12:30Z,US,high,NFP\n", "row 2: currency"),
        (
            "time,currency,impact,title,colour\n2024-07-05T12:30Z,USD,high,NFP,red\n",
            "row 2: 1 unknown column(s)",
        ),
        (
            "time,currency,impact,title\n2024-07-05T12:30Z,USD,high,NFP,extra\n",
            "row 2: more values than columns",
        ),
        ("time,currency,impact\n2024-07-05T12:30Z,USD,high\n", "row 2: missing title"),
        ("", "empty file"),
    ],
)
def test_bad_csv_rows_name_the_file_row_and_problem(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(CalendarFileError) as info:
        load_events(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_bad_json_and_unsupported_files_are_reported(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="not valid JSON"):
        load_events(write(tmp_path, "a.json", "{nope"))
    with pytest.raises(CalendarFileError, match="event 1: expected an object"):
        load_events(
            write(
                tmp_path,
                "b.json",
                '[{"time": "2024-01-01T00:00Z", "currency": "USD",'
                ' "impact": "low", "title": "t"}, 3]',
            )
        )
    with pytest.raises(CalendarFileError, match="event 0: impact"):
        load_events(
            write(
                tmp_path,
                "c.json",
                '[{"time": "2024-01-01T00:00Z", "currency": "USD",'
                ' "impact": "urgent", "title": "t"}]',
            )
        )
    with pytest.raises(CalendarFileError, match="expected a list"):
        load_events(write(tmp_path, "d.json", '{"rows": []}'))
    with pytest.raises(CalendarFileError, match="unsupported"):
        load_events(write(tmp_path, "e.xlsx", "x"))
    with pytest.raises(CalendarFileError, match="not found"):
        load_events(tmp_path / "missing.csv")


SECRET = "sk-live-4f9a2b7c8d1e0f3a6b5c"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("codes.txt", f"{SECRET}\n{SECRET}\n"),
        ("a.csv", f"time,currency,impact,title\n{SECRET},USD,high,NFP\n"),
        ("b.csv", f"time,currency,impact,title\n2024-07-05T12:30Z,{SECRET},high,NFP\n"),
        ("c.json", f'["{SECRET}"]'),
    ],
)
def test_calendar_errors_never_quote_the_files_contents(
    tmp_path: Path, name: str, text: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(CalendarFileError) as info:
        load_events(path)
    assert str(path) in str(info.value)
    assert SECRET[:8] not in str(info.value) and SECRET[-8:] not in str(info.value)


# --------------------------------------------------------------------------- readers


def test_shipped_sample_file_matches_its_generator() -> None:
    shipped = load_events(sample_calendar_path())
    assert shipped == sample_events()
    assert all(e.sample for e in shipped)


def test_a_calendar_file_reads_the_given_file_else_the_sample(tmp_path: Path) -> None:
    assert list(CalendarFile().calendar()) == sample_events()
    path = write(tmp_path, "mine.csv", "time,currency,impact,title\n2024-07-05T12:30Z,USD,high,N\n")
    assert list(CalendarFile(path).calendar()) == [event("USD", title="N")]


def test_a_calendar_file_is_parsed_once_per_version_and_again_when_it_changes(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "mine.csv", "time,currency,impact,title\n2024-07-05T12:30Z,USD,high,N\n")
    reader = CalendarFile(path)
    first = reader.calendar()
    assert reader.calendar() is first and first.source == "file"  # unchanged: not read again
    path.write_text(
        "time,currency,impact,title\n2024-07-05T12:30Z,USD,high,N\n2024-07-06T12:30Z,EUR,high,E\n",
        encoding="utf-8",
    )
    os.utime(path, ns=(1, 1))  # another version, whatever the clock's resolution
    second = reader.calendar()
    assert second is not first and [e.title for e in second] == ["N", "E"]


@pytest.mark.parametrize("how", ["in place", "replaced"])
def test_a_new_version_with_the_old_size_and_modification_time_is_read(
    tmp_path: Path, how: str
) -> None:
    """A blackout moved in a copy that keeps the size and the modification time (cp -p,
    rsync -t) must not leave a running desk on the old events."""
    head = "time,currency,impact,title\n"
    path = write(tmp_path, "mine.csv", head + "2024-07-05T12:30Z,USD,high,N\n")
    before = path.stat()
    reader = CalendarFile(path)
    assert [e.time.day for e in reader.calendar()] == [5]
    time.sleep(0.05)  # past the coarse clock the file system stamps changes with
    moved = head + "2024-07-06T12:30Z,USD,high,N\n"  # same size
    if how == "in place":
        path.write_text(moved, encoding="utf-8")
    else:
        (tmp_path / "new.csv").write_text(moved, encoding="utf-8")
        os.replace(tmp_path / "new.csv", path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert [e.time.day for e in reader.calendar()] == [6]


def test_readers_share_nothing(tmp_path: Path) -> None:
    """Two owners of the same file each parse it: no process-wide cache hands one's calendar
    to the other (or a deleted file's events to anyone)."""
    path = write(tmp_path, "mine.csv", "time,currency,impact,title\n2024-07-05T12:30Z,USD,high,N\n")
    one, other = CalendarFile(path), CalendarFile(path)
    assert one.calendar() is not other.calendar() and one.calendar() == one.calendar()
    path.unlink()
    with pytest.raises(CalendarFileError, match="not found"):
        one.calendar()
