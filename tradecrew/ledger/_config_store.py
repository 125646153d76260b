"""The ledger's door to configuration versions and A/B experiments (mixed into ``Ledger``).

The desk reads the active version before every analysis, so that read checks the version's
row against its keyed audit image first: a version written or edited behind the ledger's
back is refused (AuditMismatch), never used."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from tradecrew.data.audit_key import AuditKey
from tradecrew.ledger import _configs
from tradecrew.ledger._convert import to_model
from tradecrew.ledger._crosscheck import CONFIG_VERSIONS, Images, compare
from tradecrew.ledger._orm import AuditHeadRow, AuditRow, ConfigVersionRow, RunRow
from tradecrew.ledger._trust import untrusted
from tradecrew.ledger._tx import Tx, positive_limit
from tradecrew.ledger.config_records import ABExperiment, ABObservation, ConfigVersion
from tradecrew.ledger.errors import AuditMismatch
from tradecrew.ledger.records import RunRecord
from tradecrew.models import utcnow

_log = AuditRow.__table__


@dataclass
class _ReadView:
    """What ``untrusted`` needs of a transaction, for a read."""

    conn: Connection
    key: AuditKey
    start: tuple[int, str]


class ConfigStore:
    """Configuration versions and experiments; ``Ledger`` provides ``_tx`` and ``_read``."""

    _key: AuditKey

    if TYPE_CHECKING:  # provided by Ledger and LedgerReads; not defined here (MRO)

        def _tx(self, *, durable: bool = False) -> AbstractContextManager[Tx]: ...

        # Declared as LedgerReads declares it, so the two bases of Ledger agree.
        @contextmanager
        def _read(self) -> Iterator[Connection]: ...

    # ------------------------------------------------------------------ versions

    def add_config_version(
        self,
        content: dict[str, Any],
        *,
        kind: str,
        actor: str,
        channel: str,
        reason: str,
        evidence: dict[str, Any] | None = None,
        based_on: int | None = _configs.ACTIVE,
        expected: int | None = None,
    ) -> ConfigVersion:
        """Append a configuration version (it becomes active), audited with actor, channel
        and reason. ``expected``: the active version the caller decided against (Conflict if
        another became active meanwhile)."""
        with self._tx() as tx:
            return _configs.add_version(
                tx,
                content,
                kind=kind,
                actor=actor,
                channel=channel,
                reason=reason,
                evidence=evidence,
                based_on=based_on,
                expected=expected,
            )

    def active_config(self) -> ConfigVersion | None:
        """The active version, checked against the audit log; None when there is none (the
        settings alone). AuditMismatch when the versions table disagrees with the log."""
        with self._read() as conn:
            number = _configs.active_number(conn)
            last = conn.execute(
                select(_log.c.entity_id)
                .where(_log.c.entity == CONFIG_VERSIONS.entity)
                .order_by(_log.c.seq.desc())
                .limit(1)
            ).scalar()
            if (last or "0") != str(number):
                raise AuditMismatch(
                    f"the active configuration is version {number} but the audit log's last "
                    f"version is {last or 'none'}; run `tradecrew audit verify`"
                )
            if number == 0:
                return None
            self._check_version(conn, number)
            return _configs.get_version(conn, number)

    def _check_version(self, conn: Connection, number: int) -> None:
        table = ConfigVersionRow.__table__
        row = conn.execute(select(table).where(table.c.version == number)).first()
        images = conn.execute(
            select(_log)
            .where(
                _log.c.entity == CONFIG_VERSIONS.entity,
                _log.c.entity_id == str(number),
                _log.c.action.in_(CONFIG_VERSIONS.actions),
            )
            .order_by(_log.c.seq)
        ).all()
        head = conn.execute(select(AuditHeadRow.__table__)).first()
        view = _ReadView(conn, self._key, (head.seq, head.hash) if head else (0, ""))
        problem = untrusted(view, images)  # type: ignore[arg-type]
        if problem is None:
            found = None
            if images:
                found = Images()
                for r in images:
                    found.add(CONFIG_VERSIONS, r.seq, r.action, r.after)
            problem = compare(CONFIG_VERSIONS, str(number), row, found)
        if problem:
            raise AuditMismatch(f"{problem}; run `tradecrew audit verify`")

    def config_version(self, number: int) -> ConfigVersion:
        """One version, checked against the audit log like the active one: a rollback or an
        A/B challenger must not adopt a row edited in the database."""
        with self._read() as conn:
            version = _configs.get_version(conn, number)
            self._check_version(conn, number)
            return version

    def config_versions(self, limit: int = 50) -> list[ConfigVersion]:
        """Versions, newest first."""
        with self._read() as conn:
            return _configs.list_versions(conn, positive_limit(limit))

    def runs_of_kind(self, kind: str, limit: int = 20) -> list[RunRecord]:
        """Runs of one kind (``automl``), newest first."""
        table = RunRow.__table__
        with self._read() as conn:
            rows = conn.execute(
                select(table)
                .where(table.c.kind == kind)
                .order_by(table.c.started_at.desc())
                .limit(positive_limit(limit))
            )
            return [to_model(RunRecord, r) for r in rows]

    # ------------------------------------------------------------------ experiments

    def start_experiment(self, experiment: ABExperiment) -> ABExperiment:
        with self._tx() as tx:
            return _configs.start_experiment(tx, experiment)

    def stop_experiment(
        self, experiment_id: str, actor: str, outcome: dict[str, Any] | None = None
    ) -> ABExperiment:
        with self._tx() as tx:
            return _configs.stop_experiment(tx, experiment_id, actor, outcome or {}, utcnow())

    def running_experiment(self) -> ABExperiment | None:
        with self._read() as conn:
            return _configs.running_experiment(conn)

    def latest_experiment(self) -> ABExperiment | None:
        with self._read() as conn:
            return _configs.latest_experiment(conn)

    def record_observations(self, observations: list[ABObservation]) -> int:
        """Keep the observations not recorded yet; how many were new."""
        if not observations:
            return 0
        with self._tx() as tx:
            return _configs.add_observations(tx, self._key, observations)

    def observations(self, experiment_id: str) -> tuple[list[ABObservation], int]:
        """The experiment's observations whose MAC checks, and the count of those that fail."""
        with self._read() as conn:
            return _configs.read_observations(conn, self._key, experiment_id)
