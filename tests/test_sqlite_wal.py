"""Switching to WAL retries SQLite's immediate "database is locked", and only that."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from tradecrew.sqlite_wal import use_wal


class _Cursor:
    """A cursor whose first ``failures`` statements fail with ``error``."""

    def __init__(self, failures: int, error: str) -> None:
        self.failures, self.error, self.calls = failures, error, 0

    def execute(self, sql: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise sqlite3.OperationalError(self.error)


def test_a_locked_switch_is_retried_until_it_succeeds() -> None:
    cursor = _Cursor(3, "database is locked")
    use_wal(cursor, 5.0)
    assert cursor.calls == 4


def test_other_errors_are_not_retried() -> None:
    cursor = _Cursor(1, "disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        use_wal(cursor, 5.0)
    assert cursor.calls == 1


def test_a_lock_that_stays_is_reported_after_the_timeout() -> None:
    cursor = _Cursor(10**9, "database is locked")
    start = time.monotonic()
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        use_wal(cursor, 0.2)
    assert 0.2 <= time.monotonic() - start < 2.0


def test_a_real_file_ends_in_wal_mode(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db")
    use_wal(conn.cursor(), 1.0)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
