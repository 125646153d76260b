"""Rewriting history as someone holding the database file but not the audit key would: raw
SQL on a real SQLite ledger, then verification (and the trade path) must notice."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.ledger.helpers import make_decision, make_fill, make_order, make_proposal
from tradecrew.ledger import (
    ApprovalChannel,
    ApprovalError,
    AuditMismatch,
    Grant,
    Ledger,
    TradingHalted,
)
from tradecrew.ledger.audit import canonical_json, utc_stamp
from tradecrew.models import AgentVerdict, utcnow

Mac = Callable[[bytes], str]


def _plain(message: bytes) -> str:
    return hashlib.sha256(message).hexdigest()


def _wrong_key(message: bytes) -> str:
    return hmac.new(b"an attacker's own key, 32 bytes!", message, hashlib.sha256).hexdigest()


def _connect(ledger: Ledger) -> sqlite3.Connection:
    conn = sqlite3.connect(ledger.url.removeprefix("sqlite:///"))
    conn.row_factory = sqlite3.Row
    return conn


def _sql(ledger: Ledger, *statements: str) -> None:
    """Tamper as someone with the database file would: drop the guards, then edit."""
    conn = _connect(ledger)
    with conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for sql in statements:
            conn.execute(sql)
    conn.close()


def _rehash(ledger: Ledger, from_seq: int, mac: Mac) -> None:
    """Give every row from ``from_seq`` on a fresh hash with ``mac`` over the same text the
    ledger hashes, relink the chain and move the head row: a consistent forgery."""
    conn = _connect(ledger)
    with conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        rows = conn.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()
        prev = "0" * 64
        for row in rows:
            if row["seq"] >= from_seq:
                content = {
                    "seq": row["seq"],
                    "timestamp": utc_stamp(datetime.fromisoformat(row["timestamp"])),
                    "actor": row["actor"],
                    "action": row["action"],
                    "entity": row["entity"],
                    "entity_id": row["entity_id"],
                    "before": json.loads(row["before"]),
                    "after": json.loads(row["after"]),
                }
                if row["subject"] is not None:
                    content["subject"] = row["subject"]
                digest = mac((prev + canonical_json(content)).encode("utf-8"))
                conn.execute(
                    "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?",
                    (prev, digest, row["seq"]),
                )
                prev = digest
            else:
                prev = row["hash"]
        conn.execute("UPDATE audit_head SET seq = ?, hash = ?", (rows[-1]["seq"], prev))
    conn.close()


def _hashes(ledger: Ledger) -> dict[int, str]:
    conn = _connect(ledger)
    found = {r["seq"]: r["hash"] for r in conn.execute("SELECT seq, hash FROM audit_log")}
    conn.close()
    return found


def _notes(ledger: Ledger, n: int) -> None:
    for i in range(n):
        ledger.audit("tester", "note.added", "note", f"n{i}", None, {"i": i})


# ---------------------------------------------------------------- (a) cut tail, rewrite head


def test_a_cut_tail_with_its_head_row_rewritten_is_reported(ledger: Ledger) -> None:
    _notes(ledger, 3)
    ledger.set_trading_state("halted", "news spike", "alice")  # seq 4: cut it away
    ledger.audit("tester", "note.added", "note", "after the halt")
    kept = _hashes(ledger)[3]
    _sql(
        ledger,
        "DELETE FROM audit_log WHERE seq > 3",
        f"UPDATE audit_head SET seq = 3, hash = '{kept}'",
        "UPDATE trading_state SET state = 'active', reason = 'initial state', "
        "tripped_by = NULL, changed_by = 'system'",
    )
    result = ledger.verify_audit_chain()
    assert not result.ok
    assert any("seq 5 was anchored" in p and "4..5 were removed" in p for p in result.problems)


# ---------------------------------------------------------- (b) delete the head, write again


def test_a_cut_tail_whose_head_the_next_write_rebuilds_is_reported(ledger: Ledger) -> None:
    _notes(ledger, 6)
    _sql(ledger, "DELETE FROM audit_log WHERE seq > 4", "DELETE FROM audit_head")
    ledger.audit("tester", "note.added", "note", "rebuilt")  # continues from seq 4
    result = ledger.verify_audit_chain()
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert "differs from the one anchored" in result.reason


# --------------------------------------------------- (c) edit a row, recompute every later hash


@pytest.mark.parametrize("mac", [_plain, _wrong_key], ids=["sha256", "wrong-key"])
@pytest.mark.parametrize("from_seq", [1, 3])
def test_a_row_edited_with_every_later_hash_recomputed_is_reported(
    ledger: Ledger, mac: Mac, from_seq: int
) -> None:
    _notes(ledger, 6)
    _sql(ledger, f"UPDATE audit_log SET actor = 'mallory' WHERE seq = {from_seq}")
    _rehash(ledger, from_seq, mac)
    result = ledger.verify_audit_chain()
    assert (result.ok, result.first_bad_seq) == (False, from_seq)


def test_a_rewrite_without_the_key_after_keyed_rows_says_so(ledger: Ledger) -> None:
    _notes(ledger, 6)
    _sql(ledger, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    _rehash(ledger, 3, _plain)
    assert "without the audit key" in ledger.verify_audit_chain().reason


def test_a_log_rewritten_from_its_first_row_is_caught_by_the_anchor(ledger: Ledger) -> None:
    _notes(ledger, 6)
    _rehash(ledger, 1, _plain)  # reads as a log from before keying: only the anchor knows
    result = ledger.verify_audit_chain()
    assert (result.ok, result.first_bad_seq) == (False, 1)
    assert "anchored" in result.reason


# ------------------------------------------------------------- (d) the kill switch lifted in SQL


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE trading_state SET state = 'active'",
        "UPDATE trading_state SET state = 'active', reason = 'initial state', "
        "tripped_by = NULL, changed_by = 'system'",
        "DELETE FROM trading_state",
    ],
    ids=["state", "seed-lookalike", "deleted"],
)
def test_a_kill_switch_lifted_in_the_database_is_reported_and_blocks_orders(
    ledger: Ledger, sql: str
) -> None:
    ledger.set_trading_state("halted", "news spike", "alice")
    _sql(ledger, sql)
    result = ledger.verify_audit_chain()
    assert not result.ok
    assert any(p.startswith("trading_state row 1") for p in result.problems), result.problems
    with pytest.raises(TradingHalted, match="audit log"):
        ledger.create_order(make_order())
    assert ledger.orders() == []


# --------------------------------------------------------------- (e) an order's status edited


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("UPDATE orders SET status = 'new'", "status is 'new' but the audit log says 'cancelled'"),
        ("UPDATE orders SET quantity = 1000", "quantity is 1000.0 but the audit log says 10.0"),
        ("DELETE FROM orders", "is missing; the audit log records it"),
    ],
    ids=["status", "quantity", "deleted"],
)
def test_an_order_edited_in_the_database_is_reported(ledger: Ledger, sql: str, needle: str) -> None:
    order = ledger.create_order(make_order())
    ledger.update_order(order.id, status="cancelled", reason="user")
    _sql(ledger, sql)
    result = ledger.verify_audit_chain()
    assert not result.ok
    assert any(p.startswith(f"orders row {order.id}") and needle in p for p in result.problems)


# ------------------------------------------------------ approvals forged or reused in the database


def _stamp(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S.%f")


def test_an_approval_inserted_in_the_database_is_reported_and_never_used(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    later = _stamp(utcnow() + timedelta(hours=1))
    _sql(
        ledger,
        "INSERT INTO approvals (id, proposal_id, order_hash, actor, channel, approved_at, "
        f"expires_at) VALUES ('apv_forged', '{proposal.id}', 'h1', 'alice', 'cli', "
        f"'{_stamp(utcnow())}', '{later}')",
    )
    result = ledger.verify_audit_chain()
    assert not result.ok
    assert "approvals row apv_forged has no audit record" in result.reason
    with pytest.raises(ApprovalError, match="not trusted"):
        ledger.consume_approval(proposal.id, "h1", "gate")


def test_a_used_approval_reset_in_the_database_cannot_be_used_again(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    ledger.record_approval(proposal.id, "h1", "alice", "cli", utcnow() + timedelta(hours=1))
    ledger.consume_approval(proposal.id, "h1", "gate")
    _sql(ledger, "UPDATE approvals SET consumed_at = NULL, consumed_by = NULL")
    result = ledger.verify_audit_chain()
    assert not result.ok
    assert "consumed_at is None" in result.reason
    with pytest.raises(ApprovalError, match="not trusted"):
        ledger.consume_approval(proposal.id, "h1", "gate")


# ------------------------------------------------------------------- no false alarms


def test_a_ledger_used_the_ordinary_way_verifies_clean(ledger: Ledger) -> None:
    proposal = make_proposal()
    ledger.add_decided_proposal(proposal, make_decision(proposal, "h1"))
    ledger.record_verdict(
        proposal.id,
        AgentVerdict(verdict="shrink", quantity=5.0, reason="too big", agent="risk_manager"),
    )
    grant = Grant(
        actor="alice",
        channel=ApprovalChannel.CLI,
        expires_at=utcnow() + timedelta(1),
        order_hash="h1",
    )
    order = make_order(proposal_id=proposal.id)
    ledger.open_order(order, "h1", "gate", utcnow(), accepted=[ApprovalChannel.CLI], grant=grant)
    ledger.record_fill(make_fill(order, 4.0, 2000.0, "f1"))
    ledger.update_order(order.id, broker_order_id="B1")
    ledger.set_trading_state("halted", "drill", "alice", tripped_by="alice")
    ledger.set_trading_state("active", "drill over", "alice")
    run = ledger.start_run("crew", {"symbols": ["XAUUSD"]})
    ledger.finish_run(run.id, "succeeded", {"n": 1})
    result = ledger.verify_audit_chain()
    assert result.ok, result.problems
    assert result.anchored_seq == ledger.audit_count() == result.rows_checked


def test_state_actions_cannot_be_written_as_free_audit_rows(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="only with the change"):
        ledger.audit("mallory", "trading_state.changed", "trading_state", "1", None, {})
    assert ledger.audit_count() == 0


# ----------------------------------------------------------- ledgers from before keying


def test_a_ledger_from_before_keying_verifies_and_its_old_rows_are_then_protected(
    db_url: str, tmp_path: Path
) -> None:
    with Ledger(db_url) as ledger:
        _notes(ledger, 3)
        _rehash(ledger, 1, _plain)  # what the unkeyed chain wrote
    (tmp_path / "audit.key").unlink()
    (tmp_path / "audit-ledger.db.anchor").unlink()
    with Ledger(db_url) as ledger:
        before = ledger.verify_audit_chain()
        assert (before.ok, before.unkeyed_rows) == (True, 3)
        _notes(ledger, 2)  # seq 4 is keyed and its link commits to seq 3's plain hash
        after = ledger.verify_audit_chain()
        assert (after.ok, after.unkeyed_rows, after.rows_checked) == (True, 3, 5)
        _sql(ledger, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")
        _rehash(ledger, 2, _plain)  # the plain rows can be recomputed, but not seq 4's link
        result = ledger.verify_audit_chain()
        assert (result.ok, result.first_bad_seq) == (False, 4)


def test_a_keyed_log_whose_key_file_is_gone_gets_no_new_key(db_url: str, tmp_path: Path) -> None:
    with Ledger(db_url) as ledger:
        _notes(ledger, 1)
    (tmp_path / "audit.key").unlink()
    with pytest.raises(ValueError, match=r"audit log is keyed but .*audit\.key is missing"):
        Ledger(db_url)
    assert not (tmp_path / "audit.key").exists()


# ------------------------------------------- the order path holds the chain to its anchor


def _decided(ledger: Ledger, quantity: float = 10.0) -> str:
    proposal = make_proposal(quantity)
    ledger.add_decided_proposal(proposal, make_decision(proposal, "h1"))
    return proposal.id


def _open(ledger: Ledger, proposal_id: str | None = None) -> None:
    """An approved proposal opened as an order, the order path's own way."""
    proposal_id = proposal_id or _decided(ledger)
    grant = Grant(
        actor="alice",
        channel=ApprovalChannel.CLI,
        expires_at=utcnow() + timedelta(1),
        order_hash="h1",
    )
    order = make_order(f"cid-{proposal_id}", 10.0, proposal_id=proposal_id)
    ledger.open_order(order, "h1", "gate", utcnow(), accepted=[ApprovalChannel.CLI], grant=grant)


