"""Switching a SQLite file to write-ahead logging while other processes may be opening it.

When two connections switch a new file to WAL at the same moment, SQLite answers "database is
locked" at once, without waiting on its busy handler; the switch is retried instead.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_fixed


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def use_wal(cursor: Any, timeout_s: float) -> None:
    """Put the database of ``cursor`` in WAL mode, retrying a lock for up to ``timeout_s``."""
    for attempt in Retrying(
        retry=retry_if_exception(_locked),
        wait=wait_fixed(0.01),
        stop=stop_after_delay(timeout_s),
        reraise=True,
    ):
        with attempt:
            cursor.execute("PRAGMA journal_mode = WAL")
