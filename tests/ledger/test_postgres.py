"""The ledger on PostgreSQL: migrations, the append-only keyed audit chain, time zones, and
writers in several processes serialised by the audit head's row lock.

Backend-agnostic behaviour runs on both backends through ``ledger_url`` (test_store,
test_trading, test_composite, test_crash); these tests are PostgreSQL's own.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.ledger.helpers import make_decision, make_proposal
from tests.pgdb import admin, fresh_database
from tradecrew.ledger import ApprovalError, Ledger
from tradecrew.ledger._db import HEAD_REVISION, current_revision, downgrade, make_engine, upgrade
from tradecrew.models import TradingState, utcnow

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pg_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated PostgreSQL ledger database; the audit key and anchor in the test's home."""
    from tradecrew.config import get_settings

    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    monkeypatch.setenv("TRADECREW_HOME", str(home))
    get_settings.cache_clear()
    with fresh_database() as url:
        yield url
    get_settings.cache_clear()


def _run_all(source: str, argv: list[list[str]], timeout: float = 60) -> list[str]:
    """Run one process per argv; each imports and connects, says ``ready``, and waits for
    the word to start, given to all at once. Returns their stdout after ``ready``; a failing
    process fails the test with its stderr."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _GO + textwrap.dedent(source), *args],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in argv
    ]
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line == "ready\n", (line, proc.stderr.read() if proc.stderr else "")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, stderr
        out.append(stdout.strip())
    return out


# Every racer defines ready_then_wait(): called once it is set up, it returns on "go".
_GO = """
import sys
def ready_then_wait():
    print("ready", flush=True)
    sys.stdin.readline()
"""


def test_migrations_go_up_down_and_up_again(tmp_path: Path) -> None:
    with fresh_database(migrated=False) as url:
        engine = make_engine(url)
        try:
            assert current_revision(engine) is None
            with Ledger(url, home=tmp_path) as ledger:
                assert ledger.get_trading_state().state is TradingState.ACTIVE
            assert current_revision(engine) == HEAD_REVISION
            downgrade(engine, "base")
            with engine.connect() as conn:
                assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
                functions = conn.execute(
                    text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_append_only'")
                ).scalar()
                assert functions == 0
            upgrade(engine)
            assert current_revision(engine) == HEAD_REVISION
        finally:
            engine.dispose()


def test_first_openers_racing_on_an_empty_database_migrate_it_once(tmp_path: Path) -> None:
    opener = """
        from pathlib import Path
        from tradecrew.ledger import Ledger
        ready_then_wait()
        with Ledger(sys.argv[1], home=Path(sys.argv[2])) as ledger:
            print(ledger.get_trading_state().state.value)
    """
    with fresh_database(migrated=False) as url:
        homes = [tmp_path / f"h{i}" for i in range(2)]
        for home in homes:
            home.mkdir()
        out = _run_all(opener, [[url, str(home)] for home in homes])
        assert out == ["active"] * 2
        with admin(url) as conn:
            assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_the_database_refuses_updates_and_deletes_of_audit_rows(pg_url: str) -> None:
    import psycopg

    with Ledger(pg_url) as ledger:
        ledger.audit("test", "note.added", "note", "n1")
    with admin(pg_url) as conn:
        for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                conn.execute(statement)


def test_a_row_edited_behind_the_trigger_is_reported_at_its_seq(pg_url: str) -> None:
    with Ledger(pg_url) as ledger:
        for i in range(4):
            ledger.audit("test", "note.added", "note", f"n{i}", after={"i": i})
        assert ledger.verify_audit_chain().ok
    with admin(pg_url) as conn:
        # A superuser can switch the trigger off; the keyed chain still catches the edit.
        conn.execute("SET session_replication_role = replica")
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    with Ledger(pg_url) as ledger:
        result = ledger.verify_audit_chain()
    assert not result.ok
    assert result.first_bad_seq == 3


def test_times_round_trip_and_the_chain_verifies_whatever_the_server_time_zone(
    pg_url: str,
) -> None:
    far_east = pg_url + "?options=-c%20timezone%3DPacific/Kiritimati"
    far_west = pg_url + "?options=-c%20timezone%3DPacific/Pago_Pago"
    with Ledger(far_east) as ledger:
        proposal = ledger.add_proposal(make_proposal())
        decision = ledger.record_decision(make_decision(proposal))
        expires = utcnow() + timedelta(minutes=5)
        ledger.record_approval(proposal.id, decision.order_hash, "alice", "cli", expires)
    with Ledger(far_west) as ledger:
        stored = ledger.get_proposal(proposal.id)
        assert stored.created_at == proposal.created_at
        assert stored.created_at.utcoffset() == timedelta(0)
        (approval,) = ledger.approvals(proposal.id)
        assert approval.expires_at == expires
        # Not yet expired for a reader 13 hours behind UTC: the comparison is in UTC.
        used = ledger.consume_approval(proposal.id, decision.order_hash, "gate")
        assert used.consumed_at is not None
        result = ledger.verify_audit_chain()
        assert result.ok, result.reason


_WRITER = """
    from tradecrew.ledger import Ledger
    ledger = Ledger(sys.argv[1])
    ready_then_wait()
    for i in range(int(sys.argv[3])):
        ledger.audit("writer", "note.added", "note", f"{sys.argv[2]}-{i}")
    ledger.close()
    print("done")
