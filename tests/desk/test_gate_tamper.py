"""The gate against someone who can write the ledger's SQLite file but does not hold the audit
key: rows edited, deleted or forged behind the log's back are refused on the order path
(rule "integrity"), with nothing changed but the audit row of the refusal.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.desk.helpers import Clock
from tests.desk.recording_broker import RecordingBroker
from tests.desk.test_gate import grant, pending
from tradecrew.desk import Desk
from tradecrew.desk.gate import GateRefusal
from tradecrew.models import AgentVerdict, ProposalStatus
from tradecrew.risk.hashing import proposal_hash


def _sql(tmp_path: Path, *statements: str, params: tuple[object, ...] = ()) -> None:
    """Edit the ledger file as its owner can, the append-only triggers dropped first."""
    with sqlite3.connect(tmp_path / "l.db") as db:
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        db.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for sql in statements:
            db.execute(sql, params if "?" in sql else ())
    db.close()


def refused(desk: Desk, proposal_id: str, rule: str, clock: Clock) -> GateRefusal:
    """The gate refuses by ``rule``, sends nothing, and writes only its refusal's audit row."""
    rows = desk.ledger.audit_count()
    state = desk.ledger.get_trading_state()
    with pytest.raises(GateRefusal) as info:
        desk.gate.submit(proposal_id, "alice", grant(desk, proposal_id, clock))
    assert info.value.rule == rule, info.value
    assert isinstance(desk.broker, RecordingBroker)
    assert desk.broker.sent == [] and desk.broker.orders() == []
    assert desk.ledger.proposal_record(proposal_id).orders == []
    assert desk.ledger.approvals(proposal_id) == []
    assert desk.ledger.get_trading_state() == state
    assert desk.ledger.audit_count() == rows + 1
    (last,) = desk.ledger.audit_log(1)
    assert (last.action, last.after) == (
        "gate.refused",
        {"rule": rule, "reason": info.value.reason},
    )
    return info.value


# ------------------------------------------------- 1. edited terms laundered into the log


def test_terms_and_decision_edited_together_are_refused_and_verify_names_them(
    desk: Desk, clock: Clock, tmp_path: Path
) -> None:
    p = pending(desk)  # 1 XAUUSD, approved for 1
    edited = p.model_copy(update={"quantity": 5.0})
    original = desk.ledger.latest_decision(p.id)
    assert original is not None
    _sql(
        tmp_path,
        f"UPDATE proposals SET quantity = 5 WHERE id = '{p.id}'",
        "UPDATE risk_decisions SET requested_quantity = 5, approved_quantity = 5, "
        f"order_hash = '{proposal_hash(edited, 5.0)}' WHERE proposal_id = '{p.id}'",
    )
    error = refused(desk, p.id, "integrity", clock)
    assert "quantity is 5.0 but the audit log says 1.0" in error.reason
    # The decision put back, only the proposal's terms stay edited: verify still names them.
    _sql(
        tmp_path,
        "UPDATE risk_decisions SET requested_quantity = 1, approved_quantity = 1, "
        f"order_hash = '{original.order_hash}' WHERE proposal_id = '{p.id}'",
    )
    result = desk.ledger.verify_audit_chain()
    assert not result.ok
    assert any(f"proposals row {p.id}: quantity is 5.0" in x for x in result.problems)


def test_an_expiry_edited_in_the_database_is_refused_and_reported(
    desk: Desk, clock: Clock, tmp_path: Path
) -> None:
    p = pending(desk)
    _sql(
        tmp_path,
        f"UPDATE proposals SET expires_at = '2099-01-01 00:00:00.000000' WHERE id = '{p.id}'",
    )
    error = refused(desk, p.id, "integrity", clock)
    assert "expires_at" in error.reason
    result = desk.ledger.verify_audit_chain()
    assert any(f"proposals row {p.id}: expires_at" in x for x in result.problems)


# ------------------------------------------------- 2. a veto or shrink deleted in the database


