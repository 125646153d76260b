"""SQLite settings and alembic migrations shipped inside the package."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.ledger.helpers import make_order, make_proposal
from tradecrew.ledger import Ledger, LedgerError
from tradecrew.ledger._db import alembic_config, downgrade, make_engine, synced, upgrade
from tradecrew.ledger._orm import Base

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def test_a_fresh_database_is_migrated_to_head_on_open(db_url: str) -> None:
    with Ledger(db_url):
        pass
    assert HEAD is not None and _revision(db_url) == HEAD
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables


def test_orm_metadata_and_migrated_schema_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    assert _diff(db_url) == []


def test_schema_check_sees_a_database_left_at_base(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    downgrade(engine, "base")
    engine.dispose()
    assert _revision(db_url) is None
    assert len(_diff(db_url)) >= len(Base.metadata.tables)  # every table reported missing


def test_a_database_at_base_is_upgraded_when_opened(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    downgrade(engine, "base")
    engine.dispose()
    with Ledger(db_url) as ledger:
        proposal = ledger.add_proposal(make_proposal())
        assert ledger.get_proposal(proposal.id) == proposal
        assert ledger.verify_audit_chain().ok
    assert _revision(db_url) == HEAD and _diff(db_url) == []


def test_reopening_keeps_data_and_does_not_migrate_again(db_url: str) -> None:
    with Ledger(db_url) as ledger:
        proposal = ledger.add_proposal(make_proposal())
    with Ledger(db_url) as ledger:
        assert ledger.get_proposal(proposal.id) == proposal
        assert ledger.audit_count() == 1


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(db_url: str) -> None:
    engine = make_engine(db_url, busy_timeout=12.5)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 12500
    engine.dispose()


def test_a_synced_block_commits_with_full_sync_and_then_returns_to_normal(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        with synced(conn, True):
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            conn.rollback()
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        with synced(conn, False):
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
    engine.dispose()


def _statements(ledger: Ledger) -> list[str]:
    """Every SQL text the ledger's connections run from now on, PRAGMAs included."""
    seen: list[str] = []

    def trace(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        dbapi_conn.set_trace_callback(seen.append)

    event.listen(ledger._engine, "checkout", trace)
    return seen


def test_orders_and_trading_state_changes_are_fsynced_other_writes_are_not(db_url: str) -> None:
    with Ledger(db_url) as ledger:
        seen = _statements(ledger)
        proposal = ledger.add_proposal(make_proposal())
        assert not any("synchronous = FULL" in sql for sql in seen)
        ledger.create_order(make_order(proposal_id=proposal.id))
        assert seen.count("PRAGMA synchronous = FULL") == 1
        ledger.set_trading_state("halted", "drill", "alice")
        assert seen.count("PRAGMA synchronous = FULL") == 2
        commits = [i for i, sql in enumerate(seen) if sql == "COMMIT"]
        fulls = [i for i, sql in enumerate(seen) if sql == "PRAGMA synchronous = FULL"]
        normals = [i for i, sql in enumerate(seen) if sql == "PRAGMA synchronous = NORMAL"]
        # Each durable commit sits between its FULL and the NORMAL that follows it.
        for full, normal in zip(fulls, normals, strict=True):
            assert any(full < c < normal for c in commits)


def test_foreign_keys_are_enforced_by_the_database(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO agent_verdicts (id, proposal_id, agent, verdict, reason, created_at) "
                "VALUES ('v', 'prp_missing', 'a', 'veto', '', '2026-01-01 00:00:00')"
            )
        )
    engine.dispose()


def _hold_write_lock(path: str, seconds: float, started: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def test_a_writer_waits_for_a_busy_database_instead_of_failing(tmp_path: Path) -> None:
    path = str(tmp_path / "busy.db")
    with Ledger(f"sqlite:///{path}") as ledger:
        started = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(path, 0.5, started))
        holder.start()
        started.wait()
        t0 = time.monotonic()
        ledger.add_proposal(make_proposal())
        waited = time.monotonic() - t0
        holder.join()
        assert waited >= 0.3
        assert len(ledger.list_proposals()) == 1


def test_a_short_busy_timeout_gives_up_while_another_writer_holds_the_lock(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "busy.db")
    with Ledger(f"sqlite:///{path}", busy_timeout=0.05) as ledger:
        started = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(path, 0.6, started))
        holder.start()
        started.wait()
        with pytest.raises(OperationalError, match="locked"):
            ledger.add_proposal(make_proposal())
        holder.join()
        assert ledger.list_proposals() == []
        assert ledger.verify_audit_chain().ok


def test_a_database_from_an_unknown_newer_schema_is_refused(db_url: str) -> None:
    with Ledger(db_url):
        pass
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    engine.dispose()
    with pytest.raises(LedgerError, match="ffff_future"):
        Ledger(db_url)


def test_unusable_urls_are_refused_without_echoing_them() -> None:
    with pytest.raises(LedgerError, match="malformed") as info:
        Ledger("not a url with pa55word")
    assert "pa55word" not in str(info.value)
    with pytest.raises(LedgerError, match="no database driver"):
        Ledger("nosuchdb://user:pa55word@host/db")


def test_head_revision_constant_matches_the_migrations():
    from alembic.script import ScriptDirectory

    from tradecrew.ledger._db import HEAD_REVISION, alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION
