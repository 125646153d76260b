"""Configuration versions and champion/challenger experiments, inside write transactions,
and their reads. Versions are append-only (a rollback is a new version), so the row with the
highest number is the active one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from tradecrew.data.audit_key import AuditKey
from tradecrew.ledger._convert import image, row_values, to_model
from tradecrew.ledger._orm import ABExperimentRow, ABObservationRow, ConfigVersionRow
from tradecrew.ledger._tx import Tx, insert_row, require_actor, require_length
from tradecrew.ledger.audit import canonical_json, json_safe, utc_stamp
from tradecrew.ledger.config_records import ABExperiment, ABObservation, ConfigVersion
from tradecrew.ledger.errors import Conflict, NotFound

_versions = ConfigVersionRow.__table__
_experiments = ABExperimentRow.__table__
_observations = ABObservationRow.__table__

#: ``based_on`` default: the version active when the new one is made.
ACTIVE = -1

#: The observation columns a MAC covers: all but its number and the MAC.
OBSERVATION_FIELDS = tuple(c.name for c in _observations.columns if c.name not in ("seq", "mac"))


def add_version(
    tx: Tx,
    content: dict[str, Any],
    *,
    kind: str,
    actor: str,
    channel: str,
    reason: str,
    evidence: dict[str, Any] | None = None,
    based_on: int | None = ACTIVE,
    expected: int | None = None,
) -> ConfigVersion:
    """Append a version; it becomes the active one. ``based_on``: the version a rollback of
    it goes back to (the active one by default; None: nothing before it). ``expected``: the
    version the caller decided against; if another became active meanwhile, Conflict and
    nothing is written."""
    actor = require_actor(actor)
    require_length(kind, "kind", 16)
    require_length(channel, "channel", 16)
    current = active_number(tx.conn)
    if expected is not None and expected != current:
        raise Conflict(
            f"the active configuration is version {current}, not {expected}: it changed "
            "meanwhile; look again and retry"
        )
    version = ConfigVersion(
        version=current + 1,
        based_on=current if based_on == ACTIVE else based_on,
        kind=kind,
        content=json_safe(content),
        evidence=json_safe(evidence or {}),
        actor=actor,
        channel=channel,
        reason=reason,
    )
    insert_row(tx.conn, ConfigVersionRow, row_values(ConfigVersionRow, version))
    tx.audit(
        actor,
        "config.version_created",
        "config_version",
        str(version.version),
        None,
        image(version),
    )
    return version


def active_number(conn: Connection) -> int:
    """The active version's number; 0 when none was ever made (the settings alone)."""
    return int(conn.execute(select(func.coalesce(func.max(_versions.c.version), 0))).scalar_one())


def get_version(conn: Connection, number: int) -> ConfigVersion:
    row = conn.execute(select(_versions).where(_versions.c.version == number)).first()
    if row is None:
        raise NotFound("config_version", str(number))
    return to_model(ConfigVersion, row)


def list_versions(conn: Connection, limit: int) -> list[ConfigVersion]:
    rows = conn.execute(select(_versions).order_by(_versions.c.version.desc()).limit(limit))
    return [to_model(ConfigVersion, r) for r in rows]


# ------------------------------------------------------------------ experiments


def start_experiment(tx: Tx, experiment: ABExperiment) -> ABExperiment:
    """Record a new running experiment; Conflict when one is already running."""
    require_actor(experiment.started_by)
    if running_experiment(tx.conn) is not None:
        raise Conflict("an A/B experiment is already running; stop it first (tradecrew ab stop)")
    insert_row(tx.conn, ABExperimentRow, row_values(ABExperimentRow, experiment))
    tx.audit(
        experiment.started_by, "ab.started", "ab_experiment", experiment.id, None, image(experiment)
    )
    return experiment


def stop_experiment(
    tx: Tx, experiment_id: str, actor: str, outcome: dict[str, Any], now: datetime
) -> ABExperiment:
    actor = require_actor(actor)
    before = to_model(ABExperiment, tx.get(ABExperimentRow, experiment_id, "ab_experiment"))
    if before.status != "running":
        raise Conflict(f"A/B experiment {experiment_id} is already {before.status}")
    changes = {
        "status": "stopped",
        "stopped_at": now,
        "stopped_by": actor,
        "outcome": json_safe(outcome),
    }
    tx.update(ABExperimentRow, experiment_id, **changes)
    after = before.model_copy(update=changes)
    tx.audit(actor, "ab.stopped", "ab_experiment", experiment_id, image(before), image(after))
    return after


def running_experiment(conn: Connection) -> ABExperiment | None:
    row = conn.execute(
        select(_experiments)
        .where(_experiments.c.status == "running")
        .order_by(_experiments.c.started_at.desc())
        .limit(1)
    ).first()
    return None if row is None else to_model(ABExperiment, row)


def latest_experiment(conn: Connection) -> ABExperiment | None:
    row = conn.execute(
        select(_experiments).order_by(_experiments.c.started_at.desc()).limit(1)
    ).first()
    return None if row is None else to_model(ABExperiment, row)


def _plain(value: Any) -> Any:
    """A value as the database gives it back: SQLite keeps -0.0 as 0."""
    if isinstance(value, datetime):
        return utc_stamp(value)
    if isinstance(value, float) and value == 0:
        return 0.0
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def observation_mac(key: AuditKey, values: dict[str, Any]) -> str:
    content = {f: _plain(values.get(f)) for f in OBSERVATION_FIELDS}
    return key.mac(b"tradecrew ab observation " + canonical_json(content).encode("utf-8"))


def add_observations(tx: Tx, key: AuditKey, observations: list[ABObservation]) -> int:
    """Insert the observations not recorded yet (by experiment, symbol and bar); how many."""
    added = 0
    for obs in observations:
        exists = tx.conn.execute(
            select(_observations.c.seq).where(
                _observations.c.experiment_id == obs.experiment_id,
                _observations.c.symbol == obs.symbol,
                _observations.c.bar_time == obs.bar_time,
            )
        ).first()
        if exists is not None:
            continue
        values = row_values(ABObservationRow, obs)
        values["mac"] = observation_mac(key, values)
        insert_row(tx.conn, ABObservationRow, values)
        added += 1
    return added


def read_observations(
    conn: Connection, key: AuditKey, experiment_id: str
) -> tuple[list[ABObservation], int]:
    """The experiment's observations in bar order whose MAC checks, and how many did not
    (edited in the database, or written under another key): those are left out."""
    rows = conn.execute(
        select(_observations)
        .where(_observations.c.experiment_id == experiment_id)
        .order_by(_observations.c.bar_time, _observations.c.symbol)
    )
    kept: list[ABObservation] = []
    bad = 0
    for row in rows:
        if observation_mac(key, dict(row._mapping)) != row.mac:
            bad += 1
            continue
        kept.append(to_model(ABObservation, row))
    return kept, bad