@pytest.mark.parametrize(("action", "quantity"), [("veto", None), ("shrink", 1.0)])
def test_a_veto_or_shrink_deleted_in_the_database_is_refused(
    desk: Desk, clock: Clock, tmp_path: Path, action: str, quantity: float | None
) -> None:
    from tradecrew.models import ProposalRequest, Side

    p = pending(desk, ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=3.0))
    first = desk.ledger.latest_decision(p.id)
    assert first is not None
    desk.record_agent_verdict(
        p.id, AgentVerdict(verdict=action, quantity=quantity, reason="correlated book")
    )
    _sql(
        tmp_path,
        f"DELETE FROM agent_verdicts WHERE proposal_id = '{p.id}'",
        f"DELETE FROM risk_decisions WHERE proposal_id = '{p.id}' AND id != '{first.id}'",
        f"UPDATE proposals SET status = 'pending', status_reason = '' WHERE id = '{p.id}'",
    )
    assert desk.ledger.get_proposal(p.id).status is ProposalStatus.PENDING
    error = refused(desk, p.id, "integrity", clock)
    assert "the audit log" in error.reason


# ------------------------------------------ 3. a forged audit image lifting the kill switch


def test_a_forged_trading_state_image_does_not_lift_the_kill_switch(
    desk: Desk, clock: Clock, tmp_path: Path
) -> None:
    p = pending(desk)
    desk.ledger.set_trading_state("halted", "halt: suspicious activity", "alice", "kill_switch")
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(tmp_path / "l.db") as db:
        seq, head = db.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
        (after,) = db.execute(
            "SELECT after FROM audit_log WHERE entity = 'trading_state' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        image = json.loads(after)
        image.update(state="active", reason="resumed", tripped_by=None, changed_by="cli")
        image["changed_at"] = now.isoformat().replace("+00:00", "Z")
        db.execute(
            "INSERT INTO audit_log (seq, timestamp, actor, action, entity, entity_id, before, "
            "after, prev_hash, hash) VALUES (?, ?, 'cli', 'trading_state.changed', "
            "'trading_state', '1', ?, ?, ?, ?)",
            (seq + 1, stamp, after, json.dumps(image), head, "f" * 64),
        )
        db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (seq + 1, "f" * 64))
        db.execute(
            "UPDATE trading_state SET state = 'active', reason = 'resumed', tripped_by = NULL, "
            "changed_by = 'cli', changed_at = ? WHERE id = 1",
            (stamp,),
        )
    db.close()
    error = refused(desk, p.id, "kill_switch", clock)
    assert "does not check under the audit key" in error.reason


# ------------------------------------------------- 7. the daily-loss baseline edited


def test_an_edited_equity_snapshot_is_refused_and_reported(
    desk: Desk, clock: Clock, tmp_path: Path
) -> None:
    p = pending(desk)
    desk.ledger.record_account_snapshot(desk.broker.account())
    _sql(tmp_path, "UPDATE account_snapshots SET equity = 95000, cash = 95000")
    error = refused(desk, p.id, "integrity", clock)
    assert "does not match its MAC" in error.reason
    result = desk.ledger.verify_audit_chain()
    assert any("account_snapshots row" in x and "MAC" in x for x in result.problems)


# ------------------------------------------------- no false alarm


def test_an_untouched_proposal_with_a_shrink_is_sent(desk: Desk, clock: Clock) -> None:
    from tradecrew.models import ProposalRequest, Side

    p = pending(desk, ProposalRequest(symbol="XAUUSD", side=Side.BUY, quantity=3.0))
    desk.ledger.record_account_snapshot(desk.broker.account())
    desk.record_agent_verdict(p.id, AgentVerdict(verdict="shrink", quantity=1.0, reason="size"))
    order = desk.gate.submit(p.id, "alice", grant(desk, p.id, clock))
    assert order.quantity == 1.0
    assert desk.ledger.verify_audit_chain().ok
