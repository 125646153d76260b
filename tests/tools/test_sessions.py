from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradecrew.tools.sessions import (
    OVERLAPS,
    SESSIONS,
    active_sessions,
    overlap_name,
    session_activity,
    session_series,
)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def overlap_hours_by_day(start: str, end: str) -> pd.Series:
    idx = pd.date_range(start, end, freq="1h", tz="UTC", inclusive="left")
    flags = session_series(idx)["london_new_york"]
    hours = flags[flags].index
    return pd.Series(hours.hour, index=hours).groupby(hours.date).agg(["min", "max", "size"])


def test_london_opens_an_hour_earlier_in_utc_during_british_summer_time() -> None:
    # 08:00 London is 07:00 UTC under BST (July) and 08:00 UTC under GMT (January).
    assert "london" in active_sessions(utc("2024-07-10T07:30")).open_sessions
    assert "london" not in active_sessions(utc("2024-01-10T07:30")).open_sessions
    assert "london" in active_sessions(utc("2024-01-10T08:30")).open_sessions
    assert "london" not in active_sessions(utc("2024-07-10T16:30")).open_sessions
    assert "london" in active_sessions(utc("2024-01-10T16:30")).open_sessions


def test_london_new_york_overlap_widens_while_only_the_us_has_changed_clocks() -> None:
    # 2024: US clocks go forward on 10 March, UK clocks on 31 March.
    # Winter: NY 08:00 EST = 13:00 UTC to London 17:00 GMT = 17:00 UTC -> 13..16 (4 bars).
    # Gap: NY 08:00 EDT = 12:00 UTC to 17:00 UTC -> 12..16 (5 bars).
    # Summer: 12:00 UTC to London 17:00 BST = 16:00 UTC -> 12..15 (4 bars).
    days = overlap_hours_by_day("2024-03-04", "2024-04-06")
    before = days.loc[[pd.Timestamp(d).date() for d in ("2024-03-04", "2024-03-08")]]
    gap = days.loc[[pd.Timestamp(d).date() for d in ("2024-03-11", "2024-03-20", "2024-03-29")]]
    after = days.loc[[pd.Timestamp(d).date() for d in ("2024-04-01", "2024-04-05")]]
    assert (before["min"] == 13).all() and (before["max"] == 16).all()
    assert (gap["min"] == 12).all() and (gap["max"] == 16).all() and (gap["size"] == 5).all()
    assert (after["min"] == 12).all() and (after["max"] == 15).all()
    gap_days = [d for d, row in days.iterrows() if row["size"] == 5]
    assert min(gap_days) == pd.Timestamp("2024-03-11").date()
    assert max(gap_days) == pd.Timestamp("2024-03-29").date()


def test_autumn_gap_when_europe_falls_back_a_week_before_the_us() -> None:
    # 2024: UK clocks go back on 27 October, US clocks on 3 November.
    days = overlap_hours_by_day("2024-10-21", "2024-11-09")
    sizes = {str(d): int(n) for d, n in days["size"].items()}
    assert sizes["2024-10-25"] == 4
    assert all(sizes[f"2024-10-{d}"] == 5 for d in (28, 29, 30, 31))
    assert sizes["2024-11-01"] == 5
    assert (
        sizes["2024-11-04"] == 4 and int(days.loc[pd.Timestamp("2024-11-04").date(), "min"]) == 13
    )


def test_sydney_follows_southern_hemisphere_daylight_saving() -> None:
    # 07:00 Sydney is 20:00 UTC the day before under AEDT (January), 21:00 UTC under AEST (July).
    assert "sydney" in active_sessions(utc("2024-01-09T20:30")).open_sessions
    assert "sydney" not in active_sessions(utc("2024-07-09T20:30")).open_sessions
    assert "sydney" in active_sessions(utc("2024-07-09T21:30")).open_sessions


def test_weekend_is_closed_and_the_week_opens_sunday_five_pm_new_york() -> None:
    saturday = active_sessions(utc("2024-07-13T12:00"))
    assert not saturday.market_open and saturday.open_sessions == []
    # Summer: 17:00 EDT = 21:00 UTC.
    assert not active_sessions(utc("2024-07-14T20:59")).market_open
    assert active_sessions(utc("2024-07-14T21:00")).market_open
    assert active_sessions(utc("2024-07-12T20:59")).market_open
    assert not active_sessions(utc("2024-07-12T21:00")).market_open
    # Winter: 17:00 EST = 22:00 UTC.
    assert not active_sessions(utc("2024-01-14T21:30")).market_open
    assert active_sessions(utc("2024-01-14T22:00")).market_open
    assert saturday.market_opens_at == utc("2024-07-14T21:00")
    assert saturday.next_open == utc("2024-07-14T21:00")
    assert saturday.next_open_session == "sydney"
    assert saturday.next_close is None and saturday.minutes_to_close is None


def test_no_saturday_sydney_session_on_friday_evening() -> None:
    # Friday 21:30 UTC in January is Saturday 08:30 in Sydney while New York is still open.
    state = active_sessions(utc("2024-01-12T21:30"))
    assert state.market_open and state.open_sessions == ["new_york"]


