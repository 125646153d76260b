"""Models never choose files: the run fixes the data source, tools hide every path argument.

A model that could send ``source="csv:/any/path"`` would read any file and see its first
line in the error; these tests hand the crew's, LangChain's and MCP's tools such a call.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tradecrew.agents.adapters import (
    ToolContext,
    crewai_tools,
    desk_registry,
    invoke_tool,
    langchain_tools,
)
from tradecrew.agents.recorder import RunRecorder
from tradecrew.crewfile import load_crew_file

SECRET = "sk-live-4f9a2b7c8d1e0f3a6b5c"
FILE_WORDS = ("source", "path", "file", "csv", "dir", "url")


def _secret_csv(tmp_path: Path) -> Path:
    path = tmp_path / "XAUUSD.csv"
    path.write_text(f"{SECRET}\n{SECRET};{SECRET}\n", encoding="utf-8")
    return path


def _file_params(schema: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for name, prop in (schema.get("properties") or {}).items():
        if any(w in name.lower() for w in FILE_WORDS):
            names.append(name)
        names += _file_params(prop if isinstance(prop, dict) else {})
    for sub in (schema.get("$defs") or {}).values():
        names += _file_params(sub)
    return names


def test_no_tool_schema_given_to_a_model_has_a_file_argument(home: Path) -> None:
    crew = load_crew_file()
    names = sorted({t for agent in crew.agents.values() for t in agent.tools})
    schemas = {f"crewai:{t.name}": t.args_schema.model_json_schema() for t in crewai_tools()}
    schemas |= {f"crew:{t.name}": t.args_schema.model_json_schema() for t in crewai_tools(names)}
    schemas |= {f"langchain:{t.name}": t.args_schema.model_json_schema() for t in langchain_tools()}
    schemas |= {f"registry:{n}": s.json_schema() for n, s in desk_registry().items()}
    found = {where: _file_params(schema) for where, schema in schemas.items()}
    assert {k: v for k, v in found.items() if v} == {}


def test_a_model_naming_a_file_through_the_crewai_tool_reads_nothing(
    home: Path, tmp_path: Path
) -> None:
    path = _secret_csv(tmp_path)
    recorder = RunRecorder()
    ctx = ToolContext(symbol="XAUUSD", recorder=recorder, pinned={"source": "sample"})
    tools = {t.name: t for t in crewai_tools(["get_bars", "get_quote"], context=ctx)}
    for name, tool in tools.items():
        out = tool.run(symbol="XAUUSD", source=f"csv:{path}")
        assert SECRET not in out and "set by the run" in json.loads(out)["error"], name
        assert path.name not in out  # the file was never opened
    assert not any(c.ok for c in recorder.tool_calls)
    # Without the argument, the run's own source answers.
    bars = json.loads(tools["get_bars"].run(symbol="XAUUSD", max_bars=3))
    assert len(bars["bars"]) == 3


def test_a_model_naming_a_file_through_langchain_is_refused(home: Path, tmp_path: Path) -> None:
    path = _secret_csv(tmp_path)
    (tool,) = langchain_tools(["indicators"], context=ToolContext())
    out = tool.invoke({"symbol": "XAUUSD", "source": f"csv:{path}"})
    error = json.loads(out)["error"]
    assert "source" in error and SECRET not in out and path.name not in out


def test_the_runs_source_is_pinned_whatever_the_arguments(home: Path, tmp_path: Path) -> None:
    spec = desk_registry()["get_bars"]
    ctx = ToolContext(pinned={"source": "sample"}, defaults={"source": f"csv:{tmp_path}"})
    out = json.loads(invoke_tool(spec, {"symbol": "XAUUSD", "max_bars": 2}, ctx))
    assert len(out["bars"]) == 2 and out["synthetic"] is True  # the sample data


def test_mcp_tools_offer_no_file_argument(home: Path) -> None:
    from tradecrew.desk import Desk
    from tradecrew.mcp_server.server import build_server

    desk = Desk.from_settings()
    try:
        tools = asyncio.run(build_server(desk).list_tools())
    finally:
        desk.close()
    found = {t.name: _file_params(t.inputSchema) for t in tools}
    assert tools and {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("name", ["get_bars", "analyze_symbol"])
def test_mcp_read_tools_read_the_configured_source_only(
    home: Path, tmp_path: Path, name: str
) -> None:
    path = _secret_csv(tmp_path)
    from tradecrew.desk import Desk
    from tradecrew.mcp_server.server import build_server

    desk = Desk.from_settings()
    try:
        mcp = build_server(desk)
        # FastMCP drops arguments a tool does not declare: the configured source answers.
        result = asyncio.run(mcp.call_tool(name, {"symbol": "XAUUSD", "source": f"csv:{path}"}))
    finally:
        desk.close()
    text = str(result)
    assert "XAUUSD" in text and SECRET not in text and "csv:" not in text
