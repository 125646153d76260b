"""What a finished run leaves behind: a row in the ledger and its decisions in memory."""

from __future__ import annotations

import logging

from tradecrew.agents.schemas import CrewRunResult
from tradecrew.config import Settings

log = logging.getLogger(__name__)


def record_in_ledger(result: CrewRunResult, settings: Settings) -> None:
    """One row per run beside the JSON record: inputs, outcomes, tokens, cost, latency."""
    from tradecrew.ledger import Ledger

    failed = any(o.status == "error" for o in result.outcomes)
    with Ledger.from_settings(settings) as ledger:
        run = ledger.start_run(
            "crew", {"run_id": result.run_id, **result.inputs.model_dump(mode="json")}
        )
        ledger.finish_run(
            run.id,
            "failed" if failed else "succeeded",
            {
                "summary": result.summary.model_dump(mode="json"),
                "outcomes": [
                    o.model_dump(mode="json", exclude={"task_outputs"}) for o in result.outcomes
                ],
                "record_path": result.record_path,
            },
        )


def remember(result: CrewRunResult, settings: Settings) -> None:
    """Each decision and its report, for later runs to recall as similar situations.

    Memory is context: when it cannot be written (chromadb missing, disk full) the run
    still stands, and the reason is logged.
    """
    try:
        from tradecrew.memory import DeskMemory, MemoryEntry, MemoryKind

        entries = [
            MemoryEntry(
                kind=MemoryKind.DECISION,
                text=o.report,
                symbol=o.symbol,
                regime=o.regime,
                metadata={
                    "run_id": result.run_id,
                    "mode": result.mode,
                    "status": o.status,
                    **({"proposal_id": o.proposal_id} if o.proposal_id else {}),
                },
            )
            for o in result.outcomes
            if o.report
        ]
        if entries:
            DeskMemory.from_settings(settings).remember_all(entries)
    except Exception as exc:
        log.warning("run %s not written to memory: %s", result.run_id, exc)