"""


def test_writers_in_several_processes_extend_one_unbroken_chain(pg_url: str) -> None:
    writers, each = 3, 10
    out = _run_all(_WRITER, [[pg_url, f"w{w}", str(each)] for w in range(writers)])
    assert out == ["done"] * writers
    with Ledger(pg_url) as ledger:
        result = ledger.verify_audit_chain()
        assert result.ok, result.reason
        assert result.rows_checked == writers * each
    with admin(pg_url) as conn:
        seqs = [s for (s,) in conn.execute("SELECT seq FROM audit_log ORDER BY seq")]
    assert seqs == list(range(1, writers * each + 1))


_CONSUMER = """
    from tradecrew.ledger import ApprovalError, Ledger
    ledger = Ledger(sys.argv[1])
    ledger.get_trading_state()  # connected before the race
    ready_then_wait()
    try:
        ledger.consume_approval(sys.argv[2], sys.argv[3], sys.argv[4])
        print("used")
    except ApprovalError:
        print("refused")
    ledger.close()
"""


def test_one_approval_raced_for_by_several_processes_is_used_once(pg_url: str) -> None:
    with Ledger(pg_url) as ledger:
        proposal = ledger.add_proposal(make_proposal())
        decision = ledger.record_decision(make_decision(proposal))
        ledger.record_approval(
            proposal.id, decision.order_hash, "alice", "cli", utcnow() + timedelta(minutes=5)
        )
    racers = 3
    out = _run_all(
        _CONSUMER,
        [[pg_url, proposal.id, decision.order_hash, f"gate{i}"] for i in range(racers)],
    )
    assert sorted(out) == ["refused"] * (racers - 1) + ["used"]
    with Ledger(pg_url) as ledger:
        (approval,) = ledger.approvals(proposal.id)
        assert approval.consumed_by in {f"gate{i}" for i in range(racers)}
        with pytest.raises(ApprovalError, match="already used"):
            ledger.consume_approval(proposal.id, decision.order_hash, "late")
        assert ledger.verify_audit_chain().ok


def test_a_halt_from_another_process_is_seen_by_the_next_claim(pg_url: str) -> None:
    from tests.ledger.helpers import make_order
    from tradecrew.ledger import TradingHalted

    with Ledger(pg_url) as ledger:
        order = ledger.create_order(make_order())
        halter = """
            from tradecrew.ledger import Ledger
            ready_then_wait()
            with Ledger(sys.argv[1]) as ledger:
                ledger.set_trading_state("halted", "kill switch", "cli")
            print("halted")
        """
        assert _run_all(halter, [[pg_url]]) == ["halted"]
        with pytest.raises(TradingHalted):
            ledger.claim_order(order.id, "gate")
        assert ledger.get_order(order.id).status.value == "cancelled"
        assert ledger.verify_audit_chain().ok
