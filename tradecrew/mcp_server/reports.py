"""``tradecrew://reports/latest``: the report of the latest crew run, read from its record.

A run (``tradecrew crew run``, or the MCP client through the CLI) leaves
``<home>/runs/<run_id>.json``; run ids start with their UTC start time, so the newest name is
the latest run. Each symbol's report is the analysts' text: data, wrapped as untrusted_text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tradecrew.mcp_server.schemas import untrusted

_DECISION_FIELDS = (
    "direction",
    "quantity",
    "entry_price",
    "stop_loss",
    "take_profit",
    "confidence",
    "risk_verdict",
    "grounded",
    "mode",
)


def _latest_record(home: Path) -> dict[str, Any] | None:
    runs = home / "runs"
    names = sorted(runs.glob("run_*.json"), reverse=True) if runs.is_dir() else []
    for path in names:  # a record being written or damaged is skipped, not fatal
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return data
    return None


def latest_run_report(home: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The latest run (id, mode, times, message) and one item per symbol; ``(None, [])``
    before the first run."""
    record = _latest_record(home)
    if record is None:
        return None, []
    run = {
        "run_id": record.get("run_id"),
        "mode": record.get("mode"),
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "message": record.get("message", ""),
    }
    items = []
    for outcome in record.get("outcomes") or []:
        decision = outcome.get("decision") or {}
        items.append(
            {
                "symbol": outcome.get("symbol"),
                "status": outcome.get("status"),
                "regime": outcome.get("regime"),
                "decision": {k: decision.get(k) for k in _DECISION_FIELDS} if decision else None,
                "proposal_id": outcome.get("proposal_id"),
                "proposal_status": outcome.get("proposal_status"),
                "report": untrusted(str(outcome.get("report") or "")),
                "message": outcome.get("message", ""),
            }
        )
    return run, items
