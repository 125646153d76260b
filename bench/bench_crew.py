"""Crew figures: a deterministic run over 10 symbols (target < 2 s) and the crew's own
overhead per symbol in LLM mode against the scripted local server (target < 200 ms).

Run: ``.venv/bin/python bench/bench_crew.py``. Uses a temporary TRADECREW_HOME; the LLM
answers instantly, so LLM-mode wall time is CrewAI plus the desk, not model time (the
recorded request latency is subtracted too).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _quick import QUICK

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SYMBOLS = [
    "XAUUSD",
    "EURUSD",
    "GBPUSD",
    "USDJPY",
    "AUDUSD",
    "SPX",
    "NDX",
    "BTCUSD",
    "ETHUSD",
    "XAGUSD",
]


def deterministic_seconds(repeats: int = 5) -> float:
    from tradecrew.agents import run_crew

    run_crew(SYMBOLS[:1], dry_run=True)  # imports and provider caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = run_crew(SYMBOLS, dry_run=True)
        times.append(time.perf_counter() - start)
        assert all(o.status == "ok" for o in result.outcomes), result.outcomes
    return statistics.median(times)


def llm_overhead_ms(symbols: int = 5, repeats: int = 3) -> tuple[float, float, float]:
    """Per symbol: wall, wall minus LLM request time, and minus tool time too (ms).

    Each repeat is one sequential run (MAX_CONCURRENCY=1) over ``symbols`` symbols, so that
    the recorded request latency can be subtracted: in a parallel run requests overlap each
    other and the crew's own work. The run with the median figure is reported, because a
    single run on a shared machine varies by tens of percent (other processes, a full
    garbage collection landing inside it).
    """
    from tests.agents.scripts import DeskScript
    from tests.fakes.llm_server import ScriptedLLMServer
    from tradecrew.agents import run_crew
    from tradecrew.config import get_settings

    os.environ["TRADECREW_LLM__MAX_CONCURRENCY"] = "1"
    get_settings.cache_clear()
    figures = []
    with ScriptedLLMServer(responder=DeskScript()) as srv:
        kw = {
            "llm": "scripted-model",
            "base_url": srv.base_url,
            "dry_run": True,
            "use_cache": False,
        }
        run_crew(SYMBOLS[:1], **kw)  # import CrewAI once
        for _ in range(repeats):
            start = time.perf_counter()
            result = run_crew(SYMBOLS[:symbols], **kw)
            wall = time.perf_counter() - start
            assert all(o.status == "ok" for o in result.outcomes), [
                o.message for o in result.outcomes
            ]
            llm_ms = sum(c.latency_ms for c in result.llm_calls) / symbols
            tool_ms = sum(c.latency_ms for c in result.tool_calls) / symbols
            per_symbol = wall * 1000 / symbols
            figures.append((per_symbol, per_symbol - llm_ms, per_symbol - llm_ms - tool_ms))
    figures.sort(key=lambda f: f[1])
    return figures[len(figures) // 2]


def main() -> None:
    with tempfile.TemporaryDirectory() as home:
        os.environ["TRADECREW_HOME"] = home
        os.environ["TRADECREW_CREW_FILE"] = str(Path(__file__).resolve().parents[1] / "crew.yaml")
        det = deterministic_seconds(1 if QUICK else 5)
        print(f"deterministic run, {len(SYMBOLS)} symbols: {det:.3f} s (target < 2 s)")
        wall, no_llm, no_tools = llm_overhead_ms(2, 1) if QUICK else llm_overhead_ms()
        print(
            f"LLM mode per symbol: {wall:.0f} ms wall, {no_llm:.0f} ms excluding LLM "
            f"requests (target < 200 ms), {no_tools:.0f} ms excluding tool runs too"
        )


if __name__ == "__main__":
    main()
