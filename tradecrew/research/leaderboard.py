"""The discovery leaderboard: every hypothesis scored, with the evidence behind its score.

One SQLite file, ``<TRADECREW_HOME>/leaderboard.db`` (0600, in the private home). A
hypothesis scored again on the same symbol, data and range replaces its earlier row, so the
board holds each (symbol, timeframe, source, expression, range) once.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from tradecrew.homedir import private_file

__all__ = ["LeaderboardEntry", "load", "save"]

FILENAME = "leaderboard.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leaderboard (
    symbol TEXT NOT NULL, timeframe TEXT NOT NULL, source TEXT NOT NULL,
    expression TEXT NOT NULL, data_start TEXT NOT NULL, data_end TEXT NOT NULL,
    passed INTEGER NOT NULL, oos_sharpe REAL, created_at TEXT NOT NULL, entry TEXT NOT NULL,
    PRIMARY KEY (symbol, timeframe, source, expression, data_start, data_end)
)
"""


class LeaderboardEntry(BaseModel):
    """One scored hypothesis: the rule, its out-of-sample result and the guards' verdict."""

    model_config = ConfigDict(extra="forbid")

    expression: str
    origin: str = Field(description="generator or llm")
    symbol: str
    timeframe: str
    source: str
    synthetic: bool
    data_start: str
    data_end: str
    bars: int
    oos_bars: int = Field(description="bars scored out of sample (the test windows)")
    oos_sharpe: float | None = Field(description="annualised Sharpe of the OOS returns")
    oos_total_return: float
    oos_max_drawdown: float
    trades: int = Field(description="entries made in the test windows (out of sample)")
    dsr: float = Field(description="deflated Sharpe ratio for every hypothesis of the run")
    pbo: float | None = Field(description="probability of backtest overfitting of the run")
    passed: bool
    reasons: list[str] = Field(default_factory=list)
    n_trials: int
    seed: int | None
    walk_forward: str = Field(description="train/test windows, e.g. rolling 504/126")
    created_at: datetime


def _path(home: Path) -> Path:
    return home / FILENAME


def _connect(home: Path) -> sqlite3.Connection:
    path = _path(home)
    private_file(path)
    conn = sqlite3.connect(path, timeout=10.0)
    conn.execute(_SCHEMA)
    return conn


def save(home: Path, entries: list[LeaderboardEntry]) -> Path:
    """Add (or replace) ``entries``; returns the file."""
    with closing(_connect(home)) as conn, conn:
        conn.executemany(
            "INSERT OR REPLACE INTO leaderboard VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.symbol,
                    e.timeframe,
                    e.source,
                    e.expression,
                    e.data_start,
                    e.data_end,
                    int(e.passed),
                    e.oos_sharpe,
                    e.created_at.isoformat(),
                    e.model_dump_json(),
                )
                for e in entries
            ],
        )
    private_file(_path(home))  # and its journal companions
    return _path(home)


def load(home: Path, *, symbol: str | None = None, limit: int = 100) -> list[LeaderboardEntry]:
    """Entries, those that passed the guards first, then by OOS Sharpe (best first)."""
    if not _path(home).is_file():
        return []
    query = "SELECT entry FROM leaderboard"
    args: list[object] = []
    if symbol:
        query += " WHERE symbol = ?"
        args.append(symbol.upper())
    query += " ORDER BY passed DESC, oos_sharpe IS NULL, oos_sharpe DESC LIMIT ?"
    args.append(int(limit))
    with closing(_connect(home)) as conn:
        rows = conn.execute(query, args).fetchall()
    return [LeaderboardEntry.model_validate(json.loads(r[0])) for r in rows]
