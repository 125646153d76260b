"""PostgreSQL for tests: a fresh database per test on the cluster named by
``TRADECREW_TEST_DATABASE_URL`` (CI starts one: .ci/postgres.sh).

Unset, PostgreSQL tests skip with the reason, except in CI, where a skip would hide that the
PostgreSQL ledger never ran: there they fail.

Creating and migrating a database takes a second on a busy machine, so the tests share one
database per test session, migrated once: each test starts from its tables emptied and the
rows the migrations seed put back (what a fresh database holds). Tests of the migrations
themselves ask for a new, empty database.
"""

from __future__ import annotations

import atexit
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.engine import make_url

ENV_VAR = "TRADECREW_TEST_DATABASE_URL"
_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
_template: list[tuple[str, list[tuple[str, list[dict[str, Any]]]]]] = []


def server_url() -> str:
    """The test cluster's URL, or skip (fail in CI) when none is configured."""
    url = os.environ.get(ENV_VAR, "").strip()
    if not url:
        message = f"{ENV_VAR} is not set: no PostgreSQL to run this test against"
        if _CI:
            pytest.fail(f"{message}; CI must provide one (.ci/postgres.sh)", pytrace=False)
        pytest.skip(message)
    return url


def admin(url: str | None = None) -> Any:
    """An autocommit psycopg connection to the cluster (its test database by default)."""
    import psycopg

    parsed = make_url(url or server_url()).set(drivername="postgresql")
    return psycopg.connect(parsed.render_as_string(hide_password=False), autocommit=True)


def database_url(name: str) -> str:
    return make_url(server_url()).set(database=name).render_as_string(hide_password=False)


def _shared() -> tuple[str, list[tuple[str, list[dict[str, Any]]]]]:
    """The session's migrated database and the rows the migrations seeded, table by table."""
    if not _template:
        from sqlalchemy import select

        from tradecrew.ledger._db import ensure_schema, make_engine
        from tradecrew.ledger._orm import Base

        name = f"tc_session_{os.getpid()}_{secrets.token_hex(3)}"
        with admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        atexit.register(_drop, name)
        engine = make_engine(database_url(name))
        try:
            ensure_schema(engine)
            with engine.connect() as conn:
                seeded = [
                    (t.name, [dict(r._mapping) for r in conn.execute(select(t))])
                    for t in Base.metadata.sorted_tables
                ]
        finally:
            engine.dispose()
        _template.append((name, seeded))
    return _template[0]


def _reset(name: str, seeded: list[tuple[str, list[dict[str, Any]]]]) -> None:
    """Empty every ledger table and put the seeded rows back, as a fresh migration leaves it."""
    from sqlalchemy import create_engine, insert, text
    from sqlalchemy.pool import NullPool

    from tradecrew.ledger._orm import Base

    engine = create_engine(database_url(name), poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            for table_name, rows in seeded:
                if rows:
                    conn.execute(insert(Base.metadata.tables[table_name]), rows)
    finally:
        engine.dispose()


def _drop(name: str) -> None:
    try:
        with admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:
        pass


@contextmanager
def fresh_database(*, migrated: bool = True) -> Iterator[str]:
    """The SQLAlchemy URL of a database as a fresh migration leaves it; ``migrated=False``:
    a new, empty database, dropped again afterwards."""
    if migrated:
        name, seeded = _shared()
        _reset(name, seeded)
        yield database_url(name)
        return
    name = f"tc_{secrets.token_hex(6)}"
    with admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(name)
    finally:
        _drop(name)
