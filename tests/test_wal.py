"""Background WAL checkpoints: pages reach the database file once commits pause, or once the
log is too big, and never from inside a commit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, text

from tradecrew.brokers.paper import PaperBroker
from tradecrew.ledger import Ledger
from tradecrew.wal import Checkpointer, no_autocheckpoint


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")

    @event.listens_for(eng, "connect")
    def _wal(dbapi_conn: object, _record: object) -> None:
        dbapi_conn.execute("PRAGMA journal_mode = WAL")  # type: ignore[attr-defined]
        no_autocheckpoint(dbapi_conn)

    with eng.begin() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
    yield eng
    eng.dispose()


def _database_bytes(engine: Engine) -> int:
    return Path(str(engine.url.database)).stat().st_size


def _write(engine: Engine, rows: int) -> None:
    for _ in range(rows):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (:x)"), {"x": "x" * 2000})


def _eventually(check: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_without_a_checkpointer_pages_stay_in_the_log(engine: Engine) -> None:
    before = _database_bytes(engine)
    _write(engine, 50)
    time.sleep(0.3)
    assert _database_bytes(engine) == before


def test_pages_reach_the_database_once_commits_pause(engine: Engine) -> None:
    before = _database_bytes(engine)
    keeper = Checkpointer(engine, quiet_for=0.05)
    try:
        _write(engine, 50)
        assert _eventually(lambda: _database_bytes(engine) > before)
    finally:
        keeper.stop()


def test_a_steady_flow_is_checkpointed_when_the_log_passes_its_limit(engine: Engine) -> None:
    before = _database_bytes(engine)
    keeper = Checkpointer(engine, quiet_for=3600.0, max_wal_bytes=1)
    try:
        _write(engine, 20)
        assert _eventually(lambda: _database_bytes(engine) > before)
    finally:
        keeper.stop()


def test_a_busy_log_under_its_limit_waits_for_a_pause(engine: Engine) -> None:
    before = _database_bytes(engine)
    keeper = Checkpointer(engine, quiet_for=3600.0)
    try:
        _write(engine, 20)
        time.sleep(0.3)
        assert _database_bytes(engine) == before
    finally:
        keeper.stop()


def test_the_ledger_and_the_paper_venue_leave_checkpoints_to_the_background(
    tmp_path: Path,
) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    broker = PaperBroker(tmp_path / "paper.db")
    try:
        for engine in (ledger._engine, broker._engine):
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        before = _database_bytes(ledger._engine)
        for i in range(30):
            ledger.audit("alice", "note.added", "note", str(i), None, {"text": "x" * 2000})
        assert _eventually(lambda: _database_bytes(ledger._engine) > before)
    finally:
        ledger.close()
        broker.close()
