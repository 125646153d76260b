"""Registry tools as CrewAI and LangChain tools: typed, recorded, errors answered as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradecrew.agents.adapters import (
    ToolContext,
    UnknownToolError,
    call_key,
    crewai_tools,
    desk_registry,
    invoke_tool,
    langchain_tools,
)
from tradecrew.agents.recorder import RunRecorder


def test_one_crewai_tool_per_registry_entry_with_its_input_model() -> None:
    tools = crewai_tools()
    registry = desk_registry()
    assert [t.name for t in tools] == list(registry)
    for tool in tools:
        spec = registry[tool.name]
        model = spec.args_model
        # The model-facing arguments (the input model less what the run fixes), with their
        # JSON schema generated once.
        assert issubclass(tool.args_schema, model) and tool.args_schema.__name__ == model.__name__
        assert tool.args_schema.model_fields.keys() == model.model_fields.keys()
        assert model.model_fields.keys() == spec.input_model.model_fields.keys() - spec.bound
        assert tool.args_schema.model_json_schema() == model.model_json_schema()


def test_crewai_tool_returns_the_output_model_json_and_records_the_call(home: Path) -> None:
    recorder = RunRecorder()
    ctx = ToolContext(symbol="XAUUSD", agent="Regime analyst", recorder=recorder)
    (tool,) = crewai_tools(["market_regime"], context=ctx)
    out = tool.run(symbol="XAUUSD")
    spec = desk_registry()["market_regime"]
    assert spec.output_model.model_validate_json(out).symbol == "XAUUSD"
    (call,) = recorder.tool_calls
    assert (call.tool, call.agent, call.ok, call.output) == (
        "market_regime",
        "Regime analyst",
        True,
        out,
    )
    assert call.latency_ms > 0


def test_bad_arguments_come_back_as_a_short_json_error(home: Path) -> None:
    recorder = RunRecorder()
    (tool,) = crewai_tools(["indicators"], context=ToolContext(recorder=recorder))
    for bad in (
        {"symbol": "XAUUSD", "timeframe": "H7"},
        {"symbol": "XAUUSD", "bogus": 1},
        {},
        {"symbol": "NOSUCH"},
    ):
        out = json.loads(tool.run(**bad))
        assert set(out) == {"error", "tool"} and len(out["error"]) <= 300
    assert [c.ok for c in recorder.tool_calls] == [False] * 4


def test_unknown_tool_name_is_refused() -> None:
    with pytest.raises(UnknownToolError, match="crystal_ball"):
        crewai_tools(["crystal_ball"])


def test_pinned_asof_overrides_and_defaults_fill(home: Path) -> None:
    recorder = RunRecorder()
    cut = datetime(2015, 1, 1, tzinfo=UTC)
    ctx = ToolContext(
        recorder=recorder, defaults={"symbol": "XAUUSD", "timeframe": "D1"}, pinned={"asof": cut}
    )
    spec = desk_registry()["indicators"]
    out = spec.output_model.model_validate_json(
        invoke_tool(spec, {"asof": None, "symbol": None}, ctx)
    )
    assert out.timestamp < cut
    assert recorder.tool_calls[0].arguments["symbol"] == "XAUUSD"


def test_langchain_tools_validate_and_answer_json(home: Path) -> None:
    recorder = RunRecorder()
    (tool,) = langchain_tools(["news_sentiment"], context=ToolContext(recorder=recorder))
    assert tool.args_schema is desk_registry()["news_sentiment"].input_model
    out = json.loads(tool.invoke({"texts": ["Gold surges to record high"]}))
    assert out["summary"]["n"] == 1
    bad = json.loads(tool.invoke({"texts": []}))
    assert "error" in bad


def test_importing_the_package_does_not_import_crewai() -> None:
    code = (
        "import sys, tradecrew, tradecrew.agents; from tradecrew.agents import run_crew; "
        "print('crewai' in sys.modules, 'langchain_core' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert out.stdout.split() == ["False", "False"]


def test_a_call_already_answered_in_the_run_is_not_run_again(home: Path) -> None:
    recorder = RunRecorder()
    spec = desk_registry()["indicators"]
    ctx = ToolContext(recorder=recorder, defaults={"timeframe": "D1"})
    first = invoke_tool(spec, {"symbol": "XAUUSD"}, ctx)
    key = call_key(spec, {"symbol": "XAUUSD", "timeframe": "D1"})
    assert key is not None and ctx.answers == {key: first}
    # Whatever the run holds for that call is the answer (the same arguments, spelled
    # differently, are the same call); a different call still runs.
    ctx.answers[key] = '{"kept": true}'
    assert invoke_tool(spec, {"timeframe": "D1", "symbol": "XAUUSD"}, ctx) == '{"kept": true}'
    other = invoke_tool(spec, {"symbol": "EURUSD"}, ctx)
    assert "EURUSD" in other and len(ctx.answers) == 2
    assert [c.ok for c in recorder.tool_calls] == [True, True, True]


def test_a_call_with_bad_arguments_has_no_key_and_is_not_kept(home: Path) -> None:
    spec = desk_registry()["indicators"]
    assert call_key(spec, {"symbol": ""}) is None
    ctx = ToolContext()
    assert "error" in json.loads(invoke_tool(spec, {"symbol": ""}, ctx))
    assert ctx.answers == {}
