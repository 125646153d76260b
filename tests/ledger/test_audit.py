"""The hash-chained audit log: tamper evidence and correctness under concurrent writers."""

from __future__ import annotations

import itertools
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from tests.ledger.helpers import make_proposal
from tradecrew.data.audit_key import AuditKey
from tradecrew.ledger import Ledger
from tradecrew.ledger.audit import canonical_json, row_hash

REPO = Path(__file__).resolve().parents[2]


def _db_file(ledger: Ledger) -> str:
    return ledger.url.removeprefix("sqlite:///")


def _key(ledger: Ledger) -> AuditKey:
    """The key the ledger made beside its database file on first use."""
    return AuditKey((Path(_db_file(ledger)).parent / "audit.key").read_bytes().strip(), "test")


def _fill_log(ledger: Ledger, n: int = 6) -> None:
    for i in range(n):
        ledger.audit("tester", "note.added", "note", f"n{i}", None, {"i": i, "x": i / 3})


def _raw(ledger: Ledger, *statements: str) -> None:
    """Tamper as someone with the database file would: drop the guards, then edit."""
    conn = sqlite3.connect(_db_file(ledger))
    with conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for sql in statements:
            conn.execute(sql)
    conn.close()


def test_an_untouched_chain_verifies_and_links_each_row(ledger: Ledger) -> None:
    _fill_log(ledger)
    result = ledger.verify_audit_chain()
    assert result.ok and result.rows_checked == 6 and result.first_bad_seq is None
    rows = list(reversed(ledger.audit_log(10)))
    assert rows[0].prev_hash == "0" * 64
    for prev, row in itertools.pairwise(rows):
        assert row.prev_hash == prev.hash
    # The stored hash is HMAC(key, prev_hash + canonical JSON of the row), recomputed here;
    # the plain sha256 of the same text is not it.
    r = rows[2]
    content = {
        "seq": r.seq,
        "timestamp": r.timestamp,
        "actor": r.actor,
        "action": r.action,
        "entity": r.entity,
        "entity_id": r.entity_id,
        "before": r.before,
        "after": r.after,
    }
    assert r.hash == row_hash(r.prev_hash, key=_key(ledger), **content)
    assert r.hash != row_hash(r.prev_hash, key=None, **content)


def test_canonical_json_is_key_order_independent_and_refuses_nan() -> None:
    assert canonical_json({"b": 1, "a": [1.5, "é"]}) == canonical_json({"a": [1.5, "é"], "b": 1})
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_the_database_refuses_updates_and_deletes_of_audit_rows(ledger: Ledger) -> None:
    _fill_log(ledger, 2)
    conn = sqlite3.connect(_db_file(ledger))
    for sql in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    conn.close()
    assert ledger.verify_audit_chain().ok


@pytest.mark.parametrize(
    ("sql", "bad_seq", "why"),
    [
        ("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", 3, "content"),
        ('UPDATE audit_log SET after = \'{"i": 9, "x": 1.0}\' WHERE seq = 4', 4, "content"),
        (
            "UPDATE audit_log SET timestamp = '2020-01-01 00:00:00.000000' WHERE seq = 2",
            2,
            "content",
        ),
        ("DELETE FROM audit_log WHERE seq = 3", 3, "missing"),
        ("DELETE FROM audit_log WHERE seq >= 5", 5, "missing from the end"),
        ("UPDATE audit_log SET prev_hash = hash WHERE seq = 2", 2, "prev_hash"),
    ],
)
def test_tampering_is_reported_at_its_seq(ledger: Ledger, sql: str, bad_seq: int, why: str) -> None:
    _fill_log(ledger)
    _raw(ledger, sql)
    result = ledger.verify_audit_chain()
    assert not result.ok
    assert result.first_bad_seq == bad_seq
    assert why in result.reason


