"""Forex sessions (Sydney, Tokyo, London, New York), their overlaps and how active each is.

Session hours are local wall-clock hours, so ``zoneinfo`` makes them follow each city's own
daylight-saving calendar (the London/New York overlap moves in the weeks when only one side has
changed clocks). A session counts only on its own local weekdays and while the forex week is
open: from Sunday 17:00 to Friday 17:00 New York time. Public holidays are not modelled.
A bar belongs to the sessions open at its timestamp (the bar's open time).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import talib
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.tools._ohlcv import last_timestamp, ohlcv_arrays


class SessionHours(NamedTuple):
    """One trading session: local opening hours in its own time zone."""

    tz: str
    open: time
    close: time


SESSION_HOURS: dict[str, SessionHours] = {
    "sydney": SessionHours("Australia/Sydney", time(7, 0), time(16, 0)),
    "tokyo": SessionHours("Asia/Tokyo", time(9, 0), time(18, 0)),
    "london": SessionHours("Europe/London", time(8, 0), time(17, 0)),
    "new_york": SessionHours("America/New_York", time(8, 0), time(17, 0)),
}
SESSIONS: tuple[str, ...] = tuple(SESSION_HOURS)
OVERLAPS: tuple[tuple[str, str], ...] = tuple(itertools.combinations(SESSIONS, 2))

FOREX_WEEK_TZ = "America/New_York"
FOREX_WEEK_OPEN = time(17, 0)  # Sunday, New York
FOREX_WEEK_CLOSE = time(17, 0)  # Friday, New York

_FRIDAY, _SATURDAY, _SUNDAY = 4, 5, 6


def overlap_name(a: str, b: str) -> str:
    """Column / label of the overlap of two sessions, e.g. ``london_new_york``."""
    return f"{a}_{b}"


class SessionState(BaseModel):
    """Which sessions are open at one instant and when that changes next."""

    model_config = ConfigDict(extra="forbid")

    timestamp: datetime
    market_open: bool
    open_sessions: list[str]
    overlaps: list[str]
    next_open: datetime | None = Field(None, description="next time a session opens")
    next_open_session: str | None = None
    next_close: datetime | None = Field(None, description="first close among open sessions")
    next_close_session: str | None = None
    minutes_to_close: float | None = None
    market_opens_at: datetime | None = Field(None, description="set while the week is closed")
    market_closes_at: datetime | None = Field(None, description="set while the week is open")


class SegmentActivity(BaseModel):
    """Activity of one session or overlap relative to all bars."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["session", "overlap"]
    bars: int
    tr_ratio: float | None = Field(None, description="mean true range / overall mean")
    volume_ratio: float | None = Field(None, description="mean volume / overall mean")
    score: float = Field(ge=0.0, le=1.0, description="activity scaled so the busiest is 1")


class SessionActivity(BaseModel):
    """How busy each session and overlap has been, and the score of the one open now."""

    model_config = ConfigDict(extra="forbid")

    timestamp: datetime
    bars: int
    segments: list[SegmentActivity]
    most_active: str
    current: list[str]
    current_score: float = Field(ge=0.0, le=1.0)


# --------------------------------------------------------------------------- point in time


def _as_utc(ts: datetime | pd.Timestamp) -> datetime:
    if not isinstance(ts, datetime):
        raise TypeError(f"timestamp must be a datetime, got {type(ts).__name__}")
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise ValueError(f"timestamp {ts} must be timezone-aware (UTC preferred)")
    return pd.Timestamp(ts).tz_convert("UTC").to_pydatetime()


def _market_weeks(ts: datetime) -> list[tuple[datetime, datetime]]:
    """The forex weeks (open, close) around ``ts``: previous, current and next."""
    ny = ZoneInfo(FOREX_WEEK_TZ)
    local = ts.astimezone(ny)
    last_sunday = local.date() - timedelta(days=(local.weekday() - _SUNDAY) % 7)
    weeks = []
    for k in (-1, 0, 1):
        sunday = last_sunday + timedelta(weeks=k)
        friday = sunday + timedelta(days=5)
        weeks.append(
            (
                datetime.combine(sunday, FOREX_WEEK_OPEN, ny).astimezone(UTC),
                datetime.combine(friday, FOREX_WEEK_CLOSE, ny).astimezone(UTC),
            )
        )
    return weeks


def _session_intervals(name: str, ts: datetime) -> list[tuple[datetime, datetime]]:
    """UTC intervals when ``name`` is open (clipped to the forex week), from a day before ts."""
    hours = SESSION_HOURS[name]
    tz = ZoneInfo(hours.tz)
    day0 = ts.astimezone(tz).date()
    weeks = _market_weeks(ts)
    out = []
    for k in range(-1, 9):
        d = day0 + timedelta(days=k)
        if d.weekday() >= _SATURDAY:
            continue
        start = datetime.combine(d, hours.open, tz).astimezone(UTC)
        end = datetime.combine(d, hours.close, tz).astimezone(UTC)
        for w_open, w_close in weeks:
            lo, hi = max(start, w_open), min(end, w_close)
            if lo < hi:
                out.append((lo, hi))
    return out


