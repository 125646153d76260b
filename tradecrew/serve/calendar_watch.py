"""The economic calendar for the risk watch: can it be read, and which held symbols are in
an event blackout now. Read at most once a minute; the rules are the gate's (a live account
takes no blackouts from the generated sample calendar unless the user opted in)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import datetime, timedelta

from tradecrew.config import Settings
from tradecrew.data.calendar_file import CalendarFile
from tradecrew.text import one_line

EVERY = timedelta(seconds=60)


class CalendarWatch:
    def __init__(self, settings: Settings, *, live: bool) -> None:
        self.settings = settings
        self.cfg = settings.components.calendar
        self.live = live
        self._file = CalendarFile(self.cfg.file)  # parsed again only when the file changes
        self._read_at: datetime | None = None
        self._events: tuple[object, ...] = ()
        self._times: list[datetime] = []
        self._error: str | None = None

    def _load(self, now: datetime) -> None:
        if self._read_at is not None and now - self._read_at < EVERY:
            return
        self._read_at = now
        from tradecrew.data.calendars import load_calendar
        from tradecrew.errors import Unavailable

        try:
            # The source the gate reads (sample file, the weekly forex feed, OpenBB).
            calendar = load_calendar(self.settings, calendar_file=self._file)
            if self.live and not self.cfg.sample_with_live and calendar.synthetic:
                calendar = calendar.real()
            ordered = calendar.events
            self._events, self._times, self._error = ordered, [e.time for e in ordered], None
        except (ValueError, OSError, Unavailable) as exc:
            self._events, self._times = (), []
            self._error = one_line(str(exc) or type(exc).__name__, 300)

    def error(self, now: datetime) -> str | None:
        if not self.cfg.enabled:
            return None
        self._load(now)
        return self._error

    def blackouts(self, symbols: list[str], now: datetime) -> dict[str, str]:
        if not self.cfg.enabled or not symbols:
            return {}
        self._load(now)
        if self._error or not self._events:
            return {}
        from tradecrew.tools.calendar import blackout

        # Only the events whose window can hold ``now``: years of them otherwise, per symbol.
        reach = timedelta(minutes=max(self.cfg.minutes_before, self.cfg.minutes_after) + 1)
        near = self._events[
            bisect_left(self._times, now - reach) : bisect_right(self._times, now + reach)
        ]
        if not near:
            return {}
        out: dict[str, str] = {}
        for symbol in symbols:
            try:
                check = blackout(
                    symbol,
                    now,
                    near,  # type: ignore[arg-type]
                    self.cfg.minutes_before,
                    self.cfg.minutes_after,
                    self.cfg.risk_reduction,
                    self.cfg.action,
                )
            except (ValueError, LookupError):
                continue
            if check.in_blackout:
                titles = ", ".join(f"{e.currency} {e.title}" for e in check.events[:3])
                label = " (sample calendar, synthetic)" if check.synthetic else ""
                out[symbol] = one_line(f"in an event blackout: {titles}{label}", 300)
        return out
