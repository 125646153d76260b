"""Floors the bench scripts print beside their figures, measured in the same run: machines
here differ about 2x from one another, so an absolute figure means little alone."""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    return median_wall_cpu_ms(fn, repeat)[0]


def median_wall_cpu_ms(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``fn()`` (CPU is less disturbed by a busy machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def floor_import_pandas() -> float:
    """A fresh interpreter that imports pandas, in milliseconds."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import pandas"], check=True)
    return (time.perf_counter() - t0) * 1000


def floor_fsynced_commit(folder: str | Path) -> float:
    """One fsynced SQLite commit (WAL, synchronous=FULL), median of five, in milliseconds."""
    conn = sqlite3.connect(Path(folder) / "floor.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (v REAL)")

    def commit() -> None:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO t VALUES (1.0)")
        conn.execute("COMMIT")

    try:
        return median_ms(commit, 5)
    finally:
        conn.close()


def floor_fsynced_append(folder: str | Path) -> float:
    """One fsynced append of a short line to a file, median of thirty, in milliseconds."""
    path = Path(folder) / "floor.log"

    def append() -> None:
        with open(path, "ab") as f:
            f.write(b'{"op":1}\n')
            f.flush()
            os.fsync(f.fileno())

    return median_ms(append, 30)
