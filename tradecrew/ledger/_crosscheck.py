"""The state tables replayed against the audit log: a row the log does not account for was
written behind the ledger's back (``UPDATE trading_state SET state='active'``, a forged
approval, an order's status edited).

Every change the ledger makes writes its row and an audit image of it in one transaction, so
each row of these tables must equal the last image the log holds for it, and every entity
the log knows must still have its row.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, bindparam, select

from tradecrew.ledger._orm import (
    ABExperimentRow,
    AgentVerdictRow,
    ApprovalRow,
    AuditRow,
    ConfigVersionRow,
    FillRow,
    OrderRow,
    ProposalRow,
    RiskDecisionRow,
    TradingStateRow,
)
from tradecrew.ledger._trust import untrusted

if TYPE_CHECKING:
    from tradecrew.ledger._tx import Tx


@dataclass(frozen=True)
class Spec:
    """A table, the audit entity its rows are, the actions whose ``after`` image records the
    row (the first one creates it), the columns compared with the latest images and the
    columns fixed at creation, compared with the creation image."""

    table: Table
    entity: str
    key: str
    actions: tuple[str, ...]
    fields: tuple[str, ...]
    #: What a row no audit row speaks of may hold: the row the migration seeds.
    seed: tuple[tuple[str, Any], ...] | None = None
    immutable: tuple[str, ...] = ()


@dataclass
class Images:
    """What the log says of one row: its creation image and its images merged in order
    (transitions record only what they change)."""

    created_seq: int | None = None
    created: dict[str, Any] | None = None
    latest_seq: int = 0
    latest: dict[str, Any] = field(default_factory=dict)

    def add(self, spec: Spec, seq: int, action: str, after: dict[str, Any] | None) -> None:
        if action == spec.actions[0] and self.created is None:
            self.created_seq, self.created = seq, after or {}
        self.latest_seq = seq
        self.latest.update(after or {})


_ORDER_TERMS = (
    *("symbol", "side", "quantity", "order_type", "limit_price", "stop_price"),
    *("stop_loss", "take_profit", "time_in_force"),
)

TRADING_STATE = Spec(
    TradingStateRow.__table__,
    "trading_state",
    "id",
    ("trading_state.changed",),
    ("state", "reason", "tripped_by", "changed_by", "changed_at"),
    seed=(("state", "active"), ("reason", "initial state"), ("tripped_by", None)),
)
APPROVALS = Spec(
    ApprovalRow.__table__,
    "approval",
    "id",
    ("approval.granted", "approval.consumed"),
    ("consumed_at", "consumed_by"),
    immutable=(
        *("proposal_id", "order_hash", "actor", "channel"),
        *("approved_at", "expires_at"),
    ),
)
PROPOSALS = Spec(
    ProposalRow.__table__,
    "proposal",
    "id",
    ("proposal.created", "proposal.transition"),
    ("status", "status_reason"),
    immutable=(
        *_ORDER_TERMS,
        *("reduce_only", "rationale", "evidence", "origin", "created_at", "expires_at"),
    ),
)
DECISIONS = Spec(
    RiskDecisionRow.__table__,
    "risk_decision",
    "id",
    ("decision.recorded",),
    (),
    immutable=(
        *("proposal_id", "approved", "requested_quantity", "approved_quantity", "checks"),
        *("reasons", "order_hash", "decided_at", "expires_at", "trading_state"),
    ),
)
VERDICTS = Spec(
    AgentVerdictRow.__table__,
    "agent_verdict",
    "id",
    ("verdict.recorded",),
    (),
    immutable=("proposal_id", "agent", "verdict", "quantity", "reason", "created_at"),
)
ORDERS = Spec(
    OrderRow.__table__,
    "order",
    "id",
    ("order.created", "order.updated", "order.filled"),
    (
        *("status", "filled_quantity", "average_fill_price", "broker_order_id"),
        *("updated_at", "status_reason"),
    ),
    immutable=(
        *("client_order_id", "proposal_id", *_ORDER_TERMS),
        *("broker", "external", "created_at"),
    ),
)
CONFIG_VERSIONS = Spec(
    ConfigVersionRow.__table__,
    "config_version",
    "version",
    ("config.version_created",),
    (),
    immutable=(
        *("based_on", "kind", "content", "evidence", "actor", "channel", "reason"),
        "created_at",
    ),
)
AB_EXPERIMENTS = Spec(
    ABExperimentRow.__table__,
    "ab_experiment",
    "id",
    ("ab.started", "ab.stopped"),
    ("status", "stopped_at", "stopped_by", "outcome"),
    immutable=("champion", "challenger", "symbols", "timeframe", "started_at", "started_by"),
)
SPECS = (
    TRADING_STATE,
    CONFIG_VERSIONS,
    AB_EXPERIMENTS,
    PROPOSALS,
    DECISIONS,
    APPROVALS,
    VERDICTS,
    ORDERS,
    Spec(
        FillRow.__table__,
        "fill",
        "id",
        ("fill.recorded",),
        (),
        immutable=(
            *("order_id", "client_order_id", "side", "quantity", "price", "commission"),
            *("timestamp", "broker_fill_id", "fill_key"),
        ),
    ),
)

#: Actions that only the ledger writes, with the change they record.
STATE_ACTIONS = frozenset(a for spec in SPECS for a in spec.actions)

_LIMIT = 100
_log = AuditRow.__table__
#: Per entity: every image of ``entity_id``, oldest first (built once: the trade path runs
#: them). A row has a handful of images, so reading them all costs one indexed look-up.
_IMAGES = {
    spec.entity: select(_log)
    .where(
        _log.c.entity == spec.entity,
        _log.c.entity_id == bindparam("entity_id"),
        _log.c.action.in_(spec.actions),
    )
    .order_by(_log.c.seq)
    for spec in SPECS
}
#: A row with nothing fixed at creation (the trading state) needs only its newest image.
for _spec in SPECS:
    if not _spec.immutable:
        _IMAGES[_spec.entity] = (
            _IMAGES[_spec.entity].order_by(None).order_by(_log.c.seq.desc()).limit(1)
        )


def crosscheck(conn: Connection) -> list[str]:
    """One line per row that disagrees with the audit log, or that one of them lacks."""
    problems: list[str] = []
    for spec in SPECS:
        for problem in (*_check_table(conn, spec), *_unbacked_approvals(conn, spec)):
            problems.append(problem)
            if len(problems) >= _LIMIT:
                problems.append(f"(stopped after {_LIMIT} table problems)")
                return problems
    return problems


def _check_table(conn: Connection, spec: Spec) -> Iterator[str]:
    images: dict[str, Images] = {}
    rows = conn.execute(
        select(_log.c.seq, _log.c.entity_id, _log.c.action, _log.c.after)
        .where(_log.c.entity == spec.entity, _log.c.action.in_(spec.actions))
        .order_by(_log.c.seq)
    )
    for seq, entity_id, action, after in rows:
        images.setdefault(entity_id, Images()).add(spec, seq, action, after)
    for row in conn.execute(select(spec.table)):
        key = str(getattr(row, spec.key))
        found = images.pop(key, None)
        problem = compare(spec, key, row, found)
        if problem:
            yield problem
    for key, seen in images.items():
        seq = seen.created_seq or seen.latest_seq
        yield f"{spec.table.name} row {key} is missing; the audit log records it (seq {seq})"


def _unbacked_approvals(conn: Connection, spec: Spec) -> Iterator[str]:
    """An approval (the ledger's own, so its image checks) of an order hash that no audited
    risk decision of its proposal holds approved terms the risk engine never decided on:
    a decision edited while it was approved, then put back."""
    if spec is not APPROVALS:
        return
    decided: set[tuple[str, str]] = set()
    decided_on: set[str] = set()
    for (after,) in conn.execute(
        select(_log.c.after).where(
            _log.c.entity == DECISIONS.entity, _log.c.action == DECISIONS.actions[0]
        )
    ):
        after = after or {}
        decided.add((str(after.get("proposal_id")), str(after.get("order_hash"))))
        decided_on.add(str(after.get("proposal_id")))
    table = APPROVALS.table
    for row in conn.execute(select(table.c.id, table.c.proposal_id, table.c.order_hash)):
        # A proposal with no decision at all is the ledger's own business (its tests).
        known = row.proposal_id in decided_on
        if known and (row.proposal_id, row.order_hash) not in decided:
            yield (
                f"approvals row {row.id} approves order hash {row.order_hash[:16]}… of proposal "
                f"{row.proposal_id}, which no audited risk decision holds"
            )


def disagreement(tx: Tx, spec: Spec, row: Any) -> str | None:
    """Why ``row`` disagrees with the last image the log (or this transaction, not yet
    written) holds for it; None if they agree. ``row`` None: the single trading-state row
    is absent. The trade path's guard: one indexed look-up, and the image it trusts must
    check under the key and be linked into the chain (``_trust``), or it is no record."""
    key = "1" if row is None else str(getattr(row, spec.key))
    pending = tx.pending_image(spec.entity, key, spec.actions)
    found: Images | None = None
    if pending is not None:
        found = Images(pending[0], pending[1], pending[0], dict(pending[1] or {}))
    else:
        rows = tx.conn.execute(_IMAGES[spec.entity], {"entity_id": key}).all()
        if rows:
            problem = untrusted(tx, rows)
            if problem:
                return problem
            found = Images()
            for r in rows:
                found.add(spec, r.seq, r.action, r.after)
    if row is None:
        if found is None:
            return None
        seq = found.latest_seq
        return f"{spec.table.name} row {key} is missing; the audit log records it (seq {seq})"
    return compare(spec, key, row, found)


def compare(spec: Spec, key: str, row: Any, found: Images | None) -> str | None:
    """Why ``row`` differs from what the log says of it: its fixed columns from the
    creation image, the others from the latest; None if it agrees."""
    name = spec.table.name
    if found is None:
        if spec.seed is not None and all(getattr(row, f) == v for f, v in spec.seed):
            return None
        return f"{name} row {key} has no audit record: it was written outside the ledger"
    checks = [(found.latest_seq, found.latest, spec.fields)]
    if found.created is not None:
        checks.insert(0, (found.created_seq or 0, found.created, spec.immutable))
    else:  # a log with no creation image (it cannot be written so): the latest speaks
        checks.append((found.latest_seq, found.latest, spec.immutable))
    for seq, image, fields in checks:
        for name_ in fields:
            if name_ not in image:
                continue
            actual, expected = getattr(row, name_), image[name_]
            if not _same(actual, expected):
                return (
                    f"{name} row {key}: {name_} is {_show(actual)} but the audit log says "
                    f"{_show(expected)} (seq {seq})"
                )
    return None


def _same(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    if isinstance(actual, datetime) and isinstance(expected, str):
        try:
            return actual == datetime.fromisoformat(expected)
        except ValueError:
            return False
    numbers = (int, float)
    if (
        isinstance(actual, numbers)
        and isinstance(expected, numbers)
        and not isinstance(actual, bool)
        and not isinstance(expected, bool)
    ):
        return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=0.0)
    return False


def _show(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
