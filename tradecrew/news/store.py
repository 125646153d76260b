"""The desk's headline history: one SQLite file under ``TRADECREW_HOME``, deduplicated.

An item is kept once however often and from however many providers it is served: it is the
same item when it has the same provider id, the same link (tracking parameters aside), or
the same headline (case, punctuation and spacing aside) published within a few days. The
first version seen is kept, with the moment the desk first saw it, so a later edit at the
source does not rewrite what a past run read. Queries are point-in-time: ``asof`` T returns
only items published strictly before T.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tradecrew.homedir import private_file
from tradecrew.news.models import Headline, StoredHeadline, news_symbol, utc
from tradecrew.sqlite_wal import use_wal

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
# The same headline this close in time is the same story served twice (a wire and a feed).
_SAME_STORY = timedelta(days=3)
_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ncid)$", re.IGNORECASE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS headlines (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    provider_id TEXT,
    source TEXT NOT NULL,
    headline TEXT NOT NULL,
    title_key TEXT NOT NULL,
    url TEXT,
    url_key TEXT,
    summary TEXT NOT NULL,
    published_us INTEGER NOT NULL,
    first_seen_us INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS headlines_provider_id
    ON headlines (provider, provider_id) WHERE provider_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS headlines_url ON headlines (url_key) WHERE url_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS headlines_title ON headlines (title_key, published_us);
CREATE TABLE IF NOT EXISTS headline_symbols (
    symbol TEXT NOT NULL,
    headline_id INTEGER NOT NULL REFERENCES headlines (id),
    PRIMARY KEY (symbol, headline_id)
) WITHOUT ROWID;
"""


def _us(ts: datetime) -> int:
    return (utc(ts) - _EPOCH) // _US


def _from_us(value: int) -> datetime:
    return _EPOCH + value * _US


def title_key(headline: str) -> str:
    """The headline as compared for duplicates: casefolded words, punctuation dropped."""
    text = unicodedata.normalize("NFKC", headline).casefold()
    return " ".join(re.findall(r"\w+", text))


def url_key(url: str | None) -> str | None:
    """The link as compared for duplicates: host without ``www.``, no fragment, no tracking
    parameters, no trailing slash, scheme ignored."""
    if not url:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    if not host:
        return None
    query = urlencode(sorted(q for q in parse_qsl(parts.query) if not _TRACKING.match(q[0])))
    return urlunsplit(("", host, parts.path.rstrip("/"), query, "")).removeprefix("//")


class HeadlineStore:
    """Headlines and the symbols they are about, in one SQLite file (WAL, safe across
    processes: every write is one immediate transaction)."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._clock = clock or (lambda: datetime.now(UTC))
        path.parent.mkdir(parents=True, exist_ok=True)
        private_file(path)
        with self._connect() as db:
            use_wal(db, 10.0)
            db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"HeadlineStore({str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            yield db
        finally:
            db.close()

    def add(self, items: Iterable[Headline]) -> list[StoredHeadline]:
        """Keep the items not seen before; returns every item as stored (a duplicate comes
        back as the version first seen, now also tagged with the new item's symbols)."""
        now = _us(self._clock())
        ids: list[int] = []
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for item in items:
                    ids.append(self._add_one(db, item, now))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return [self._load(db, i) for i in ids]

    def _add_one(self, db: sqlite3.Connection, item: Headline, now: int) -> int:
        found = self._find(db, item)
        if found is None:
            cur = db.execute(
                "INSERT INTO headlines (provider, provider_id, source, headline, title_key, url, "
                "url_key, summary, published_us, first_seen_us) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    item.provider,
                    item.provider_id,
                    item.source,
                    item.headline,
                    title_key(item.headline),
                    item.url,
                    url_key(item.url),
                    item.summary,
                    _us(item.published_at),
                    now,
                ),
            )
            found = int(cur.lastrowid or 0)
        db.executemany(
            "INSERT OR IGNORE INTO headline_symbols (symbol, headline_id) VALUES (?, ?)",
            [(s, found) for s in item.symbols],
        )
        return found

    @staticmethod
    def _find(db: sqlite3.Connection, item: Headline) -> int | None:
        if item.provider_id is not None:
            row = db.execute(
                "SELECT id FROM headlines WHERE provider = ? AND provider_id = ?",
                (item.provider, item.provider_id),
            ).fetchone()
            if row:
                return int(row[0])
        key = url_key(item.url)
        if key is not None:
            row = db.execute("SELECT id FROM headlines WHERE url_key = ?", (key,)).fetchone()
            if row:
                return int(row[0])
        at, window = _us(item.published_at), _SAME_STORY // _US
        row = db.execute(
            "SELECT id FROM headlines WHERE title_key = ? AND published_us BETWEEN ? AND ? "
            "ORDER BY published_us LIMIT 1",
            (title_key(item.headline), at - window, at + window),
        ).fetchone()
        return int(row[0]) if row else None

    def _load(self, db: sqlite3.Connection, headline_id: int) -> StoredHeadline:
        row = db.execute(
            f"SELECT {_COLUMNS} FROM headlines h WHERE h.id = ?", (headline_id,)
        ).fetchone()
        return self._row(db, row)

    @staticmethod
    def _row(db: sqlite3.Connection, row: tuple[object, ...]) -> StoredHeadline:
        symbols = [
            r[0]
            for r in db.execute(
                "SELECT symbol FROM headline_symbols WHERE headline_id = ? ORDER BY symbol",
                (row[0],),
            )
        ]
        return StoredHeadline.model_validate(
            {
                "provider": row[1],
                "provider_id": row[2],
                "source": row[3],
                "headline": row[4],
                "url": row[5],
                "summary": row[6],
                "published_at": _from_us(int(row[7])),  # type: ignore[call-overload]
                "first_seen_at": _from_us(int(row[8])),  # type: ignore[call-overload]
                "symbols": symbols,
            }
        )

    def query(
        self,
        symbol: str,
        *,
        asof: datetime | None = None,
        since: datetime | None = None,
        limit: int | None = None,
        provider: str | None = None,
    ) -> list[StoredHeadline]:
        """Items about ``symbol`` published in ``[since, asof)``, newest first. ``asof``
        defaults to now, so nothing stamped in the future is shown as news."""
        sym = news_symbol(symbol)
        end = _us(asof) if asof is not None else _us(self._clock()) + 1
        start = _us(since) if since is not None else None
        sql = (
            f"SELECT {_COLUMNS} FROM headlines h JOIN headline_symbols s ON s.headline_id = h.id "
            "WHERE s.symbol = ? AND h.published_us < ?"
        )
        args: list[object] = [sym, end]
        if start is not None:
            sql += " AND h.published_us >= ?"
            args.append(start)
        if provider is not None:
            sql += " AND h.provider = ?"
            args.append(provider)
        sql += " ORDER BY h.published_us DESC, h.id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(max(int(limit), 0))
        with self._connect() as db:
            return [self._row(db, row) for row in db.execute(sql, args).fetchall()]

    def count(self) -> int:
        with self._connect() as db:
            return int(db.execute("SELECT count(*) FROM headlines").fetchone()[0])


_COLUMNS = (
    "h.id, h.provider, h.provider_id, h.source, h.headline, h.url, h.summary, "
    "h.published_us, h.first_seen_us"
)