def _anchor(ledger: Ledger) -> Path:
    return Path(ledger.url.removeprefix("sqlite:///")).with_name("audit-ledger.db.anchor")


def test_an_erased_trade_with_an_emptied_anchor_is_reported_and_stops_orders(
    ledger: Ledger,
) -> None:
    _open(ledger)
    waiting = _decided(ledger)
    kept = ledger.audit_count()
    _open(ledger)
    _sql(
        ledger,
        "DELETE FROM orders WHERE created_at > (SELECT MIN(created_at) FROM orders)",
        "DELETE FROM approvals WHERE proposal_id NOT IN (SELECT proposal_id FROM orders)",
        f"DELETE FROM risk_decisions WHERE proposal_id NOT IN (SELECT proposal_id FROM orders "
        f"UNION SELECT '{waiting}')",
        f"DELETE FROM proposals WHERE id NOT IN (SELECT proposal_id FROM orders "
        f"UNION SELECT '{waiting}')",
        f"DELETE FROM audit_log WHERE seq > {kept}",
        f"UPDATE audit_head SET seq = {kept}, "
        f"hash = (SELECT hash FROM audit_log WHERE seq = {kept})",
    )
    _anchor(ledger).write_text("")
    result = ledger.verify_audit_chain()
    assert not result.ok
    assert any("holds no line" in p for p in result.problems), result.problems
    with pytest.raises(AuditMismatch, match=r"anchor .* holds none"):
        _open(ledger, waiting)
    assert ledger.audit_count() == kept
    assert len(ledger.orders()) == 1