def test_next_close_and_minutes_to_close_during_the_london_new_york_overlap() -> None:
    state = active_sessions(utc("2024-07-10T15:30"))
    assert state.open_sessions == ["london", "new_york"]
    assert state.overlaps == ["london_new_york"]
    assert state.next_close == utc("2024-07-10T16:00") and state.next_close_session == "london"
    assert state.minutes_to_close == pytest.approx(30.0)
    assert state.market_closes_at == utc("2024-07-12T21:00")
    assert state.next_open == utc("2024-07-10T21:00") and state.next_open_session == "sydney"


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2030, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0, tzinfo=UTC)
    )
)
def test_point_in_time_state_agrees_with_vectorised_flags(ts: datetime) -> None:
    state = active_sessions(ts)
    row = session_series(pd.DatetimeIndex([ts]))
    assert bool(row["market_open"].iloc[0]) == state.market_open
    assert [s for s in SESSIONS if row[s].iloc[0]] == state.open_sessions
    assert [overlap_name(a, b) for a, b in OVERLAPS if row[overlap_name(a, b)].iloc[0]] == (
        state.overlaps
    )
    if state.next_close is not None:
        assert state.next_close > ts
        just_before = session_series(pd.DatetimeIndex([state.next_close - timedelta(minutes=1)]))
        assert bool(just_before[state.next_close_session].iloc[0])
        assert not bool(
            session_series(pd.DatetimeIndex([state.next_close]))[state.next_close_session].iloc[0]
        )
    assert state.next_open is not None and state.next_open > ts
    assert bool(
        session_series(pd.DatetimeIndex([state.next_open]))[state.next_open_session].iloc[0]
    )


def test_session_flags_are_the_same_on_a_prefix() -> None:
    idx = pd.date_range("2024-03-01", periods=24 * 40, freq="1h", tz="UTC")
    full = session_series(idx)
    for cut in (1, 17, 500, 959):
        pd.testing.assert_frame_equal(session_series(idx[:cut]), full.iloc[:cut])


def test_times_without_a_zone_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        active_sessions(datetime(2024, 1, 1, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        session_series(pd.date_range("2024-01-01", periods=3, freq="1h"))
    with pytest.raises(TypeError):
        session_series(pd.RangeIndex(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        active_sessions("2024-01-01T12:00Z")  # type: ignore[arg-type]


def test_eurusd_is_busiest_in_the_london_new_york_overlap(eurusd_h1: pd.DataFrame) -> None:
    activity = session_activity(eurusd_h1)
    by_range = max(activity.segments, key=lambda s: s.tr_ratio or 0.0)
    assert by_range.name == "london_new_york"
    assert activity.most_active == "london_new_york"
    assert all(0.0 <= s.score <= 1.0 for s in activity.segments)
    assert max(s.score for s in activity.segments) == pytest.approx(1.0)
    # The quiet hours after New York closes rank below the overlap and below London.
    scores = {s.name: s.score for s in activity.segments}
    assert scores["sydney"] < scores["london"] < scores["london_new_york"]


def _bars(index: pd.DatetimeIndex, ranges: np.ndarray, volume: np.ndarray) -> pd.DataFrame:
    close = np.full(len(index), 100.0)
    return pd.DataFrame(
        {
            "open": close,
            "high": close + ranges / 2,
            "low": close - ranges / 2,
            "close": close,
            "volume": volume,
        },
        index=index.rename("timestamp"),
    )


def test_activity_finds_the_session_where_ranges_are_wide() -> None:
    idx = pd.date_range("2024-02-05", periods=24 * 5, freq="1h", tz="UTC")
    flags = session_series(idx)
    tokyo_only = flags["tokyo"] & ~flags["sydney"] & ~flags["london"]
    ranges = np.where(tokyo_only, 2.0, 0.5)
    activity = session_activity(_bars(idx, ranges, np.zeros(len(idx))))
    seg = {s.name: s for s in activity.segments}
    assert activity.most_active == "tokyo"
    assert all(s.volume_ratio is None for s in activity.segments)  # no volume in the data
    # The last bar (Friday 23:00 UTC) is after the week closed: nothing is current.
    assert activity.current == [] and activity.current_score == 0.0
    assert seg["tokyo"].tr_ratio > 1.0 > seg["new_york"].tr_ratio


def test_current_score_is_the_score_of_the_open_overlap() -> None:
    idx = pd.date_range("2024-02-05", "2024-02-06 14:00", freq="1h", tz="UTC")
    rng = np.random.default_rng(3)
    activity = session_activity(_bars(idx, rng.uniform(0.5, 1.5, len(idx)), np.ones(len(idx))))
    assert activity.current == ["london", "new_york", "london_new_york"]
    scores = {s.name: s.score for s in activity.segments}
    assert activity.current_score == scores["london_new_york"]


def test_activity_rejects_daily_bars_and_bad_frames(xauusd_d1: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="intraday"):
        session_activity(xauusd_d1)
    idx = pd.date_range("2024-02-05", periods=10, freq="1h", tz="UTC")
    bars = _bars(idx, np.ones(10), np.ones(10))
    with pytest.raises(ValueError):
        session_activity(bars.iloc[:1])
    broken = bars.copy()
    broken.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        session_activity(broken)
    with pytest.raises(ValueError):
        session_activity(bars.drop(columns="volume"))
    with pytest.raises(ValueError, match="timezone-aware"):
        session_activity(bars.tz_localize(None))
