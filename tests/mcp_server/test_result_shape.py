"""Tool results as a client receives them over stdio: the JSON once, compact, rounded; bars
and analysis in a compact form by default; the latest report; a hint on a terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.mcp_server.mcp_client import mcp_session, payload, server_env


def run(fn: Any) -> Any:
    return anyio.run(fn)


def _decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def _floats(data: Any) -> list[float]:
    if isinstance(data, float):
        return [data]
    if isinstance(data, dict):
        return [f for v in data.values() for f in _floats(v)]
    if isinstance(data, list):
        return [f for v in data for f in _floats(v)]
    return []


def test_results_are_sent_once_compact_and_rounded(tmp_path: Path):
    async def main() -> dict[str, Any]:
        async with mcp_session(tmp_path / "home") as s:
            return {
                "bars": await s.call_tool("get_bars", {"symbol": "XAUUSD", "limit": 100}),
                "bars_default": await s.call_tool("get_bars", {"symbol": "EURUSD"}),
                "records": await s.call_tool(
                    "get_bars",
                    {
                        "symbol": "XAUUSD",
                        "limit": 3,
                        "layout": "records",
                        "fields": ["close", "volume"],
                    },
                ),
                "analysis": await s.call_tool("analyze_symbol", {"symbol": "XAUUSD"}),
                "detail": await s.call_tool("analyze_symbol", {"symbol": "XAUUSD", "detail": True}),
                "account": await s.call_tool("get_account", {}),
            }

    got = run(main)
    for name, result in got.items():
        assert result.structuredContent is not None, name
        assert len(result.content) == 1, name
        text = result.content[0].text
        # one short line naming the tool, not the JSON again
        assert "\n" not in text and len(text) < 600 and not text.startswith("{"), (name, text)
        for value in _floats(result.structuredContent):
            # six significant digits at most, cents above 100: no 17-digit floats
            digits = repr(abs(value)).split("e")[0].replace(".", "").lstrip("0")
            assert _decimals(value) <= 2 if abs(value) >= 100 else len(digits) <= 6, (name, value)
    bars = payload(got["bars"])
    assert bars["columns"] == ["timestamp", "open", "high", "low", "close"]
    assert len(bars["rows"]) == 100 and bars["rows"][-1][0] == "2018-12-31"
    assert len(json.dumps(bars, separators=(",", ":"))) < 6_000  # was 17 KB for 100 bars
    assert all(_decimals(v) <= 2 for row in bars["rows"] for v in row[1:])  # gold's 0.01 tick
    eur = payload(got["bars_default"])
    assert len(eur["rows"]) == 50 and all(_decimals(v) <= 5 for r in eur["rows"] for v in r[1:])
    records = payload(got["records"])["bars"]
    assert list(records[0]) == ["timestamp", "close", "volume"] and len(records) == 3
    summary, detail = payload(got["analysis"]), payload(got["detail"])
    assert summary["signal"]["direction"] in {"long", "short", "flat"}
    assert summary["blackout"]["synthetic"] is True and "indicators" in summary
    assert "bb_upper" not in summary["indicators"] and "bb_upper" in detail["indicators"]
    assert len(json.dumps(summary)) < 1_600 < len(json.dumps(detail))
    assert _decimals(summary["last_price"]) <= 2
    assert "the full result is the structured content" in got["analysis"].content[0].text


def test_the_latest_report_resource_is_the_latest_crew_run(tmp_path: Path):
    home = tmp_path / "home"
    env = server_env(home)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tradecrew",
            "crew",
            "run",
            "--symbols",
            "XAUUSD,EURUSD",
            "--no-remember",
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]

    async def main() -> dict[str, Any]:
        async with mcp_session(home) as s:
            text = (await s.read_resource("tradecrew://reports/latest")).contents[0].text
            return json.loads(text)

    latest = run(main)
    assert latest["account_mode"] == "paper" and latest["run"]["run_id"] == run_id
    assert [i["symbol"] for i in latest["items"]] == ["XAUUSD", "EURUSD"]
    first = latest["items"][0]
    assert (
        set(first["report"]) == {"untrusted_text"} and "XAUUSD" in first["report"]["untrusted_text"]
    )
    assert first["decision"]["direction"] in {"long", "short", "flat"}
    assert "proposal" not in first  # a report, not the proposal list


def test_on_a_terminal_the_server_says_it_waits_for_a_client(tmp_path: Path):
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradecrew", "mcp"],
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=server_env(tmp_path / "home"),
    )
    os.close(secondary)
    try:
        deadline = time.monotonic() + 60
        line = b""
        os.set_blocking(proc.stderr.fileno(), False)  # type: ignore[union-attr]
        while b"\n" not in line and time.monotonic() < deadline and proc.poll() is None:
            chunk = proc.stderr.read(4096) or b""  # type: ignore[union-attr]
            line += chunk
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        os.close(primary)
    first = line.decode().splitlines()[0] if line else ""
    assert "waiting for an MCP client" in first, line


def test_piped_stdin_gets_no_hint(tmp_path: Path):
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    done = subprocess.run(
        [sys.executable, "-m", "tradecrew", "mcp"],
        input=json.dumps(init) + "\n",
        env=server_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(done.stdout.splitlines()[0])["id"] == 1
    assert "waiting" not in done.stderr


@pytest.mark.parametrize("symbol", ["EURUSD", "XAUUSD"])
def test_rounding_keeps_prices_to_the_tick(symbol: str):
    from tradecrew.mcp_server.results import round_result

    shaped = round_result(
        {
            "symbol": symbol,
            "bid": 1.234567891,
            "confidence": 0.8670145651914213,
            "cash": 95521.0482356086,
            "nested": {"average_price": 2239.363914},
        }
    )
    tick = 5 if symbol == "EURUSD" else 2
    assert _decimals(shaped["bid"]) <= tick and _decimals(shaped["nested"]["average_price"]) <= tick
    assert shaped["confidence"] == 0.867015 and shaped["cash"] == 95521.05
