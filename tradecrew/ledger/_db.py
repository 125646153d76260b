"""Engine setup and schema migration for the ledger.

SQLite gets WAL (readers never block the writer), foreign keys, a busy timeout so concurrent
writers wait, and ``BEGIN IMMEDIATE`` for write transactions so two writers never deadlock
upgrading a read lock.

Durability: every commit survives a process crash (WAL). The commits that must also survive a
power cut, an order persisted before it is sent and a trading-state change, are ``durable``:
they run with ``synchronous=FULL`` and reach the disk before the desk acts on them, and with
them everything committed before (the WAL is one sequential file). The rest run with
``synchronous=NORMAL``; after a power cut the most recent of those may be missing, which the
broker reconciliation on start repairs (fills and order states come from the broker).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from tradecrew.errors import Unavailable
from tradecrew.homedir import private_file
from tradecrew.ledger.errors import DatabaseUnusable, LedgerError
from tradecrew.sqlite_wal import use_wal

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BEGIN_OPTION = "tradecrew_begin"
_ADVISORY_LOCK_KEY = 727_274_001


def make_engine(url: str, busy_timeout: float = 30.0) -> Engine:
    """An engine for ``url``; on SQLite with the pragmas above and an explicit BEGIN."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        # The URL itself is not shown: it may hold a password.
        raise DatabaseUnusable("the ledger database URL is malformed") from None
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except NoSuchModuleError:
            raise DatabaseUnusable(
                f"no database driver for {parsed.drivername!r} in the ledger database URL"
            ) from None
        except ImportError as exc:  # a known dialect whose driver package is not installed
            raise DatabaseUnusable(
                f"the {parsed.drivername!r} database driver is not installed ({exc.name or exc}); "
                "install it, or leave TRADECREW_DATABASE_URL unset for SQLite"
            ) from None
    database = parsed.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in str(parsed.query)
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": busy_timeout},
    }
    if in_memory:
        # One shared connection, or every checkout would see its own empty database.
        kwargs["poolclass"] = StaticPool
    elif not database.startswith("file:"):
        folder = Path(database).parent
        if not folder.is_dir():
            raise DatabaseUnusable(f"the SQLite ledger's folder {folder} does not exist")
        private_file(Path(database))  # the ledger is the user's alone, whatever the umask
    engine = create_engine(url, **kwargs)
    timeout_ms = int(busy_timeout * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below emit BEGIN instead of the driver guessing.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
        if not in_memory:
            use_wal(cursor, busy_timeout)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def synced(conn: Connection, durable: bool) -> Iterator[None]:
    """Within this block, SQLite commits on ``conn`` are fsynced (``durable``); the setting
    can only change between transactions, so open the block before ``begin()``."""
    if not durable or conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    # `conn.connection` revalidates an invalidated connection, so a driver connection exists.
    assert raw is not None
    raw.execute("PRAGMA synchronous = FULL")
    try:
        yield
    finally:
        raw.execute("PRAGMA synchronous = NORMAL")


def writer(engine: Engine) -> Engine:
    """The same pool, but transactions take the write lock up front (SQLite)."""
    return engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})


def alembic_config() -> Config:
    """An alembic Config built in code, pointing at the migrations shipped in the package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return cfg


# The newest migration; tests check it equals alembic's head, so opening an up-to-date
# database can skip importing alembic (a third of a second at every start).
HEAD_REVISION = "0004"


def current_revision(engine: Engine) -> str | None:
    """The schema revision stamped in the database, or None for a fresh one."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def ensure_schema(engine: Engine) -> None:
    """Migrate to head unless the database is already there. A database that cannot be
    opened is an error for the user: SQLite's (a file it may not open) is bad input, a
    server's is an outage; neither message repeats the URL (it may hold a password)."""
    try:
        revision = current_revision(engine)
    except OperationalError as exc:
        if engine.dialect.name == "sqlite":
            raise DatabaseUnusable(f"the SQLite ledger cannot be opened: {exc.orig}") from None
        raise Unavailable(
            f"the ledger database ({engine.dialect.name}) cannot be reached: "
            f"{type(exc.orig).__name__}"
        ) from None
    if revision != HEAD_REVISION:
        upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one locked transaction, so racing openers queue."""
    from alembic import command
    from alembic.util import CommandError

    cfg = alembic_config()
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, revision)
        except CommandError as exc:
            # Typically a database written by a newer tradecrew: refuse rather than guess.
            raise LedgerError(f"cannot migrate the ledger database: {exc}") from exc


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the schema back to ``revision`` (for tests and operators, never done on open)."""
    from alembic import command

    cfg = alembic_config()
    with writer(engine).begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
