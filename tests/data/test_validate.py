from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradecrew.data import BadDataError, DataError, validate_bars
from tradecrew.data.validate import find_gaps, repair_bars


def _bars(times: list[str], rows: list[tuple[float, float, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        rows,
        columns=["open", "high", "low", "close", "volume"],
        index=pd.DatetimeIndex(pd.to_datetime(times, utc=True), name="timestamp"),
    )


GOOD = [(10, 11, 9, 10.5, 100), (10.5, 12, 10, 11, 120), (11, 11.5, 10.2, 10.4, 90)]
DAYS = ["2024-01-02", "2024-01-03", "2024-01-04"]


def test_good_bars_come_back_canonical_float64_utc() -> None:
    out = validate_bars(_bars(DAYS, GOOD), "mem")
    assert list(out.columns) == ["open", "high", "low", "close", "volume"]
    assert all(str(t) == "float64" for t in out.dtypes)
    assert str(out.index.tz) == "UTC" and out.index.name == "timestamp"
    assert out["close"].tolist() == [10.5, 11, 10.4]


@pytest.mark.parametrize(
    ("row", "bad", "problem"),
    [
        (2, (np.nan, 12, 10, 11, 120), "open is missing (NaN)"),
        (3, (11, 11.5, 10.2, np.inf, 90), "close is infinite"),
        (2, (10.5, 9, 10, 9.5, 120), "high 9.0 is below low 10.0"),
        (3, (11, 11.5, 10.2, 12, 90), "close 12.0 is outside [low 10.2, high 11.5]"),
        (1, (8, 11, 9, 10.5, 100), "open 8.0 is outside"),
        (2, (10.5, 12, 10, 11, -1), "volume -1.0 is negative"),
    ],
)
def test_each_bad_value_is_reported_with_source_row_and_problem(
    row: int, bad: tuple[float, ...], problem: str
) -> None:
    rows = list(GOOD)
    rows[row - 1] = bad  # type: ignore[assignment]
    with pytest.raises(BadDataError) as err:
        validate_bars(_bars(DAYS, rows), "prices.csv")
    assert err.value.path == "prices.csv" and err.value.row == row
    assert problem in str(err.value)
    assert str(err.value).startswith(f"bad data in prices.csv, row {row}: ")


def test_rows_map_to_file_line_numbers_when_given() -> None:
    rows = [*GOOD[:2], (11, 10, 10.2, 10.4, 90)]
    with pytest.raises(BadDataError, match="row 17"):
        validate_bars(_bars(DAYS, rows), "f.csv", rows=[5, 9, 17])


def test_duplicate_timestamp_names_both_rows() -> None:
    with pytest.raises(BadDataError) as err:
        validate_bars(_bars(["2024-01-02", "2024-01-03", "2024-01-03"], GOOD), "d.csv")
    assert err.value.row == 3
    assert "duplicate timestamp 2024-01-03" in str(err.value) and "first seen at row 2" in str(
        err.value
    )


def test_unsorted_timestamps_are_reported_not_sorted_silently() -> None:
    with pytest.raises(BadDataError) as err:
        validate_bars(_bars(["2024-01-02", "2024-01-04", "2024-01-03"], GOOD), "u.csv")
    assert err.value.row == 3 and "not sorted" in str(err.value)


def test_empty_frame_and_missing_columns_are_bad_data() -> None:
    empty = _bars([], [])
    with pytest.raises(BadDataError, match="empty"):
        validate_bars(empty, "e.csv")
    with pytest.raises(BadDataError, match=r"missing column.*volume"):
        validate_bars(_bars(DAYS, GOOD).drop(columns="volume"), "m.csv")


def test_repeated_problem_counts_the_other_rows() -> None:
    rows = [(10, 9, 10, 9.5, 1)] * 3
    with pytest.raises(BadDataError, match=r"and 2 more row\(s\)"):
        validate_bars(_bars(DAYS, rows), "x")


def test_bad_data_error_is_a_value_error_for_callers_that_catch_broadly() -> None:
    assert issubclass(BadDataError, DataError) and issubclass(DataError, ValueError)


# ----------------------------------------------------------------------------- gaps


def test_weekend_is_not_a_gap_but_a_missing_week_is() -> None:
    days = pd.bdate_range("2024-01-01", "2024-02-29", tz="UTC")
    days = days[(days < "2024-01-15") | (days >= "2024-01-22")]  # drop one whole week
    df = _bars([str(d) for d in days], [(1, 1, 1, 1, 1)] * len(days))
    gaps = find_gaps(df, "D1")
    assert len(gaps) == 1
    assert gaps[0].start == pd.Timestamp("2024-01-12", tz="UTC")
    assert gaps[0].end == pd.Timestamp("2024-01-22", tz="UTC")
    assert gaps[0].missing_bars == 5  # Mon..Fri of the dropped week


def test_forex_weekend_close_is_not_a_gap_for_hourly_bars() -> None:
    week1 = pd.date_range("2024-01-05 12:00", "2024-01-05 21:00", freq="h", tz="UTC")  # Fri
    week2 = pd.date_range("2024-01-07 22:00", "2024-01-08 06:00", freq="h", tz="UTC")  # Sun
    times = week1.append(week2)
    df = _bars([str(t) for t in times], [(1, 1, 1, 1, 1)] * len(times))
    assert find_gaps(df, "H1") == []
    assert len(find_gaps(df, "H1", skip_weekends=False)) == 1


def test_intraday_hole_is_a_gap_with_its_missing_bar_count() -> None:
    times = pd.date_range("2024-01-03 00:00", periods=10, freq="h", tz="UTC")
    times = times.delete([3, 4, 5, 6])
    df = _bars([str(t) for t in times], [(1, 1, 1, 1, 1)] * len(times))
    (gap,) = find_gaps(df, "H1")
    assert gap.missing_bars == 4
    assert find_gaps(df, "H1", factor=6) == []


def test_gaps_in_real_gold_daily_are_few(xauusd_d1: pd.DataFrame) -> None:
    # Twenty years of daily gold: holidays are not gaps, and real holes are rare.
    assert len(find_gaps(xauusd_d1, "D1")) < 10


# ----------------------------------------------------------------------------- repair


def test_repair_sorts_and_drops_duplicates_and_says_so() -> None:
    rows = [*GOOD, (10.4, 10.6, 10.1, 10.3, 5)]
    df = _bars(["2024-01-03", "2024-01-02", "2024-01-04", "2024-01-03"], rows)
    out, report = repair_bars(df)
    assert out.index.is_monotonic_increasing and not out.index.has_duplicates
    assert report.sorted and report.duplicates_dropped == 1
    assert report.rows_in == 4 and report.rows_out == 3
    # the later line for 2024-01-03 wins
    assert out.loc["2024-01-03", "close"] == 10.3
    assert any("duplicate" in c for c in report.changes)


def test_repair_without_drop_invalid_still_refuses_bad_values() -> None:
    rows = [GOOD[0], (10.5, 9, 10, 9.5, 1), GOOD[2]]
    with pytest.raises(BadDataError, match="below low"):
        repair_bars(_bars(DAYS, rows))
    out, report = repair_bars(_bars(DAYS, rows), drop_invalid=True)
    assert len(out) == 2 and report.invalid_dropped == 1


def test_repair_of_clean_data_changes_nothing() -> None:
    df = _bars(DAYS, GOOD)
    out, report = repair_bars(df)
    assert report.changes == [] and not report.sorted
    pd.testing.assert_frame_equal(out, validate_bars(df, "x"))
