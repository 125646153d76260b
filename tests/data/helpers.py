"""Building blocks for data provider tests."""

from __future__ import annotations

import pandas as pd


class Clock:
    """A settable clock for a provider's ``clock=``: the day after the fakes' last bar, noon UTC."""

    def __init__(self) -> None:
        self.now = pd.Timestamp("2026-12-05 12:00", tz="UTC")

    def __call__(self) -> pd.Timestamp:
        return self.now
