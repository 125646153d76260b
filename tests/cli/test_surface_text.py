"""What a person reads: tables that fit the terminal, each word once, prices at their tick."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from tests.cli.invoke import cli
from tradecrew.cli import common
from tradecrew.cli.tables import Col, fit_table

pytestmark = pytest.mark.usefixtures("tradecrew_home")


@pytest.fixture
def width(monkeypatch, request):
    monkeypatch.setattr(common.console, "width", request.param)
    return request.param


def _flat(text: str) -> str:
    """The text with the console's line wrapping undone."""
    return " ".join(text.split())


def _fits(text: str, width: int) -> None:
    for line in text.splitlines():
        assert len(line) <= width, line
        assert "…" not in line, line


def _desk_with_orders() -> str:
    """A filled order with its stop-loss and take-profit legs, a vetoed and a limit proposal."""
    filed = json.loads(
        cli("propose", "XAUUSD", "buy", "2", "--sl", "2180", "--tp", "2350", "--json").stdout
    )
    approved = cli("proposals", "approve", filed["proposal_id"])
    assert approved.exit_code == 0, approved.output
    assert cli("propose", "XAUUSD", "buy", "2000").exit_code == 0
    return approved.stdout


@pytest.mark.parametrize("width", [80, 120], indirect=True)
def test_tables_fit_the_terminal_without_cut_words(width: int):
    _desk_with_orders()
    for command in (["proposals"], ["orders"], ["positions"], ["risk"]):
        out = cli(*command)
        assert out.exit_code == 0, out.output
        _fits(out.stdout, width)
        assert "pending" in out.stdout or command != ["proposals"] or "vetoed" in out.stdout
    listed = cli("proposals").stdout
    assert "vetoed" in listed and "filled" in listed
    if width == 80:
        assert "not shown at this width" in listed
    else:
        assert "origin" in listed and "not shown" not in listed


def test_fit_table_drops_by_priority_and_keeps_every_character():
    cols = [Col("id"), Col("status"), Col("note", priority=2, wrap=True), Col("extra", priority=1)]
    rows = [["prp_0123456789abcdef", "partially_filled", "a b c d e f", "x" * 10]]
    console = Console(width=55, record=True)
    console.print(fit_table(cols, rows, console=console))
    text = console.export_text()
    _fits(text, 55)
    assert "partially_filled" in text and "prp_0123456789abcdef" in text and "x" * 10 in text
    # the least important column goes first, and the table says so
    assert "not shown at this width: note" in " ".join(text.split())


def test_each_status_word_once_and_prices_at_their_tick():
    approved = _flat(_desk_with_orders())
    assert "filled (sent to the broker)" in approved
    assert "filled sent" not in approved
    assert "@ 2239.36" in approved  # the fill, at gold's 0.01 tick
    vetoed = _flat(cli("propose", "XAUUSD", "buy", "3000").stdout)
    assert "vetoed by the risk engine" in vetoed and "vetoed vetoed" not in vetoed
    vetoed_id = vetoed.split()[0]
    shown = _flat(cli("proposals", "show", vetoed_id).stdout)
    assert "(paper): vetoed: shrink_ratio" in shown and "vetoed; vetoed" not in shown
    limit = _flat(cli("propose", "EURUSD", "buy", "1000", "--limit", "1.05").stdout)
    assert "limit 1.05000" in limit and "limit limit" not in limit
    assert "market" not in limit.split("->")[0]


def test_risk_shows_the_limits_it_enforces():
    out = cli("risk")
    assert out.exit_code == 0, out.output
    for label in (
        "order notional",
        "gross exposure",
        "daily loss",
        "drawdown",
        "orders per minute",
    ):
        assert label in out.stdout
    assert "50,000" in out.stdout and "3.00%" in out.stdout


def test_config_check_is_prose_and_json_only_with_json():
    out = cli("config", "check")
    assert out.exit_code == 0, out.output
    assert not out.stdout.lstrip().startswith("{")
    assert "crew file" in out.stdout and "LLM endpoint" in out.stdout
    assert json.loads(cli("config", "check", "--json").stdout)["crew_file_origin"]


def test_per_agent_usage_is_a_table():
    from tradecrew.agents.schemas import AgentUsage, CrewRunResult, RunInputs, RunSummary
    from tradecrew.cli.crew import _print_run
    from tradecrew.models import utcnow

    summary = RunSummary(
        per_agent={"research_analyst": AgentUsage(llm_calls=2, prompt_tokens=1500, cost=0.0012)}
    )
    now = utcnow()
    result = CrewRunResult(
        run_id="run_x",
        mode="llm",
        message="LLM mode",
        started_at=now,
        finished_at=now,
        inputs=RunInputs(symbols=["XAUUSD"], timeframe="D1", equity=1.0),
        outcomes=[],
        summary=summary,
    )
    console = Console(width=80, record=True)
    original = common.console
    import tradecrew.cli.crew as crew_cli

    crew_cli.console = console
    try:
        _print_run(result)
    finally:
        crew_cli.console = original
    text = console.export_text()
    assert "{" not in text and "research_analyst" in text and "0.0012" in text
    assert "LLM calls" in text


def test_a_real_terminal_width_of_80_is_honoured(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADECREW_")}
    env.update(TRADECREW_HOME=str(tmp_path / "home"), COLUMNS="80")
    done = subprocess.run(
        [sys.executable, "-m", "tradecrew", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    _fits(done.stdout.split("Daily watchlist", 1)[1].split("\n\n")[0], 80)
    assert "synthetic" in done.stdout
