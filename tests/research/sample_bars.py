"""Bars of the embedded sample provider (offline), for the research tests."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from tradecrew.data import get_provider
from tradecrew.models import Timeframe


@lru_cache(maxsize=8)
def _all(symbol: str) -> pd.DataFrame:
    return get_provider("sample").bars(symbol, Timeframe.D1)


def sample_bars(symbol: str = "SPX", last: int | None = None) -> pd.DataFrame:
    """Daily sample bars of ``symbol`` (the last ``last`` of them), a fresh copy."""
    df = _all(symbol)
    return (df.iloc[-last:] if last else df).copy()
