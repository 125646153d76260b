"""Calendar files: reading, validating and writing them.

``load_events`` reads a CSV or JSON calendar into validated, time-sorted ``EconomicEvent``
rows and raises ``CalendarFileError`` naming the file and row for anything it cannot read;
``write_events_csv`` writes the CSV layout ``load_events`` reads. A ``CalendarFile`` is one
file (None: the packaged sample calendar) read again only when it changes: its owner (a
desk, the risk watch) keeps it, so nothing is cached for the whole process. No settings are
consulted.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tradecrew.data.calendar_events import Calendar, EconomicEvent

SAMPLE_CALENDAR = "sample_calendar.csv"
_FIELDS = (
    "time",
    "currency",
    "impact",
    "title",
    "forecast",
    "previous",
    "actual",
    "sample",
    "source",
)


class CalendarFileError(ValueError):
    """A calendar file could not be read; the message names the file, row and problem."""


# --------------------------------------------------------------------------- loading


def _row_event(raw: dict[str, Any], where: str) -> EconomicEvent:
    row = {str(k).strip().lower(): v for k, v in raw.items() if k is not None}
    if "title" not in row and "event" in row:
        row["title"] = row.pop("event")
    unknown = sorted(set(row) - set(_FIELDS))
    if unknown:
        # Counted, not named: a header line is file content.
        raise CalendarFileError(
            f"{where}: {len(unknown)} unknown column(s); the columns are {', '.join(_FIELDS)}"
        )
    row = {k: v for k, v in row.items() if not (k in ("sample", "source") and v in ("", None))}
    missing = [f for f in ("time", "currency", "impact", "title") if row.get(f) in (None, "")]
    if missing:
        raise CalendarFileError(f"{where}: missing {', '.join(missing)}")
    try:
        return EconomicEvent(**row)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise CalendarFileError(f"{where}: {problems}") from None


def load_events(path: str | Path) -> list[EconomicEvent]:
    """Events from a CSV (header row) or JSON file (a list, or ``{"events": [...]}``), by time.

    Columns: time, currency, impact (low/medium/high, any case), title or event, and optional
    forecast, previous, actual. A bad row raises CalendarFileError naming the file and row.
    """
    path = Path(path)
    if not path.is_file():
        raise CalendarFileError(f"{path}: calendar file not found")
    suffix = path.suffix.lower()
    events: list[EconomicEvent] = []
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CalendarFileError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(data, dict):
            data = data.get("events")
        if not isinstance(data, list):
            raise CalendarFileError(f"{path}: expected a list of events or {{'events': [...]}}")
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                kind = type(item).__name__
                raise CalendarFileError(f"{path}: event {i}: expected an object, got a {kind}")
            events.append(_row_event(item, f"{path}: event {i}"))
    elif suffix in (".csv", ".txt"):
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames:
                raise CalendarFileError(f"{path}: empty file, expected a header row")
            for line, raw in enumerate(reader, start=2):
                if None in raw:
                    raise CalendarFileError(f"{path}: row {line}: more values than columns")
                events.append(_row_event(raw, f"{path}: row {line}"))
    else:
        raise CalendarFileError(f"{path}: unsupported calendar format {suffix!r}; use .csv/.json")
    return sorted(events, key=lambda e: e.time)


def write_events_csv(events: Iterable[EconomicEvent], path: str | Path) -> Path:
    """Write events in the CSV layout ``load_events`` reads (used to build the sample file)."""
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(_FIELDS)
        for e in events:
            writer.writerow(
                [
                    e.time.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    e.currency,
                    e.impact,
                    e.title,
                    e.forecast or "",
                    e.previous or "",
                    e.actual or "",
                    "true" if e.sample else "",
                    e.source or "",
                ]
            )
    return path


def sample_calendar_path() -> Path:
    """Where the embedded sample calendar ships inside the package."""
    return Path(__file__).resolve().parent / SAMPLE_CALENDAR


class CalendarFile:
    """The calendar file ``configured`` (None: the packaged sample), parsed and indexed once
    per version of the file: read again when the file is replaced or written to.

    Parsing the sample (some 1,600 events) takes about 15 ms and the risk gate consults the
    calendar on every check, so whoever holds the settings (a desk, the risk watch) holds
    one of these; a caller without one reads the file anew."""

    def __init__(self, configured: Path | str | None = None) -> None:
        self.configured = Path(configured) if configured is not None else None
        self.path = self.configured if self.configured is not None else sample_calendar_path()
        self._version: tuple[int, ...] | None = None
        self._calendar: Calendar | None = None

    def __repr__(self) -> str:
        return f"CalendarFile({str(self.path)!r})"

    def calendar(self) -> Calendar:
        """The file's events, indexed; CalendarFileError or OSError when it cannot be read."""
        try:
            st = os.stat(self.path)
            # The change time too: a copy that keeps size and modification time (cp -p,
            # rsync -t, an unpacked archive) still changes it, and no one can set it back.
            version: tuple[int, ...] | None = (st.st_ctime_ns, st.st_mtime_ns, st.st_size)
        except OSError:
            version = None  # load_events below raises its clear error
        if self._calendar is None or version is None or version != self._version:
            source = "sample" if self.configured is None else "file"
            self._calendar = Calendar(load_events(self.path), source)
            self._version = version
        return self._calendar
