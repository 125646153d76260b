"""The run recorder: every tool call and LLM call of a run, so outputs can be checked later.

Thread-safe because a watchlist runs symbols in parallel and CrewAI runs tools in a pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from tradecrew.agents.schemas import AgentUsage, LLMCallRecord, RunSummary, ToolCallRecord


class RunRecorder:
    """Collects the calls of one run; ``summary()`` totals tokens, cost and latency per agent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tool_calls: list[ToolCallRecord] = []
        self.llm_calls: list[LLMCallRecord] = []

    def add_tool_call(self, record: ToolCallRecord) -> None:
        with self._lock:
            self.tool_calls.append(record)

    def add_llm_call(self, record: LLMCallRecord) -> None:
        with self._lock:
            self.llm_calls.append(record)

    def tool_outputs(self, symbol: str) -> list[str]:
        """The JSON every tool returned for ``symbol`` in this run (the grounding evidence)."""
        with self._lock:
            return [c.output for c in self.tool_calls if c.symbol == symbol and c.ok]

    def summary(self, wall_seconds: float = 0.0, unpriced: Iterable[str] = ()) -> RunSummary:
        with self._lock:
            tools, calls = list(self.tool_calls), list(self.llm_calls)
        per_agent: dict[str, AgentUsage] = {}
        for call in calls:
            usage = per_agent.setdefault(call.agent or "unknown", AgentUsage())
            usage.llm_calls += 1
            usage.prompt_tokens += call.prompt_tokens
            usage.completion_tokens += call.completion_tokens
            usage.cost += call.cost
            usage.llm_latency_ms += call.latency_ms
        for tool in tools:
            usage = per_agent.setdefault(tool.agent or "unknown", AgentUsage())
            usage.tool_calls += 1
            usage.tool_latency_ms += tool.latency_ms
        prompt = sum(c.prompt_tokens for c in calls)
        completion = sum(c.completion_tokens for c in calls)
        missing = sorted(set(unpriced))
        note = f"no price known for {', '.join(missing)}: counted at 0" if missing else ""
        return RunSummary(
            total_tokens=prompt + completion,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost=round(sum(c.cost for c in calls), 6),
            cost_note=note,
            llm_calls=len(calls),
            cached_calls=sum(1 for c in calls if c.cached),
            tool_calls=len(tools),
            wall_seconds=round(wall_seconds, 3),
            per_agent=per_agent,
        )