def test_a_tail_cut_below_the_anchor_stops_orders(ledger: Ledger) -> None:
    _open(ledger)
    kept = ledger.audit_count()
    _open(ledger)
    _sql(
        ledger,
        f"DELETE FROM audit_log WHERE seq > {kept}",
        f"UPDATE audit_head SET seq = {kept}, "
        f"hash = (SELECT hash FROM audit_log WHERE seq = {kept})",
    )
    with pytest.raises(AuditMismatch, match="tail was removed"):
        _open(ledger)


def test_an_order_created_at_edited_in_the_database_is_reported(ledger: Ledger) -> None:
    order = ledger.create_order(make_order())
    _sql(ledger, "UPDATE orders SET created_at = '2000-01-01 00:00:00.000000'")
    result = ledger.verify_audit_chain()
    assert not result.ok
    assert any(p.startswith(f"orders row {order.id}: created_at") for p in result.problems)


def test_a_proposal_from_before_subjects_is_still_checked_by_entity(ledger: Ledger) -> None:
    """Rows written before audit rows named their proposal (subject NULL) are found by
    entity: an edit of the proposal or its decision is still refused."""
    proposal = make_proposal(1.0)
    ledger.add_decided_proposal(proposal, make_decision(proposal, "h1"))
    _sql(ledger, "UPDATE audit_log SET subject = NULL")  # as a ledger migrated to 0003 holds
    _rehash(ledger, 1, ledger._key.mac)  # what the older code wrote: no subject in the hash
    _anchor(ledger).write_text("")  # the rewrite changed hashes the anchor pinned
    ledger.audit("tester", "note.added", "note", "anchor again")
    _sql(ledger, "UPDATE risk_decisions SET approved_quantity = 5")
    grant = Grant(
        actor="alice",
        channel=ApprovalChannel.CLI,
        expires_at=utcnow() + timedelta(1),
        order_hash="h1",
    )
    order = make_order("cid-old", 1.0, proposal_id=proposal.id)
    with pytest.raises(AuditMismatch, match=r"approved_quantity is 5\.0"):
        ledger.open_order(
            order, "h1", "gate", utcnow(), accepted=[ApprovalChannel.CLI], grant=grant
        )
