"""Configuration versions and A/B experiments in the ledger: schema 0004, the audit chain's
cover of them, and what a row written behind the ledger's back does."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from tests.ledger.helpers import make_proposal
from tradecrew.ledger import ABExperiment, ABObservation, AuditMismatch, Conflict, Ledger
from tradecrew.ledger._db import current_revision, downgrade, make_engine

NEW_TABLES = {"config_versions", "ab_experiments", "ab_observations"}


def _sql(ledger: Ledger, statement: str) -> None:
    with ledger._engine.begin() as conn:
        conn.execute(text(statement))


def _version(ledger: Ledger, weights: dict[str, float], reason: str = "test") -> int:
    made = ledger.add_config_version(
        {"weights": weights}, kind="manual", actor="alice", channel="cli", reason=reason
    )
    return made.version


def test_a_ledger_at_0003_with_data_upgrades_to_0004_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    with Ledger(url, home=tmp_path) as ledger:
        kept = ledger.add_proposal(make_proposal())
    engine = make_engine(url)
    downgrade(engine, "0003")  # the database as the previous release left it
    assert current_revision(engine) == "0003"
    assert not NEW_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()

    with Ledger(url, home=tmp_path) as ledger:
        assert ledger.get_proposal(kept.id).id == kept.id
        assert ledger.active_config() is None
        number = _version(ledger, {"trend": 1.0})
        assert ledger.active_config().version == number == 1
        assert ledger.verify_audit_chain().ok
    engine = make_engine(url)
    assert current_revision(engine) == "0004"
    assert set(inspect(engine).get_table_names()) >= NEW_TABLES
    engine.dispose()


def test_versions_are_audited_with_actor_channel_and_reason(ledger: Ledger) -> None:
    first = _version(ledger, {"trend": 1.0}, "first")
    second = _version(ledger, {"trend": 0.5, "momentum": 0.5}, "second")
    assert (first, second) == (1, 2)
    active = ledger.active_config()
    assert active.version == 2 and active.based_on == 1
    rows = [r for r in ledger.audit_log(10) if r.entity == "config_version"]
    assert [(r.actor, r.after["channel"], r.after["reason"]) for r in rows] == [
        ("alice", "cli", "second"),
        ("alice", "cli", "first"),
    ]
    assert ledger.verify_audit_chain().ok


def test_a_version_decided_against_another_active_one_is_refused(ledger: Ledger) -> None:
    _version(ledger, {"trend": 1.0})
    with pytest.raises(Conflict, match="changed meanwhile"):
        ledger.add_config_version(
            {}, kind="manual", actor="bob", channel="cli", reason="late", expected=0
        )
    assert ledger.active_config().version == 1


def test_a_version_edited_in_the_database_is_refused_and_reported(ledger: Ledger) -> None:
    _version(ledger, {"trend": 1.0})
    _sql(
        ledger,
        """UPDATE config_versions SET content = '{"weights": {"trend": 0.0, "momentum": 1.0}}'""",
    )
    with pytest.raises(AuditMismatch, match="content"):
        ledger.active_config()
    report = ledger.verify_audit_chain()
    assert not report.ok and any("config_versions row 1" in p for p in report.problems)


def test_a_forged_newer_version_is_refused(ledger: Ledger) -> None:
    _version(ledger, {"trend": 1.0})
    _sql(
        ledger,
        "INSERT INTO config_versions (version, based_on, kind, content, evidence, actor, "
        "channel, reason, created_at) VALUES (2, 1, 'manual', '{}', '{}', 'mallory', 'cli', "
        "'', '2026-12-07 00:00:00')",
    )
    with pytest.raises(AuditMismatch, match="version 2"):
        ledger.active_config()


def test_a_deleted_newest_version_is_refused(ledger: Ledger) -> None:
    _version(ledger, {"trend": 1.0})
    _version(ledger, {"momentum": 1.0})
    _sql(ledger, "DELETE FROM config_versions WHERE version = 2")
    with pytest.raises(AuditMismatch, match="last version is 2"):
        ledger.active_config()


def test_version_actions_cannot_be_written_as_free_standing_audit_rows(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="only with the change"):
        ledger.audit("mallory", "config.version_created", "config_version", "1", None, {})


def test_one_experiment_runs_at_a_time_and_stopping_is_audited(ledger: Ledger) -> None:
    first = ledger.start_experiment(
        ABExperiment(
            champion=0, challenger="traditional", symbols=["SPX"], timeframe="D1", started_by="cli"
        )
    )
    with pytest.raises(Conflict, match="already running"):
        ledger.start_experiment(
            ABExperiment(
                champion=0, challenger="1", symbols=["SPX"], timeframe="D1", started_by="cli"
            )
        )
    stopped = ledger.stop_experiment(first.id, "cli", {"why": "done"})
    assert stopped.status == "stopped" and ledger.running_experiment() is None
    assert ledger.latest_experiment().id == first.id
    assert ledger.verify_audit_chain().ok


def test_an_edited_observation_is_left_out_and_counted(ledger: Ledger) -> None:
    experiment = ledger.start_experiment(
        ABExperiment(
            champion=0, challenger="traditional", symbols=["SPX"], timeframe="D1", started_by="cli"
        )
    )
    bars = [datetime(2026, 1, d, tzinfo=UTC) for d in (5, 6, 7)]
    made = [
        ABObservation(
            experiment_id=experiment.id,
            symbol="SPX",
            bar_time=t,
            champion_position=1.0,
            challenger_position=0.0,
            champion_return=-0.01,
            challenger_return=0.0,
            attribution={"trend": -0.004},
        )
        for t in bars
    ]
    assert ledger.record_observations(made) == 3
    assert ledger.record_observations(made) == 0  # the same bars again add nothing
    _sql(ledger, "UPDATE ab_observations SET champion_return = 0.05 WHERE seq = 2")
    kept, bad = ledger.observations(experiment.id)
    assert bad == 1 and [o.bar_time for o in kept] == [bars[0], bars[2]]
    assert all(o.champion_return == -0.01 for o in kept)


def test_an_edited_earlier_version_is_refused_when_read(ledger: Ledger) -> None:
    # Rollback and A/B challengers read an earlier version by number: an edited row must
    # not become the active configuration through them.
    _version(ledger, {"trend": 1.0})
    _version(ledger, {"momentum": 1.0})
    _sql(
        ledger,
        """UPDATE config_versions SET content = '{"weights": {"volume": 1.0}}'
        WHERE version = 1""",
    )
    assert ledger.active_config().version == 2  # the active one is intact
    with pytest.raises(AuditMismatch, match="content"):
        ledger.config_version(1)
