"""The on-disk bar cache: round trips, atomic writes, unreadable files, safe paths."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradecrew.data.cache import BarCache, CachedBars
from tradecrew.models import Timeframe


def bars(n: int = 50) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC", name="timestamp")
    close = np.linspace(100.0, 120.0, n)
    df = pd.DataFrame(
        {"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1e6},
        index=index.as_unit("ns"),
    )
    df.attrs = {"symbol": "AMD", "synthetic": False, "source": "alpaca"}
    return df


@pytest.mark.parametrize("fmt", ["parquet", "npz"])
def test_a_stored_series_reads_back_identical(tmp_path: Path, fmt: str) -> None:
    cache = BarCache(tmp_path, fmt=fmt)
    entry = CachedBars(
        bars(), pd.Timestamp("2024-03-01 10:00", tz="UTC"), pd.Timestamp("2004-01-01", tz="UTC")
    )
    path = cache.store("alpaca", "AMD", Timeframe.D1, entry)
    assert path.suffix == f".{fmt}" and path.parent == tmp_path / "alpaca"
    got = cache.load("alpaca", "AMD", Timeframe.D1)
    assert got is not None
    pd.testing.assert_frame_equal(got.bars, entry.bars, check_freq=False)
    assert got.bars.attrs == {"symbol": "AMD", "synthetic": False, "source": "alpaca"}
    assert (got.fetched_at, got.since) == (entry.fetched_at, entry.since)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_nothing_cached_is_none(tmp_path: Path) -> None:
    assert BarCache(tmp_path).load("alpaca", "AMD", Timeframe.H1) is None


@pytest.mark.parametrize("fmt", ["parquet", "npz"])
def test_a_torn_file_is_treated_as_absent(tmp_path: Path, fmt: str) -> None:
    cache = BarCache(tmp_path, fmt=fmt)
    now = pd.Timestamp.now(tz="UTC")
    path = cache.store("alpaca", "AMD", Timeframe.D1, CachedBars(bars(), now, now))
    path.write_bytes(path.read_bytes()[:40])
    assert cache.load("alpaca", "AMD", Timeframe.D1) is None


def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path) -> None:
    cache = BarCache(tmp_path)
    now = pd.Timestamp.now(tz="UTC")
    cache.store("alpaca", "AMD", Timeframe.D1, CachedBars(bars(), now, now))
    broken = bars()
    broken = broken.drop(columns="volume")  # writing this fails half way
    with pytest.raises(KeyError):
        cache.store("alpaca", "AMD", Timeframe.D1, CachedBars(broken, now, now))
    got = cache.load("alpaca", "AMD", Timeframe.D1)
    assert got is not None and len(got.bars) == 50
    assert len(list((tmp_path / "alpaca").iterdir())) == 1


def test_symbols_cannot_escape_the_cache_folder(tmp_path: Path) -> None:
    cache = BarCache(tmp_path / "cache")
    path = cache.path("../..", "../../etc/passwd", Timeframe.D1)
    assert path.resolve().is_relative_to((tmp_path / "cache").resolve())
    assert "/" not in path.name


@pytest.mark.parametrize("fmt", ["parquet", "npz"])
def test_a_file_not_written_under_the_desks_key_is_treated_as_absent(
    tmp_path: Path, fmt: str
) -> None:
    mine = BarCache(tmp_path, fmt=fmt, secret=b"k" * 32)
    forger = BarCache(tmp_path, fmt=fmt, secret=b"x" * 32)
    now = pd.Timestamp.now(tz="UTC")
    forger.store("alpaca", "AMD", Timeframe.D1, CachedBars(bars(), now, now))
    assert mine.load("alpaca", "AMD", Timeframe.D1) is None
    path = mine.store("alpaca", "AMD", Timeframe.D1, CachedBars(bars(), now, now))
    assert mine.load("alpaca", "AMD", Timeframe.D1) is not None
    # Private: the file 0600, its folder 0700.
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    # A genuine file moved to another symbol's name is not that symbol's bars.
    path.rename(mine.path("alpaca", "NVDA", Timeframe.D1))
    assert mine.load("alpaca", "NVDA", Timeframe.D1) is None
