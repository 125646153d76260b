"""MCP figures over stdio with the real SDK client: server start to first response, and the
median round trip of read-only tools (server start excluded).

Run: uv run python bench/bench_mcp.py
Targets: start to first response under 1 s; read-only round trip median under 20 ms.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from _quick import QUICK
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROUNDS = 5 if QUICK else 100


async def main() -> None:
    home = Path(tempfile.mkdtemp()) / "home"
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "tradecrew", "mcp"], env={"TRADECREW_HOME": str(home)}
    )
    started = time.perf_counter()
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        first = time.perf_counter() - started
        print(f"server start to first response: {first * 1e3:.0f} ms (target < 1000 ms)")
        await session.call_tool("get_quote", {"symbol": "XAUUSD"})  # opens the desk
        for tool, args in (
            ("get_quote", {"symbol": "XAUUSD"}),
            ("get_account", {}),
            ("get_risk_status", {}),
            ("get_regime", {"symbol": "SPX"}),
        ):
            times = []
            for _ in range(ROUNDS):
                t = time.perf_counter()
                result = await session.call_tool(tool, args)
                times.append(time.perf_counter() - t)
                assert not result.isError, result.content
            print(
                f"{tool:16s} median {statistics.median(times) * 1e3:6.2f} ms, "
                f"p95 {sorted(times)[int(ROUNDS * 0.95)] * 1e3:6.2f} ms (target median < 20 ms)"
            )


if __name__ == "__main__":
    anyio.run(main)
