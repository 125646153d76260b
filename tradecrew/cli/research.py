"""Research commands: ``report`` and ``memory search``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from tradecrew.cli.common import SourceOpt, console, emit_json, user_errors
from tradecrew.instruments import normalize_symbol


def report(
    symbol: Annotated[str, typer.Argument(help="symbol or alias")],
    out: Annotated[Path, typer.Option("--out", "-o", help="report.html or report.md")] = Path(
        "report.html"
    ),
    timeframe: Annotated[str, typer.Option("--timeframe", "-t")] = "D1",
    source: SourceOpt = None,
    proposal: Annotated[
        str | None, typer.Option("--proposal", help="include this proposal and its review")
    ] = None,
    headline: Annotated[list[str] | None, typer.Option("--headline")] = None,
) -> None:
    """Write a research report with charts, regime history, sentiment and correlations."""
    from tradecrew.research import build_report

    prop = decision = None
    if proposal:
        from tradecrew.ledger import Ledger

        with user_errors(), Ledger.from_settings() as ledger:
            prop = ledger.get_proposal(proposal)
            decision = ledger.latest_decision(proposal)
    with user_errors():
        path = build_report(
            symbol,
            timeframe,
            source,
            out=out,
            proposal=prop,
            risk_decision=decision,
            headlines=headline or None,
        )
    console.print(f"report written to {path}")


memory_app = typer.Typer(
    help="the desk's memory of reports, decisions and outcomes", no_args_is_help=True
)


@memory_app.command("search")
def memory_search(
    query: Annotated[str, typer.Argument(help="what to look for, in plain words")],
    symbol: Annotated[str | None, typer.Option("--symbol")] = None,
    regime: Annotated[str | None, typer.Option("--regime")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="report|decision|outcome|reflection")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="remembered at or after (ISO date/time, UTC)")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="remembered at or before (ISO date/time, UTC)")
    ] = None,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="win|loss: closed trades by their P&L")
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100)] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find similar past reports, decisions, outcomes and reflections ("gold trending")."""
    from tradecrew.memory import DeskMemory

    with user_errors():
        items = DeskMemory.from_settings().search(
            query,
            symbol=normalize_symbol(symbol) if symbol else None,
            regime=regime,
            kind=kind,
            since=_when(since, "--since"),
            until=_when(until, "--until"),
            outcome=outcome,
            k=k,
        )
    if as_json:
        emit_json(items)
        return
    if not items:
        console.print("nothing remembered matches")
    for item in items:
        console.print(
            f"[bold]{item.kind}[/] {item.symbol or '-'} {item.regime or '-'} "
            f"(score {item.score or 0:.4f}, distance {item.distance or 0:.3f}): "
            f"{escape(' / '.join(item.text.splitlines())[:200])}",
            highlight=False,
        )


def _when(text: str | None, flag: str) -> datetime | None:
    """An ISO date or time as UTC (a bare date is its midnight)."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{flag} must be an ISO date or time, got {text!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.add_typer(memory_app, name="memory")
