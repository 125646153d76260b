"""Order and risk-decision counters, read from the ledger's audit log as it grows.

Every order status change and every risk decision is an audit row written with the change
itself, so counting new rows counts what happened, whichever process did it (the CLI, the
MCP server, this daemon). Counting starts at the daemon's start: Prometheus reads a restart
as a counter reset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradecrew.ledger.records import AuditEntry
from tradecrew.serve.metrics import DeskMetrics

if TYPE_CHECKING:
    from tradecrew.ledger import Ledger

#: Most rows read in one catch-up; a burst beyond it is counted from its newest rows.
MAX_ROWS = 2000


class AuditTail:
    def __init__(self, ledger: Ledger, metrics: DeskMetrics) -> None:
        self.ledger = ledger
        self.metrics = metrics
        self.seq: int | None = None

    def catch_up(self) -> int:
        """Count the rows written since the last call; the number of rows read."""
        head = self.ledger.audit_log(1)
        top = head[0].seq if head else 0
        if self.seq is None or top <= self.seq:
            self.seq = top if self.seq is None else self.seq
            return 0
        rows = self.ledger.audit_log(min(top - self.seq, MAX_ROWS))
        for row in reversed(rows):
            if row.seq > self.seq:
                self._count(row)
        self.seq = top
        return len(rows)

    def _count(self, row: AuditEntry) -> None:
        after = row.after or {}
        before = row.before or {}
        if row.action in ("order.created", "order.updated", "order.filled"):
            status = after.get("status")
            if isinstance(status, str) and status != before.get("status"):
                self.metrics.orders.labels(status=status).inc()
        elif row.action == "decision.recorded":
            self.metrics.decisions.labels(decision=_decision(after)).inc()
        elif row.action == "verdict.recorded":
            verdict = after.get("verdict") or after.get("action") or "verdict"
            self.metrics.decisions.labels(decision=f"agent_{verdict}").inc()


def _decision(after: dict[str, object]) -> str:
    if not after.get("approved"):
        return "vetoed"
    requested, approved = after.get("requested_quantity"), after.get("approved_quantity")
    numbers = isinstance(requested, int | float) and isinstance(approved, int | float)
    if numbers and approved < requested:  # type: ignore[operator]
        return "shrunk"
    return "approved"
