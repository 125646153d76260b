"""``tradecrew research ...``: factor analysis, strategy discovery and its leaderboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tradecrew.cli.common import JsonOpt, SourceOpt, console, emit_json, fail, user_errors

if TYPE_CHECKING:
    import pandas as pd

    from tradecrew.research.hypotheses import Proposals

research_app = typer.Typer(
    help="factor analysis (IC), strategy discovery and the leaderboard of what it found",
    no_args_is_help=True,
)

TimeframeOpt = Annotated[
    str, typer.Option("--timeframe", "-t", help="M1 M5 M15 M30 H1 H4 D1 W1 MN1")
]


def _horizons(text: str) -> list[int]:
    try:
        hs = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        fail(f"--horizons takes whole numbers separated by commas, got {text!r}")
    if not hs or min(hs) < 1 or len(hs) > 10:
        fail(f"--horizons takes 1 to 10 whole numbers of bars, each at least 1, got {text!r}")
    return hs


def _bars(symbol: str, timeframe: str, source: str | None) -> pd.DataFrame:
    from tradecrew.research.backtest.data import load

    return load(symbol, timeframe, source)


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:+.{digits}f}"


@research_app.command("factors")
def factors(
    symbol: Annotated[str, typer.Argument(help="symbol or alias")],
    source: SourceOpt = None,
    timeframe: TimeframeOpt = "D1",
    horizons: Annotated[
        str, typer.Option("--horizons", help="forward-return horizons in bars, e.g. 1,5,20")
    ] = "1,5,20",
    as_json: JsonOpt = False,
) -> None:
    """IC and rank IC of every indicator and fusion component against forward returns."""
    from tradecrew.research.factors import factor_report

    hs = _horizons(horizons)
    with user_errors():
        bars = _bars(symbol, timeframe, source)
        report = factor_report(
            bars,
            horizons=hs,
            symbol=symbol.upper(),
            timeframe=timeframe.upper(),
            source=str(bars.attrs.get("source", source or "sample")),
        )
    if as_json:
        emit_json(report)
        return
    title = (
        f"{report.symbol} {report.timeframe}: {report.bars} bars {report.start[:10]} .. "
        f"{report.end[:10]} ({report.source}{', SYNTHETIC' if report.synthetic else ''})"
    )
    table = Table(title=escape(title))
    table.add_column("factor", no_wrap=True)
    for h in report.horizons:
        table.add_column(f"rIC {h}", justify="right")
        table.add_column(f"t {h}", justify="right")
    for f in report.factors:
        cells = [f.name]
        for s in f.horizons:
            cells += [_num(s.rank_ic), _num(s.rank_ic_tstat, 1)]
        table.add_row(*cells)
    console.print(table)
    console.print(
        escape(
            f"rIC: rank IC (Spearman) against the forward return {report.forward_return}; "
            "t: its t-stat, corrected for overlapping horizons. Pearson IC, per-regime IC "
            f"and decay are in --json. Regimes (bars): {report.regimes}"
        ),
        highlight=False,
    )


@research_app.command("discover")
def discover(
    symbol: Annotated[str, typer.Argument(help="symbol or alias")],
    source: SourceOpt = None,
    timeframe: TimeframeOpt = "D1",
    n: Annotated[int, typer.Option("--n", help="hypotheses to score (1-200)")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="seed of the rule generator")] = 0,
    llm: Annotated[
        bool, typer.Option("--llm", help="ask the crew's LLM for hypotheses (TRADECREW_LLM__*)")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Propose rules, score each walk-forward out of sample, filter with the guards, and keep
    every one with its evidence on the leaderboard."""
    from tradecrew.config import get_settings
    from tradecrew.errors import EXIT_UNAVAILABLE
    from tradecrew.research import discover as loop
    from tradecrew.research import hypotheses, leaderboard

    if not 1 <= n <= loop.MAX_N:
        fail(f"--n must be within 1..{loop.MAX_N}, got {n}")
    with user_errors():
        settings = get_settings()
        bars = _bars(symbol, timeframe, source)
        if llm:
            proposals = _ask_llm(symbol.upper(), n, settings, EXIT_UNAVAILABLE)
        else:
            proposals = hypotheses.generate(n, seed)
        result = loop.discover(
            bars,
            proposals,
            symbol=symbol.upper(),
            timeframe=timeframe.upper(),
            source=str(bars.attrs.get("source", source or "sample")),
            seed=None if llm else seed,
            settings=settings,
            n_requested=n,
        )
        path = leaderboard.save(settings.ensure_home(), result.entries)
    if as_json:
        emit_json(result)
        return
    _board(
        result.entries,
        f"{result.symbol} {result.timeframe}: {result.n_scored} hypotheses "
        f"({result.origin}), {result.passed} passed the guards; OOS {result.walk_forward}",
    )
    if result.rejected:
        console.print(f"{len(result.rejected)} proposal line(s) refused, e.g.:", highlight=False)
    for note in result.rejected[:3]:
        console.print(f"  {escape(note)}", highlight=False)
    console.print(f"leaderboard: {path}", highlight=False)


def _ask_llm(symbol: str, n: int, settings: object, unavailable: int) -> Proposals:
    from tradecrew.agents.discovery import llm_hypotheses
    from tradecrew.agents.gateway import LLMError

    try:
        return llm_hypotheses(symbol, n, settings=settings)
    except LLMError as exc:
        fail(f"the LLM could not be asked: {exc}", unavailable)


def _board(entries: list, title: str) -> None:
    from tradecrew.research.discover import leaderboard_rows

    table = Table(title=escape(title))
    table.add_column("expression", min_width=18, overflow="fold")
    for col in ("symbol", "Sharpe", "ret", "DSR", "PBO", "trades", "ok"):
        table.add_column(col, justify="left" if col in ("symbol", "ok") else "right")
    for row in leaderboard_rows(entries):
        table.add_row(*(escape(c) for c in row))
    console.print(table)


@research_app.command("leaderboard")
def leaderboard_cmd(
    symbol: Annotated[str | None, typer.Option("--symbol", help="only this symbol")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Hypotheses scored so far: those that passed the guards first, then by OOS Sharpe."""
    from tradecrew.config import get_settings
    from tradecrew.research import leaderboard

    with user_errors():
        entries = leaderboard.load(get_settings().ensure_home(), symbol=symbol, limit=limit)
    if as_json:
        emit_json(entries)
        return
    if not entries:
        console.print("the leaderboard is empty: run tradecrew research discover SYMBOL")
        return
    _board(entries, "discovery leaderboard")


def register(app: typer.Typer) -> None:
    app.add_typer(research_app, name="research")
