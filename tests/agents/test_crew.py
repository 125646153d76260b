"""Building the crew from crew.yaml: tools by registry name, output models, task order."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.llm_server import ScriptedLLMServer
from tests.tools.front_end import analyze
from tradecrew.agents import run_crew
from tradecrew.agents.adapters import ToolContext, call_key, desk_registry
from tradecrew.agents.crew import (
    CrewBuildError,
    SymbolContext,
    build_crew,
    task_order,
    validate_crew,
)
from tradecrew.agents.deterministic import deterministic_decision
from tradecrew.agents.gateway import LLMGateway
from tradecrew.agents.llm import make_llm
from tradecrew.agents.recorder import RunRecorder
from tradecrew.agents.schemas import RiskReview, TradePlan
from tradecrew.config import get_settings
from tradecrew.crewfile import CrewFile, load_crew_file
from tradecrew.tools.catalog import AnalyzeQuery


def _crew(**tasks) -> CrewFile:
    return CrewFile.model_validate(
        {
            "agents": {"a": {"role": "A", "goal": "g", "tools": ["indicators"]}},
            "tasks": {
                name: {"description": "d", "expected_output": "e", "agent": "a", "context": ctx}
                for name, ctx in tasks.items()
            },
        }
    )


def test_unknown_tool_name_is_a_clear_error() -> None:
    crew = _crew(t=[])
    crew.agents["a"].tools.append("crystal_ball")
    with pytest.raises(CrewBuildError, match=r"agent 'a'.*unknown tool 'crystal_ball'"):
        validate_crew(crew)


def test_unknown_output_model_is_a_clear_error() -> None:
    crew = _crew(t=[])
    crew.tasks["t"].output = "Horoscope"
    with pytest.raises(CrewBuildError, match="unknown output model 'Horoscope'"):
        validate_crew(crew)


def test_tasks_run_after_their_context() -> None:
    crew = _crew(plan=["brief"], brief=[], review=["plan"])
    assert task_order(crew) == ["brief", "plan", "review"]


def _build(ctx: SymbolContext, home: Path, crew_file: CrewFile) -> Any:
    """The crew for ``ctx``, its agents' LLMs pointed at a scripted server."""
    with ScriptedLLMServer() as srv:
        gateway = LLMGateway(
            cache_dir=home / "c",
            base_url=srv.base_url,
            recorder=RunRecorder(),
            max_tokens=10,
            max_cost=1,
            max_concurrency=1,
            max_retries=0,
        )
        return build_crew(
            ctx,
            crew_file=crew_file,
            model="m",
            base_url=srv.base_url,
            llm_factory=lambda cfg: make_llm(cfg, gateway, ctx.symbol),
        )


def test_standard_crew_has_typed_outputs_and_registry_tools(home: Path) -> None:
    crew_file = load_crew_file()
    settings = get_settings()
    analysis = analyze(AnalyzeQuery(symbol="XAUUSD", headlines=["{symbol} rallies"]))
    baseline = deterministic_decision(analysis, equity=100_000, settings=settings)
    ctx = SymbolContext("XAUUSD", "D1", analysis, baseline, ["{symbol} rallies"])
    crew = _build(ctx, home, crew_file)
    by_name = {t.name: t for t in crew.tasks}
    assert by_name["trade_plan"].output_pydantic is TradePlan
    assert by_name["risk_review"].output_pydantic is RiskReview
    assert [t.name for t in by_name["risk_review"].context] == ["trade_plan"]
    risk = next(a for a in crew.agents if a.role == "Risk manager")
    assert sorted(t.name for t in risk.tools) == ["economic_calendar", "forex_sessions"]
    # Untrusted text is not template-expanded and sits in its labelled block.
    sentiment = by_name["sentiment_assessment"].description
    assert '["{symbol} rallies"]' in sentiment.split("UNTRUSTED headlines", 1)[1]


def test_crew_writes_nothing_outside_the_home(
    home: Path, server: ScriptedLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # CrewAI would keep every task's prompt and answer in a SQLite file under the user's data
    # directory; the desk keeps them in its run record only.
    data_home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    result = run_crew(["XAUUSD"], llm="m", base_url=server.base_url, dry_run=True)
    assert result.outcomes[0].status == "ok", result.outcomes[0].message
    assert len(result.outcomes[0].task_outputs) == 6
    written = [p for p in data_home.rglob("*") if p.is_file()] if data_home.exists() else []
    assert written == []
    assert (home / "runs" / f"{result.run_id}.json").is_file()


def test_each_agent_starts_from_an_empty_executor_state(home: Path) -> None:
    crew_file = load_crew_file()
    settings = get_settings()
    analysis = analyze(AnalyzeQuery(symbol="EURUSD"))
    baseline = deterministic_decision(analysis, equity=100_000, settings=settings)
    ctx = SymbolContext("EURUSD", "D1", analysis, baseline, [])
    crews = [_build(ctx, home, crew_file) for _ in range(2)]
    executors = []
    for crew in crews:
        for agent in crew.agents:
            agent.create_agent_executor()
            executors.append(agent.agent_executor)
    assert len({id(e) for e in executors}) == len(executors) == 10
    assert len({id(e.state) for e in executors}) == 10
    for executor in executors:
        state = executor.state
        assert state.messages == [] and state.iterations == 0 and not state.is_finished
        assert state.current_answer is None and state.pending_tool_calls == []
        # The executor runs CrewAI's own steps.
        assert {"call_llm_native_tools", "execute_native_tool", "finalize"} <= set(
            type(executor).flow_definition().methods
        )


def _tool_contexts(ctx: SymbolContext, home: Path) -> list[ToolContext]:
    crew = _build(ctx, home, load_crew_file())
    return [tool._ctx for agent in crew.agents for tool in agent.tools]


@pytest.mark.parametrize("asof", [datetime(2018, 6, 29, 21, tzinfo=UTC), None])
def test_the_runs_analysis_answers_an_agents_identical_call(
    home: Path, asof: datetime | None
) -> None:
    analysis = analyze(AnalyzeQuery(symbol="EURUSD", asof=asof))
    baseline = deterministic_decision(analysis, equity=100_000, settings=get_settings())
    contexts = _tool_contexts(SymbolContext("EURUSD", "D1", analysis, baseline, [], asof), home)
    (answers,) = {id(c.answers): c.answers for c in contexts}.values()  # one per symbol run
    ((key, seeded),) = answers.items()
    spec = desk_registry()["analyze_symbol"]
    # What an agent's call with the run's defaults and pinned time computes, computed afresh.
    args = {**contexts[0].defaults, **contexts[0].pinned}
    args.pop("timestamp", None)
    assert key == call_key(spec, args)
    assert seeded == spec.run(args).model_dump_json()


def test_no_analysis_is_seeded_when_the_run_read_headlines(home: Path) -> None:
    asof = datetime(2018, 6, 29, 21, tzinfo=UTC)
    analysis = analyze(AnalyzeQuery(symbol="EURUSD", asof=asof, headlines=["ECB hikes"]))
    baseline = deterministic_decision(analysis, equity=100_000, settings=get_settings())
    with_news = SymbolContext("EURUSD", "D1", analysis, baseline, ["ECB hikes"], asof)
    assert all(c.answers == {} for c in _tool_contexts(with_news, home))
