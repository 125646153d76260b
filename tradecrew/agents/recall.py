"""What a new run reads before deciding, besides market data: the desk's memory of past
trades and decisions, and each symbol's stored news over time. Both are context: a failure
to read them leaves a run without them, never failed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from tradecrew.config import Settings


def recall_memories(symbols: Sequence[str], settings: Settings, k: int = 3) -> dict[str, list[str]]:
    """For each symbol, its latest closed trades (P&L, regimes, which components were right)
    then the most similar past decisions, from the desk's memory (when present)."""
    if not (settings.home / "memory").is_dir():
        return {}  # nothing remembered yet: spare the run the memory's start-up
    try:
        from tradecrew.memory import DeskMemory

        memory = DeskMemory.from_settings(settings)
        found: dict[str, list[str]] = {}
        for s in symbols:
            items = memory.past_outcomes(s, k=k)
            seen = {i.id for i in items}
            items += [i for i in memory.search(s, symbol=s, k=k) if i.id not in seen]
            if items:
                found[s] = [f"[{i.kind.value} {i.created_at:%Y-%m-%d}] {i.text}" for i in items]
        return found
    except Exception:  # memory is context, never a reason for a run to fail
        return {}


def news_sentiment(
    symbols: Sequence[str], asof: datetime | None, settings: Settings
) -> dict[str, Any]:
    """Each symbol's stored-news sentiment over time (recorded with the run's inputs, so a
    replay votes the same); news is context, never a reason for a run to fail."""
    try:
        from tradecrew.news.aggregate import symbol_sentiment

        found = {s: symbol_sentiment(s, asof, settings) for s in symbols}
    except Exception:
        return {}
    return {s: agg for s, agg in found.items() if agg.n}
