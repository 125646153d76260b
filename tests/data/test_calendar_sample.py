"""The generated sample calendar: its rules put each release where the rule says."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from tradecrew.data.calendar_sample import sample_events


def test_sample_payrolls_fall_on_the_first_friday_at_half_past_eight_new_york() -> None:
    ny = ZoneInfo("America/New_York")
    nfp = [e for e in sample_events(2020, 2024) if e.title == "US Non-Farm Payrolls"]
    assert len(nfp) == 60
    for e in nfp:
        local = e.time.astimezone(ny)
        assert local.weekday() == 4 and local.day <= 7
        assert (local.hour, local.minute) == (8, 30)
    fomc = [e for e in sample_events(2024, 2024) if e.title == "FOMC Rate Decision"]
    assert len(fomc) == 8 and all(e.impact == "high" and e.currency == "USD" for e in fomc)


def test_sample_year_range_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        sample_events(2025, 2024)
