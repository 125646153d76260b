"""``tradecrew crew run`` and ``crew replay``: the agents over a watchlist, or without an LLM."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tradecrew.cli.common import console, emit_json, fail, user_errors

if TYPE_CHECKING:
    from tradecrew.agents import CrewRunResult

crew_app = typer.Typer(
    help="the CrewAI crew (or deterministic mode without an LLM)", no_args_is_help=True
)


def _print_run(result: CrewRunResult) -> None:
    console.print(f"[bold]run {result.run_id}[/] - {escape(result.message)}", highlight=False)
    table = Table()
    for col in (
        "symbol",
        "status",
        "decision",
        "qty",
        "stop",
        "target",
        "conf.",
        "risk",
        "grounded",
        "proposal",
    ):
        table.add_column(col)
    for o in result.outcomes:
        d = o.decision
        table.add_row(
            o.symbol,
            o.status,
            d.direction.value if d else "-",
            f"{d.quantity:g}" if d else "-",
            f"{d.stop_loss:.5g}" if d and d.stop_loss else "-",
            f"{d.take_profit:.5g}" if d and d.take_profit else "-",
            f"{d.confidence:.2f}" if d else "-",
            d.risk_verdict if d else "-",
            ("yes" if d.grounded else "NO: " + ", ".join(d.ungrounded_numbers)) if d else "-",
            f"{o.proposal_id} ({o.proposal_status})" if o.proposal_id else "-",
        )
    console.print(table)
    s = result.summary
    console.print(
        f"tokens {s.total_tokens} (prompt {s.prompt_tokens}, completion {s.completion_tokens}), "
        f"cost ~${s.cost:.4f}{' (' + s.cost_note + ')' if s.cost_note else ''}, "
        f"LLM calls {s.llm_calls} ({s.cached_calls} cached), tool calls {s.tool_calls}, "
        f"{s.wall_seconds:.2f}s",
        highlight=False,
    )
    for agent, usage in s.per_agent.items():
        console.print(f"  {agent}: {usage.model_dump_json()}", highlight=False)
    for o in result.outcomes:
        if o.message:
            console.print(f"  {o.symbol}: {escape(o.message)}", highlight=False)
    if result.record_path:
        console.print(
            f"[dim]record: {result.record_path}; replay with "
            f"`tradecrew crew replay {result.run_id}`[/]"
        )


@crew_app.command("run")
def crew_run(
    symbols: Annotated[str, typer.Option("--symbols", help="comma-separated watchlist")] = "",
    llm: Annotated[str | None, typer.Option("--llm", help="model name")] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible endpoint")
    ] = None,
    timeframe: Annotated[str | None, typer.Option("--timeframe", "-t")] = None,
    asof: Annotated[
        datetime | None, typer.Option("--asof", help="decide as of this time (UTC)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="decide but file no proposal")] = False,
    remember: Annotated[
        bool, typer.Option("--remember/--no-remember", help="store decisions in memory")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run the crew over a watchlist; trades become proposals awaiting your approval."""
    from tradecrew.agents import run_crew
    from tradecrew.config import get_settings

    watchlist = [s.strip() for s in symbols.split(",") if s.strip()] or get_settings().symbols
    if not watchlist:
        fail("give --symbols")
    with user_errors():
        result = run_crew(
            watchlist,
            llm=llm,
            base_url=base_url,
            timeframe=timeframe,
            asof=asof,
            dry_run=dry_run,
            progress=not as_json,
            remember=remember,
        )
    emit_json(result) if as_json else _print_run(result)


@crew_app.command("replay")
def crew_replay(
    run_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay a recorded run from the LLM cache: same decisions, no model calls, no orders."""
    from tradecrew.agents import replay
    from tradecrew.agents.runner import ReplayError

    with user_errors(ReplayError):
        result = replay(run_id, progress=not as_json)
    emit_json(result) if as_json else _print_run(result)


def register(app: typer.Typer) -> None:
    app.add_typer(crew_app, name="crew")