def active_sessions(ts: datetime | pd.Timestamp) -> SessionState:
    """The sessions and overlaps open at ``ts`` (tz-aware) and the next open/close times."""
    now = _as_utc(ts)
    market_open, market_opens_at, market_closes_at = False, None, None
    for w_open, w_close in _market_weeks(now):
        if w_open <= now < w_close:
            market_open, market_closes_at = True, w_close
        elif w_open > now and market_opens_at is None and not market_open:
            market_opens_at = w_open
    if market_open:
        market_opens_at = None

    open_sessions: list[str] = []
    next_close: tuple[datetime, str] | None = None
    next_open: tuple[datetime, str] | None = None
    for name in SESSIONS:
        for start, end in _session_intervals(name, now):
            if start <= now < end:
                open_sessions.append(name)
                if next_close is None or end < next_close[0]:
                    next_close = (end, name)
            elif start > now and (next_open is None or start < next_open[0]):
                next_open = (start, name)
    overlaps = [
        overlap_name(a, b) for a, b in OVERLAPS if a in open_sessions and b in open_sessions
    ]
    return SessionState(
        timestamp=now,
        market_open=market_open,
        open_sessions=open_sessions,
        overlaps=overlaps,
        next_open=next_open[0] if next_open else None,
        next_open_session=next_open[1] if next_open else None,
        next_close=next_close[0] if next_close else None,
        next_close_session=next_close[1] if next_close else None,
        minutes_to_close=(next_close[0] - now).total_seconds() / 60.0 if next_close else None,
        market_opens_at=market_opens_at,
        market_closes_at=market_closes_at,
    )


# --------------------------------------------------------------------------- per bar


def _check_index(index: pd.Index) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        raise TypeError(f"expected a DatetimeIndex, got {type(index).__name__}")
    if index.tz is None:
        raise ValueError("the index must be timezone-aware (canonical frames are UTC)")
    return index


def _local_minutes(index: pd.DatetimeIndex, tz: str) -> tuple[np.ndarray, np.ndarray]:
    local = index.tz_convert(tz)
    minutes = local.hour * 60 + local.minute + local.second / 60.0
    return np.asarray(minutes, dtype=float), np.asarray(local.day_of_week)


def market_open_mask(index: pd.DatetimeIndex) -> np.ndarray:
    """True where the forex week is open (Sunday 17:00 to Friday 17:00 New York)."""
    minutes, dow = _local_minutes(_check_index(index), FOREX_WEEK_TZ)
    open_m = FOREX_WEEK_OPEN.hour * 60 + FOREX_WEEK_OPEN.minute
    close_m = FOREX_WEEK_CLOSE.hour * 60 + FOREX_WEEK_CLOSE.minute
    return (
        (dow < _FRIDAY)
        | ((dow == _FRIDAY) & (minutes < close_m))
        | ((dow == _SUNDAY) & (minutes >= open_m))
    )


def session_series(index: pd.DatetimeIndex) -> pd.DataFrame:
    """Per-timestamp booleans: market_open, each session and each overlap (vectorised)."""
    index = _check_index(index)
    market = market_open_mask(index)
    out: dict[str, np.ndarray] = {"market_open": market}
    for name, hours in SESSION_HOURS.items():
        minutes, dow = _local_minutes(index, hours.tz)
        lo = hours.open.hour * 60 + hours.open.minute
        hi = hours.close.hour * 60 + hours.close.minute
        out[name] = market & (dow < _SATURDAY) & (minutes >= lo) & (minutes < hi)
    for a, b in OVERLAPS:
        out[overlap_name(a, b)] = out[a] & out[b]
    frame = pd.DataFrame(out, index=index)
    frame["n_open"] = frame[list(SESSIONS)].sum(axis=1).astype("int64")
    return frame


# --------------------------------------------------------------------------- activity


def session_activity(df: pd.DataFrame) -> SessionActivity:
    """Score each session and overlap by mean true range and volume relative to all bars.

    Each ratio is a segment mean over the mean of all bars; the score averages the ratios
    (true range only when there is no volume) and divides by the largest, so 1 is the busiest.
    """
    _, high, low, close, volume = ohlcv_arrays(df, 2, "session_activity")
    index = _check_index(df.index)
    step = pd.Series(index).diff().median()
    if step > pd.Timedelta(hours=4):
        raise ValueError(f"session activity needs intraday bars (4h or finer), got {step}")

    tr = talib.TRANGE(high, low, close)
    valid = np.isfinite(tr)
    tr_mean = tr[valid].mean()
    has_volume = np.nansum(volume[valid]) > 0
    vol_mean = volume[valid].mean() if has_volume else np.nan
    flags = session_series(index)

    raw: list[tuple[str, str, int, float | None, float | None, float]] = []
    names = [(s, "session") for s in SESSIONS] + [
        (overlap_name(a, b), "overlap") for a, b in OVERLAPS
    ]
    for name, kind in names:
        mask = flags[name].to_numpy() & valid
        n = int(mask.sum())
        if n == 0:
            if kind == "session":
                raw.append((name, kind, 0, None, None, 0.0))
            continue  # an overlap that never occurs in these bars is not a segment
        tr_ratio = float(tr[mask].mean() / tr_mean) if tr_mean > 0 else 0.0
        vol_ratio = float(volume[mask].mean() / vol_mean) if has_volume else None
        level = tr_ratio if vol_ratio is None else (tr_ratio + vol_ratio) / 2.0
        raw.append((name, kind, n, tr_ratio, vol_ratio, level))

    top = max(r[5] for r in raw)
    segments = [
        SegmentActivity(
            name=name,
            kind=kind,
            bars=n,
            tr_ratio=trr,
            volume_ratio=vr,
            score=min(level / top, 1.0) if top > 0 else 0.0,
        )
        for name, kind, n, trr, vr, level in raw
    ]
    scores = {s.name: s.score for s in segments}
    last = flags.iloc[-1]
    current = [n for n, _ in names if bool(last[n])]
    # An overlap is the more specific description of "now" than either session alone.
    focus = [n for n in current if n not in SESSIONS] or current
    current_score = max((scores.get(n, 0.0) for n in focus), default=0.0)
    return SessionActivity(
        timestamp=last_timestamp(df),
        bars=len(df),
        segments=segments,
        most_active=max(segments, key=lambda s: s.score).name,
        current=current,
        current_score=current_score,
    )
