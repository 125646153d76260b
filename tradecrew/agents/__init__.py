"""The crew: CrewAI agents over the desk's tools, or the same decision without an LLM.

``run_crew(symbols)`` decides on a watchlist and files proposals; ``replay(run_id)`` re-runs a
recorded run from the LLM cache. CrewAI is imported only when a crew is actually built.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradecrew.agents.adapters import crewai_tools, langchain_tools
    from tradecrew.agents.crew import build_crew
    from tradecrew.agents.runner import load_run, replay, run_crew
    from tradecrew.agents.schemas import CrewRunResult, DeskDecision, SymbolOutcome

_EXPORTS = {
    "run_crew": "tradecrew.agents.runner",
    "replay": "tradecrew.agents.runner",
    "load_run": "tradecrew.agents.runner",
    "build_crew": "tradecrew.agents.crew",
    "crewai_tools": "tradecrew.agents.adapters",
    "langchain_tools": "tradecrew.agents.adapters",
    "CrewRunResult": "tradecrew.agents.schemas",
    "DeskDecision": "tradecrew.agents.schemas",
    "SymbolOutcome": "tradecrew.agents.schemas",
}

__all__ = [
    "CrewRunResult",
    "DeskDecision",
    "SymbolOutcome",
    "build_crew",
    "crewai_tools",
    "langchain_tools",
    "load_run",
    "replay",
    "run_crew",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tradecrew.agents' has no attribute {name!r}")
    return getattr(import_module(module), name)