def test_rewriting_a_row_with_a_fresh_plain_hash_is_reported_at_that_row(
    ledger: Ledger,
) -> None:
    _fill_log(ledger)
    row = next(e for e in ledger.audit_log(10) if e.seq == 3)
    forged = row_hash(
        row.prev_hash,
        key=None,
        seq=3,
        timestamp=row.timestamp,
        actor="mallory",
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        before=row.before,
        after=row.after,
    )
    _raw(ledger, f"UPDATE audit_log SET actor = 'mallory', hash = '{forged}' WHERE seq = 3")
    result = ledger.verify_audit_chain()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "without the audit key" in result.reason


def test_free_audit_rows_need_actor_action_and_entity(ledger: Ledger) -> None:
    with pytest.raises(ValueError):
        ledger.audit("", "x", "y", "1")
    with pytest.raises(ValueError):
        ledger.audit("me", "", "y", "1")
    assert ledger.audit_count() == 0


def test_audit_log_filters_by_entity_newest_first(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    ledger.transition_proposal(proposal.id, "approved", "ok", "alice")
    _fill_log(ledger, 2)
    rows = ledger.audit_log(entity="proposal", entity_id=proposal.id)
    assert [r.action for r in rows] == ["proposal.transition", "proposal.created"]


def test_eight_threads_writing_keep_the_chain_intact(ledger: Ledger) -> None:
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(100):
                if i % 4 == 0:
                    ledger.add_proposal(make_proposal(), actor=f"thread-{t}")
                else:
                    ledger.audit(f"thread-{t}", "note.added", "note", f"{t}-{i}")
        except BaseException as exc:  # surfaced below with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    result = ledger.verify_audit_chain()
    assert result.ok, result.reason
    assert result.rows_checked == ledger.audit_count() == 800
    assert len(ledger.list_proposals(limit=1000)) == 200


_WRITER = textwrap.dedent(
    """
    import sys
    from tradecrew.ledger import Ledger
    from tradecrew.models import Proposal, Side
    ledger = Ledger(sys.argv[1])
    name = sys.argv[2]
    print("ready", flush=True)
    sys.stdin.readline()
    for i in range(100):
        if i % 5 == 0:
            ledger.add_proposal(Proposal(symbol="EURUSD", side=Side.BUY, quantity=1000),
                                actor=name)
        else:
            ledger.audit(name, "note.added", "note", f"{name}-{i}")
    ledger.close()
    """
)


def test_two_processes_writing_keep_the_chain_intact(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"  # fresh: both processes race to migrate it
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, url, f"proc-{n}"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:  # release both at once so their writes interleave
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    with Ledger(url) as ledger:
        result = ledger.verify_audit_chain()
        assert result.ok, result.reason
        assert result.rows_checked == 200
        actors = [e.actor for e in ledger.audit_log(200)]
        assert actors.count("proc-0") == actors.count("proc-1") == 100


def test_a_change_whose_audit_row_cannot_be_written_is_not_kept(ledger: Ledger) -> None:
    conn = sqlite3.connect(_db_file(ledger))
    conn.execute(
        "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END"
    )
    conn.commit()
    proposal = make_proposal()
    with pytest.raises(Exception, match="audit unavailable"):
        ledger.add_proposal(proposal)
    conn.execute("DROP TRIGGER audit_fails")
    conn.commit()
    conn.close()
    assert ledger.list_proposals() == []
    assert ledger.audit_count() == 0


def test_a_missing_chain_head_is_reported_and_writing_continues_the_chain(
    ledger: Ledger,
) -> None:
    _fill_log(ledger, 3)
    _raw(ledger, "DELETE FROM audit_head")
    result = ledger.verify_audit_chain()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "head" in result.reason
    ledger.audit("tester", "note.added", "note", "after")
    assert ledger.verify_audit_chain().ok
    assert ledger.audit_log(1)[0].seq == 4


def test_audit_images_are_stored_and_hashed_as_json_keeps_them(ledger: Ledger) -> None:
    after = {"nan": float("nan"), 2: "int key", "nested": {"inf": float("inf")}, "t": (1, 2)}
    entry = ledger.audit("alice", "note.added", "note", "n1", None, after)
    stored = ledger.audit_log(1)[0]
    expected = {"nan": None, "2": "int key", "nested": {"inf": None}, "t": [1, 2]}
    assert entry.after == stored.after == expected
    assert ledger.verify_audit_chain().ok
