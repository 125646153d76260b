"""The llm backend's ratings kept on disk, so a headline is paid for once per model.

A rating is keyed by a hash of the prompt version, the model name and the exact text; only
ratings that passed validation are stored (a fallback is never cached, so the next run asks
again). The file sits under TRADECREW_HOME, 0600 like the desk's other databases.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from tradecrew.homedir import private_file

# Bump when the prompt or the answer's meaning changes: older ratings are then not reused.
PROMPT_VERSION = "2"

_SCHEMA = """CREATE TABLE IF NOT EXISTS ratings (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, score REAL NOT NULL, confidence REAL,
    created_at TEXT NOT NULL)"""


def rating_key(model: str, text: str) -> str:
    raw = "\x00".join((PROMPT_VERSION, model, text)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()


class RatingCache:
    """score and confidence per (model, text); use as a context manager."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        private_file(path)
        self._db = sqlite3.connect(path, timeout=10.0)
        self._db.execute(_SCHEMA)

    def get(self, model: str, texts: Iterable[str]) -> dict[str, tuple[float, float | None]]:
        """The cached ratings of ``texts`` (absent ones are left out), by text."""
        by_key = {rating_key(model, t): t for t in texts}
        found: dict[str, tuple[float, float | None]] = {}
        keys = list(by_key)
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT key, score, confidence FROM ratings WHERE key IN ({marks})",
                chunk,
            )
            for key, score, confidence in rows:
                found[by_key[key]] = (float(score), confidence)
        return found

    def put(self, model: str, ratings: dict[str, tuple[float, float | None]]) -> None:
        now = datetime.now(UTC).isoformat()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO ratings VALUES (?, ?, ?, ?, ?)",
                [(rating_key(model, t), model, s, c, now) for t, (s, c) in ratings.items()],
            )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> RatingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
