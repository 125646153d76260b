"""The Ledger's proposals, decisions, approvals, verdicts, trading state, runs and snapshots."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.ledger.helpers import make_decision, make_fill, make_order, make_proposal
from tradecrew.config import Settings
from tradecrew.ledger import (
    ApprovalError,
    Conflict,
    IllegalTransition,
    Ledger,
    NotFound,
    RunStatus,
)
from tradecrew.models import (
    Account,
    AgentVerdict,
    ProposalRequest,
    ProposalStatus,
    Side,
    TradingState,
    Verdict,
    utcnow,
)


@pytest.fixture
def db_url(ledger_url: str) -> str:
    """Every test here runs on SQLite and on PostgreSQL (``ledger_url``)."""
    return ledger_url


def test_proposal_round_trips_with_every_field(ledger: Ledger) -> None:
    proposal = make_proposal().model_copy(
        update={"stop_loss": 90.0, "evidence": {"rsi": 31.5, "tags": ["a"]}}
    )
    ledger.add_proposal(proposal)
    assert ledger.get_proposal(proposal.id) == proposal


def test_a_bare_request_becomes_a_pending_proposal(ledger: Ledger) -> None:
    stored = ledger.add_proposal(ProposalRequest(symbol="eurusd", side=Side.SELL, quantity=1e5))
    assert stored.status is ProposalStatus.PENDING
    assert ledger.get_proposal(stored.id).symbol == "EURUSD"


def test_non_finite_evidence_is_stored_as_null(ledger: Ledger) -> None:
    proposal = make_proposal().model_copy(update={"evidence": {"atr": float("nan")}})
    ledger.add_proposal(proposal)
    assert ledger.get_proposal(proposal.id).evidence == {"atr": None}
    assert ledger.verify_audit_chain().ok


def test_adding_the_same_proposal_twice_is_a_conflict(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    with pytest.raises(Conflict, match=proposal.id):
        ledger.add_proposal(proposal)


def test_a_proposal_must_start_pending(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="starts pending"):
        ledger.add_proposal(make_proposal().model_copy(update={"status": ProposalStatus.FILLED}))


def test_unknown_ids_raise_not_found_naming_the_id(ledger: Ledger) -> None:
    for call, entity in [
        (lambda: ledger.get_proposal("prp_missing"), "proposal"),
        (lambda: ledger.transition_proposal("prp_missing", "approved"), "proposal"),
        (lambda: ledger.latest_decision("prp_missing"), "proposal"),
        (lambda: ledger.get_order("prp_missing"), "order"),
        (lambda: ledger.get_order_by_client_id("prp_missing"), "client order"),
        (lambda: ledger.update_order("prp_missing", status="submitted"), "order"),
        (lambda: ledger.fills("prp_missing"), "order"),
        (lambda: ledger.get_run("prp_missing"), "run"),
        (
            lambda: ledger.record_verdict(
                "prp_missing", AgentVerdict(verdict="veto", agent="risk")
            ),
            "proposal",
        ),
    ]:
        with pytest.raises(NotFound) as info:
            call()
        assert info.value.id == "prp_missing"
        assert str(info.value) == f"{entity} 'prp_missing' not found in the ledger"


def test_proposal_lifecycle_is_enforced_and_audited(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    approved = ledger.transition_proposal(proposal.id, ProposalStatus.APPROVED, "ok", "alice")
    assert approved.status is ProposalStatus.APPROVED
    with pytest.raises(IllegalTransition, match="approved to filled"):
        ledger.transition_proposal(proposal.id, ProposalStatus.FILLED, "", "alice")
    assert ledger.get_proposal(proposal.id).status is ProposalStatus.APPROVED
    (last,) = ledger.audit_log(1)
    assert last.action == "proposal.transition" and last.actor == "alice"
    assert (last.before or {})["status"] == "pending"
    assert (last.after or {})["status"] == "approved"


def test_bad_status_and_actor_are_refused(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    with pytest.raises(ValueError):
        ledger.transition_proposal(proposal.id, "launched")
    with pytest.raises(ValueError, match="actor"):
        ledger.transition_proposal(proposal.id, "approved", actor="  ")
    with pytest.raises(ValueError, match="positive integer"):
        ledger.list_proposals(limit=0)


def test_list_proposals_filters_by_status_newest_first(ledger: Ledger) -> None:
    first, second, third = (ledger.add_proposal(make_proposal()) for _ in range(3))
    ledger.transition_proposal(second.id, "rejected", "too big")
    assert [p.id for p in ledger.list_proposals()] == [third.id, second.id, first.id]
    assert [p.id for p in ledger.list_proposals(status="rejected")] == [second.id]
    assert len(ledger.list_proposals(limit=2)) == 2


def test_latest_decision_is_the_last_one_recorded(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    assert ledger.latest_decision(proposal.id) is None
    first = make_decision(proposal, "h-first")
    # recorded later but stamped earlier, and a third with the very same time: the order of
    # recording decides, never the clocks or the ids
    second = make_decision(proposal, "h-second").model_copy(
        update={"decided_at": first.decided_at - timedelta(seconds=1)}
    )
    third = make_decision(proposal, "h-third").model_copy(
        update={"decided_at": second.decided_at, "id": "rdc_0000"}
    )
    for decision in (first, second, third):
        ledger.record_decision(decision)
    assert ledger.latest_decision(proposal.id) == third
    assert ledger.decisions(proposal.id) == [first, second, third]


def test_a_decision_needs_a_known_proposal(ledger: Ledger) -> None:
    orphan = make_decision(make_proposal())
    with pytest.raises(NotFound):
        ledger.record_decision(orphan)


def _approve(ledger: Ledger, minutes: float = 5.0) -> tuple[str, str]:
    proposal = ledger.add_proposal(make_proposal())
    ledger.record_approval(
        proposal.id, "hash-A", "alice", "cli", utcnow() + timedelta(minutes=minutes)
    )
    return proposal.id, "hash-A"


def test_an_approval_is_consumed_once(ledger: Ledger) -> None:
    proposal_id, order_hash = _approve(ledger)
    used = ledger.consume_approval(proposal_id, order_hash, "gate")
    assert used.consumed_by == "gate" and used.consumed_at is not None
    with pytest.raises(ApprovalError, match="already used"):
        ledger.consume_approval(proposal_id, order_hash, "gate")
    refusal = ledger.audit_log(1)[0]
    assert refusal.action == "approval.refused"
    assert "already used" in (refusal.after or {})["reason"]
    assert ledger.verify_audit_chain().ok


def test_an_approval_covers_only_its_order_hash(ledger: Ledger) -> None:
    proposal_id, _ = _approve(ledger)
    with pytest.raises(ApprovalError, match="order hash"):
        ledger.consume_approval(proposal_id, "hash-B", "gate")
    assert ledger.approvals(proposal_id)[0].consumed_at is None


def test_an_expired_approval_cannot_be_consumed(ledger: Ledger) -> None:
    proposal_id, order_hash = _approve(ledger, minutes=1)
    later = utcnow() + timedelta(minutes=2)
    with pytest.raises(ApprovalError, match="expired"):
        ledger.consume_approval(proposal_id, order_hash, "gate", now=later)


def test_consuming_without_any_approval_fails(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    with pytest.raises(ApprovalError, match="no approval"):
        ledger.consume_approval(proposal.id, "h", "gate")


def test_approval_inputs_are_validated(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    soon = utcnow() + timedelta(minutes=1)
    with pytest.raises(ValueError):
        ledger.record_approval(proposal.id, "h", "alice", "email", soon)
    with pytest.raises(ValueError, match="timezone-aware"):
        ledger.record_approval(proposal.id, "h", "alice", "cli", datetime(2030, 1, 1))
    with pytest.raises(ValueError, match="order_hash"):
        ledger.record_approval(proposal.id, "", "alice", "cli", soon)
    with pytest.raises(NotFound):
        ledger.record_approval("prp_nope", "h", "alice", "cli", soon)


def test_trading_state_starts_active_and_changes_are_audited(ledger: Ledger) -> None:
    assert ledger.get_trading_state().state is TradingState.ACTIVE
    ledger.set_trading_state("halted", "daily loss limit", "risk", tripped_by="max_daily_loss")
    state = ledger.get_trading_state()
    assert (state.state, state.reason, state.tripped_by, state.changed_by) == (
        TradingState.HALTED,
        "daily loss limit",
        "max_daily_loss",
        "risk",
    )
    entry = ledger.audit_log(1)[0]
    assert entry.action == "trading_state.changed"
    assert (entry.before or {})["state"] == "active" and (entry.after or {})["state"] == "halted"
    with pytest.raises(ValueError, match="reason"):
        ledger.set_trading_state("active", "", "bob")
    with pytest.raises(ValueError):
        ledger.set_trading_state("paused", "x", "bob")


def test_agent_may_shrink_or_veto_but_never_enlarge(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal(quantity=10))
    ledger.record_verdict(
        proposal.id, AgentVerdict(verdict=Verdict.SHRINK, quantity=4, reason="news risk")
    )
    ledger.record_verdict(proposal.id, AgentVerdict(verdict="veto", reason="correlated"))
    with pytest.raises(ValueError, match="enlarge"):
        ledger.record_verdict(proposal.id, AgentVerdict(verdict="approve", quantity=11))
    with pytest.raises(ValueError, match="shrink"):
        ledger.record_verdict(proposal.id, AgentVerdict(verdict="shrink"))
    with pytest.raises(ValueError, match="veto"):
        ledger.record_verdict(proposal.id, AgentVerdict(verdict="veto", quantity=3))
    with pytest.raises(ValueError):
        ledger.record_verdict(proposal.id, AgentVerdict(verdict="shrink", quantity=float("nan")))
    kept = ledger.verdicts(proposal.id)
    assert [(v.verdict, v.quantity) for v in kept] == [(Verdict.SHRINK, 4), (Verdict.VETO, None)]


def test_runs_start_and_finish_once(ledger: Ledger) -> None:
    run = ledger.start_run("crew", {"symbols": ["XAUUSD"]})
    done = ledger.finish_run(run.id, RunStatus.SUCCEEDED, {"proposals": 1})
    assert ledger.get_run(run.id) == done
    assert done.finished_at is not None and done.summary == {"proposals": 1}
    with pytest.raises(ValueError, match="already finished"):
        ledger.finish_run(run.id, "failed")
    with pytest.raises(ValueError, match="final status"):
        ledger.finish_run(ledger.start_run("crew").id, "running")


def test_account_snapshots_newest_first_per_broker(ledger: Ledger) -> None:
    t = utcnow()
    for i, broker in enumerate(["paper", "alpaca", "paper"]):
        ledger.record_account_snapshot(
            Account(
                account_id="acc",
                broker=broker,
                cash=100.0 + i,
                equity=100.0 + i,
                buying_power=100.0,
                timestamp=t + timedelta(seconds=i),
            )
        )
    latest = ledger.latest_account_snapshot("paper")
    assert latest is not None and latest.cash == 102.0
    assert [a.cash for a in ledger.account_snapshots()] == [102.0, 101.0, 100.0]
    assert ledger.latest_account_snapshot("mt5") is None


def test_position_snapshots_store_positions_per_broker(ledger: Ledger) -> None:
    for broker, price in [("paper", 100.0), ("alpaca", 200.0)]:
        order = ledger.create_order(make_order(f"cid-{broker}", quantity=2, broker=broker))
        ledger.record_fill(make_fill(order, 2, price))
    snaps = ledger.snapshot_positions("alpaca", marks={"XAUUSD": 210.0})
    assert [(s.broker, s.quantity, s.average_price, s.unrealized_pnl) for s in snaps] == [
        ("alpaca", 2.0, 200.0, 20.0)
    ]
    assert ledger.position_snapshots("alpaca") == snaps
    assert ledger.position_snapshots("paper") == []


def test_from_settings_creates_home_and_database(tmp_path: Path) -> None:
    home = tmp_path / "new" / "home"
    with Ledger.from_settings(Settings(home=home)) as ledger:
        ledger.add_proposal(make_proposal())
    assert (home / "tradecrew.db").is_file()


def test_in_memory_ledger_works_for_quick_use() -> None:
    with Ledger("sqlite://") as ledger:
        proposal = ledger.add_proposal(make_proposal())
        assert ledger.get_proposal(proposal.id).id == proposal.id
        assert ledger.verify_audit_chain().ok


def test_repr_hides_passwords() -> None:
    with Ledger("sqlite://") as ledger:
        ledger.url = "postgresql://desk:s3cret@db/ledger"
        assert "s3cret" not in repr(ledger)


def test_racing_consumers_get_the_approval_exactly_once(ledger: Ledger) -> None:
    proposal_id, order_hash = _approve(ledger)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def consume(n: int) -> None:
        barrier.wait()
        try:
            ledger.consume_approval(proposal_id, order_hash, f"gate-{n}")
            outcomes.append("ok")
        except ApprovalError:
            outcomes.append("refused")

    threads = [threading.Thread(target=consume, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(outcomes) == ["ok"] + ["refused"] * 7
    assert ledger.verify_audit_chain().ok


def test_from_settings_defaults_to_the_process_settings(tradecrew_home: Path) -> None:
    with Ledger.from_settings() as ledger:
        ledger.set_trading_state("reducing", "drawdown", "risk")
    assert (tradecrew_home / "tradecrew.db").is_file()


def test_recording_the_same_decision_twice_is_a_conflict_and_keeps_one(ledger: Ledger) -> None:
    proposal = ledger.add_proposal(make_proposal())
    decision = ledger.record_decision(make_decision(proposal))
    with pytest.raises(Conflict, match=decision.id):
        ledger.record_decision(decision)
    assert ledger.decisions(proposal.id) == [decision]
    assert ledger.verify_audit_chain().ok


def test_an_order_id_reused_under_another_client_id_is_a_conflict(ledger: Ledger) -> None:
    first = ledger.create_order(make_order("cid-1"))
    with pytest.raises(Conflict, match="another client_order_id"):
        ledger.create_order(make_order("cid-2").model_copy(update={"id": first.id}))
    assert [o.client_order_id for o in ledger.orders()] == ["cid-1"]
