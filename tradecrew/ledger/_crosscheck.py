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
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, bindparam, select

from tradecrew.ledger._orm import (
    AgentVerdictRow,
    ApprovalRow,
    AuditRow,
    FillRow,
    OrderRow,
    ProposalRow,
    RiskDecisionRow,
    TradingStateRow,
)

if TYPE_CHECKING:
    from tradecrew.ledger._tx import Tx


@dataclass(frozen=True)
class Spec:
    """A table, the audit entity its rows are, the actions whose ``after`` image is the whole
    row, and the columns compared."""

    table: Table
    entity: str
    key: str
    actions: tuple[str, ...]
    fields: tuple[str, ...]
    #: What a row no audit row speaks of may hold: the row the migration seeds.
    seed: tuple[tuple[str, Any], ...] | None = None


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
    (
        *("proposal_id", "order_hash", "actor", "channel"),
        *("approved_at", "expires_at", "consumed_at", "consumed_by"),
    ),
)
SPECS = (
    TRADING_STATE,
    Spec(
        ProposalRow.__table__,
        "proposal",
        "id",
        ("proposal.created", "proposal.transition"),
        (*_ORDER_TERMS, "reduce_only", "status"),
    ),
    Spec(
        RiskDecisionRow.__table__,
        "risk_decision",
        "id",
        ("decision.recorded",),
        (
            *("proposal_id", "approved", "requested_quantity", "approved_quantity"),
            *("order_hash", "expires_at", "trading_state"),
        ),
    ),
    APPROVALS,
    Spec(
        AgentVerdictRow.__table__,
        "agent_verdict",
        "id",
        ("verdict.recorded",),
        ("proposal_id", "agent", "verdict", "quantity"),
    ),
    Spec(
        OrderRow.__table__,
        "order",
        "id",
        ("order.created", "order.updated", "order.filled"),
        (
            *("client_order_id", "proposal_id", *_ORDER_TERMS, "status", "filled_quantity"),
            *("broker", "broker_order_id", "external"),
        ),
    ),
    Spec(
        FillRow.__table__,
        "fill",
        "id",
        ("fill.recorded",),
        ("order_id", "quantity", "price", "commission", "timestamp"),
    ),
)

#: Actions that only the ledger writes, with the change they record.
STATE_ACTIONS = frozenset(a for spec in SPECS for a in spec.actions)

_LIMIT = 100
_log = AuditRow.__table__
#: Per entity: the newest image of ``entity_id`` (built once: the trade path runs them).
_LAST_IMAGE = {
    spec.entity: select(_log.c.seq, _log.c.after)
    .where(
        _log.c.entity == spec.entity,
        _log.c.entity_id == bindparam("entity_id"),
        _log.c.action.in_(spec.actions),
    )
    .order_by(_log.c.seq.desc())
    .limit(1)
    for spec in SPECS
}


def crosscheck(conn: Connection) -> list[str]:
    """One line per row that disagrees with the audit log, or that one of them lacks."""
    problems: list[str] = []
    for spec in SPECS:
        for problem in _check_table(conn, spec):
            problems.append(problem)
            if len(problems) >= _LIMIT:
                problems.append(f"(stopped after {_LIMIT} table problems)")
                return problems
    return problems


def _check_table(conn: Connection, spec: Spec) -> Iterator[str]:
    images: dict[str, tuple[int, dict[str, Any] | None]] = {}
    rows = conn.execute(
        select(_log.c.seq, _log.c.entity_id, _log.c.after)
        .where(_log.c.entity == spec.entity, _log.c.action.in_(spec.actions))
        .order_by(_log.c.seq)
    )
    for seq, entity_id, after in rows:
        images[entity_id] = (seq, after)
    for row in conn.execute(select(spec.table)):
        key = str(getattr(row, spec.key))
        found = images.pop(key, None)
        problem = _compare(spec, key, row, found)
        if problem:
            yield problem
    for key, (seq, _after) in images.items():
        yield f"{spec.table.name} row {key} is missing; the audit log records it (seq {seq})"


def disagreement(tx: Tx, spec: Spec, row: Any) -> str | None:
    """Why ``row`` disagrees with the last image the log (or this transaction, not yet
    written) holds for it; None if they agree. ``row`` None: the single trading-state row
    is absent. The trade path's cheap guard: one indexed look-up, no hash replay."""
    key = "1" if row is None else str(getattr(row, spec.key))
    found = tx.pending_image(spec.entity, key, spec.actions)
    if found is None:
        last = tx.conn.execute(_LAST_IMAGE[spec.entity], {"entity_id": key}).first()
        found = None if last is None else (last.seq, last.after)
    if row is None:
        if found is None:
            return None
        return f"{spec.table.name} row {key} is missing; the audit log records it (seq {found[0]})"
    return _compare(spec, key, row, found)


def _compare(
    spec: Spec, key: str, row: Any, found: tuple[int, dict[str, Any] | None] | None
) -> str | None:
    name = spec.table.name
    if found is None:
        if spec.seed is not None and all(getattr(row, f) == v for f, v in spec.seed):
            return None
        return f"{name} row {key} has no audit record: it was written outside the ledger"
    seq, image = found
    image = image or {}
    for field in spec.fields:
        if field not in image:
            continue
        actual, expected = getattr(row, field), image[field]
        if not _same(actual, expected):
            return (
                f"{name} row {key}: {field} is {_show(actual)} but the audit log says "
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
