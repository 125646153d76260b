"""``tradecrew crew run`` and ``crew replay``: the agents over a watchlist, or without an LLM."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from tradecrew.cli.common import console, emit_json, fail, user_errors
from tradecrew.cli.tables import Col, fit_table, price_text
from tradecrew.errors import EXIT_UNAVAILABLE

if TYPE_CHECKING:
    from tradecrew.agents import CrewRunResult
    from tradecrew.agents.schemas import SymbolOutcome

crew_app = typer.Typer(
    help="the CrewAI crew (or deterministic mode without an LLM)", no_args_is_help=True
)


def _outcome_row(o: SymbolOutcome) -> list[str]:
    d = o.decision
    if d is None:
        return [o.symbol, o.status, *["-"] * 7, o.proposal_id or "-"]
    grounded = "yes" if d.grounded else "NO: " + ", ".join(d.ungrounded_numbers)
    return [
        o.symbol,
        o.status,
        d.direction.value,
        f"{d.quantity:g}",
        price_text(d.stop_loss, o.symbol) if d.stop_loss else "-",
        price_text(d.take_profit, o.symbol) if d.take_profit else "-",
        f"{d.confidence:.2f}",
        d.risk_verdict,
        grounded,
        f"{o.proposal_id} ({o.proposal_status})" if o.proposal_id else "-",
    ]


_RUN_COLUMNS = [
    Col("symbol"),
    Col("status"),
    Col("decision"),
    Col("qty", justify="right"),
    Col("stop", justify="right", priority=2),
    Col("target", justify="right", priority=2),
    Col("conf.", justify="right", priority=3),
    Col("risk", priority=1),
    Col("grounded", priority=4, wrap=True),
    Col("proposal", priority=1, wrap=True),
]

_USAGE_COLUMNS = [
    Col("agent", wrap=True),
    Col("LLM calls", justify="right"),
    Col("tool calls", justify="right", priority=2),
    Col("prompt tok.", justify="right", priority=1),
    Col("compl. tok.", justify="right", priority=1),
    Col("cost $", justify="right"),
    Col("LLM ms", justify="right", priority=3),
    Col("tool ms", justify="right", priority=3),
]


def _print_run(result: CrewRunResult) -> None:
    console.print(f"[bold]run {result.run_id}[/] - {escape(result.message)}", highlight=False)
    rows = [_outcome_row(o) for o in result.outcomes]
    console.print(fit_table(_RUN_COLUMNS, rows, console=console))
    s = result.summary
    console.print(
        f"tokens {s.total_tokens} (prompt {s.prompt_tokens}, completion {s.completion_tokens}), "
        f"cost ~${s.cost:.4f}{' (' + s.cost_note + ')' if s.cost_note else ''}, "
        f"LLM calls {s.llm_calls} ({s.cached_calls} cached), tool calls {s.tool_calls}, "
        f"{s.wall_seconds:.2f}s",
        highlight=False,
    )
    if s.per_agent:
        usage = [
            [
                agent,
                str(u.llm_calls),
                str(u.tool_calls),
                str(u.prompt_tokens),
                str(u.completion_tokens),
                f"{u.cost:.4f}",
                f"{u.llm_latency_ms:,.0f}",
                f"{u.tool_latency_ms:,.0f}",
            ]
            for agent, u in s.per_agent.items()
        ]
        console.print(fit_table(_USAGE_COLUMNS, usage, console=console, title="per agent"))
    for o in result.outcomes:
        if o.message:
            console.print(f"  {o.symbol}: {escape(o.message)}", highlight=False)
    if result.record_path:
        console.print(
            f"[dim]record: {result.record_path}; replay with "
            f"`tradecrew crew replay {result.run_id}`[/]"
        )


def _fail_fast_if_unreachable(llm: str | None, base_url: str | None) -> None:
    """Before the crew, its memory and CrewAI load (seconds): one connection to the LLM
    server the run would use; a server nobody answers at ends the command (exit 3)."""
    from tradecrew.agents.gateway import probe_llm_server
    from tradecrew.agents.llm import missing_key_reason, resolve_llm
    from tradecrew.config import get_settings
    from tradecrew.crewfile import load_crew_file

    with user_errors():
        settings = get_settings()
        crew = load_crew_file(settings.crew_file)
        config = resolve_llm(model=llm, base_url=base_url, crew=crew, settings=settings)
    if config is None or not crew.tasks or missing_key_reason(config):
        return  # deterministic mode: the run says why
    down = probe_llm_server(config.base_url)
    if down:
        fail(
            f"{down}; nothing was run (--fallback deterministic decides without it)",
            EXIT_UNAVAILABLE,
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
    fallback: Annotated[
        str,
        typer.Option(
            "--fallback",
            help="none: an LLM run whose server cannot be reached fails (exit 3); "
            "deterministic: decide without the LLM instead",
        ),
    ] = "none",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Run the crew over a watchlist; trades become proposals awaiting your approval."""
    from tradecrew.config import get_settings

    if fallback not in ("none", "deterministic"):
        fail("--fallback takes 'none' or 'deterministic'")
    watchlist = [s.strip() for s in symbols.split(",") if s.strip()] or get_settings().symbols
    if not watchlist:
        fail("give --symbols")
    if fallback == "none":
        _fail_fast_if_unreachable(llm, base_url)
    from tradecrew.agents import run_crew
    from tradecrew.agents.gateway import LLMUnavailable
    from tradecrew.cli.quiet import third_party_quiet

    with user_errors(), third_party_quiet():
        try:
            result = run_crew(
                watchlist,
                llm=llm,
                base_url=base_url,
                timeframe=timeframe,
                asof=asof,
                dry_run=dry_run,
                progress=not as_json,
                remember=remember,
                fallback=fallback == "deterministic",
            )
        except LLMUnavailable as exc:
            fail(
                f"{exc}; nothing was run (--fallback deterministic decides without it)",
                EXIT_UNAVAILABLE,
            )
    emit_json(result) if as_json else _print_run(result)
    lost = [o.symbol for o in result.outcomes if o.status == "fallback"]
    if lost and fallback == "none":
        fail(
            f"the LLM became unavailable during the run: no LLM decision for "
            f"{', '.join(lost)} and nothing filed for them (--fallback deterministic "
            "files the deterministic decisions)",
            EXIT_UNAVAILABLE,
        )


@crew_app.command("replay")
def crew_replay(
    run_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Replay a recorded run from the LLM cache: same decisions, no model calls, no orders."""
    from tradecrew.agents import replay
    from tradecrew.agents.runner import ReplayError
    from tradecrew.cli.quiet import third_party_quiet

    with user_errors(ReplayError), third_party_quiet():
        result = replay(run_id, progress=not as_json)
    emit_json(result) if as_json else _print_run(result)


def register(app: typer.Typer) -> None:
    app.add_typer(crew_app, name="crew")
