"""A csv data source that gains bars while a test runs, the way a live source does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

D0 = datetime(2024, 1, 1, tzinfo=UTC)


class Feed:
    """A csv file the test appends bars to, the way a data source gains bars."""

    def __init__(self, folder: Path, symbol: str = "AAPL") -> None:
        self.path = folder / f"{symbol}_D1.csv"
        self.days = 0
        self.path.write_text("timestamp,open,high,low,close,volume\n")
        for _ in range(20):
            self.add(100, 101, 99, 100)

    def add(self, o: float, h: float, low: float, c: float, v: float = 0.0) -> datetime:
        ts = D0 + timedelta(days=self.days)
        self.days += 1
        with self.path.open("a") as f:
            f.write(f"{ts:%Y-%m-%d},{o},{h},{low},{c},{v}\n")
        return ts

    @property
    def source(self) -> str:
        return f"csv:{self.path}"
