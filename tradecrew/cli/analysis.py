"""Analysis commands: analyze, regime, sentiment, demo, config check."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tradecrew.cli.common import JsonOpt, SourceOpt, console, emit_json, user_errors

if TYPE_CHECKING:
    from tradecrew.agents.llm import LLMConfig

TimeframeOpt = Annotated[
    str, typer.Option("--timeframe", "-t", help="M1 M5 M15 M30 H1 H4 D1 W1 MN1")
]

FileTimeframeOpt = Annotated[
    str | None,
    typer.Option(
        "--timeframe",
        "-t",
        help="M1 M5 M15 M30 H1 H4 D1 W1 MN1 (default: a csv file's own, else D1)",
    ),
]

DEMO_WATCHLIST = ("XAUUSD", "EURUSD", "GBPUSD", "SPX", "NDX", "BTCUSD")


def analyze(
    symbol: Annotated[str, typer.Argument(help="symbol or alias: XAUUSD, gold, EURUSD, SPX")],
    timeframe: FileTimeframeOpt = None,
    source: SourceOpt = None,
    headline: Annotated[
        list[str] | None, typer.Option("--headline", help="news headline to score (repeatable)")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run every analyzer on SYMBOL and fuse them into one signal."""
    from tradecrew.cli.timeframes import choose_timeframe
    from tradecrew.config import get_settings
    from tradecrew.data.calendars import calendar_loader
    from tradecrew.tools.catalog import AnalyzeQuery, analyze_symbol

    with user_errors():
        settings = get_settings()
        tf = choose_timeframe(symbol, timeframe, source or settings.data_source)
        report = analyze_symbol(
            AnalyzeQuery(symbol=symbol, timeframe=tf, source=source, headlines=headline or []),
            settings,
            calendar=calendar_loader(settings),
        )
    if as_json:
        emit_json(report)
        return
    from tradecrew.cli.render import analysis_tables

    for part in analysis_tables(report):
        console.print(part)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def regime(
    symbol: Annotated[str, typer.Argument(help="symbol or alias")],
    timeframe: FileTimeframeOpt = None,
    source: SourceOpt = None,
    history: Annotated[
        bool, typer.Option("--history", help="every bar, not just the last")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Market regime of SYMBOL (trending_bull, trending_bear, ranging, volatile), causal."""
    from tradecrew.cli.timeframes import choose_timeframe
    from tradecrew.config import get_settings
    from tradecrew.tools.catalog import load_bars
    from tradecrew.tools.regime import regime_series

    with user_errors():
        chosen = source or get_settings().data_source
        tf = choose_timeframe(symbol, timeframe, chosen)
        bars = load_bars(symbol, tf, chosen, None, 10**9)
        series = regime_series(bars)
    if not history:
        series = series.iloc[-1:]
    rows = [
        {"timestamp": ts.isoformat(), "regime": str(r), "confidence": _finite(c)}
        for ts, r, c in zip(series.index, series["regime"], series["confidence"], strict=True)
    ]
    if as_json:
        out = sys.stdout
        for row in rows:
            out.write(json.dumps(row) + "\n")
        return
    from rich.table import Table

    table = Table(
        title=f"{symbol.upper()} {tf.value} regime"
        + (" (synthetic data)" if bars.attrs.get("synthetic") else "")
    )
    for col in ("timestamp", "regime", "confidence"):
        table.add_column(col)
    for row in rows[-50:]:
        conf = row["confidence"]
        table.add_row(row["timestamp"], row["regime"], "-" if conf is None else f"{conf:.2f}")
    if len(rows) > 50:
        console.print(f"[dim]showing the last 50 of {len(rows)} bars; --json gives all[/]")
    console.print(table)


def sentiment(
    texts: Annotated[list[str] | None, typer.Argument(help="headlines to score")] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="plain lines, JSON lines (.jsonl) or CSV (.csv) with 'text' and optional "
            "'label'; with labels, accuracy, recall and confusion matrix are shown",
        ),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option("--backend", "-b", help="default: components.sentiment.backend"),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score news headlines: positive, negative or neutral, with score and confidence."""
    from tradecrew.cli.sentiment_report import run_sentiment

    run_sentiment(list(texts or []), file, backend, as_json=as_json)


def demo(
    symbols: Annotated[
        str | None, typer.Option("--symbols", help="comma-separated watchlist")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Analyse a small watchlist from the embedded data, offline, and summarise."""
    from tradecrew.cli.demo import run_demo
    from tradecrew.config import get_settings

    watchlist = [s.strip() for s in symbols.split(",") if s.strip()] if symbols else None
    with user_errors():
        run_demo(watchlist or list(DEMO_WATCHLIST), get_settings(), as_json=as_json)


def config_check(as_json: JsonOpt = False) -> None:
    """Validate settings (environment + crew.yaml) and print where they come from."""
    from tradecrew.agents.llm import resolve_llm
    from tradecrew.config import Settings, crew_file_changes
    from tradecrew.crewfile import crew_origin, load_crew_file

    path, why = crew_origin()
    with user_errors():
        crew = load_crew_file(path)
        settings = Settings()
        applied, overridden = crew_file_changes()
        llm = resolve_llm(crew=crew, settings=settings)
    summary = {
        "crew_file": str(path) if path else None,
        "crew_file_origin": why,
        "crew_file_sets": applied,
        "crew_file_overridden_by_env": overridden,
        "agents": sorted(crew.agents),
        "tasks": sorted(crew.tasks),
        "home": str(settings.home),
        "data_source": settings.data_source,
        "broker": settings.broker.name,
        "live_trading": settings.broker.live_trading,
        "llm": llm.model if llm else "none (deterministic mode)",
        "llm_endpoint": _llm_endpoint(llm),
        "components": {
            name: getattr(settings.components, name).enabled
            for name in type(settings.components).model_fields
        },
    }
    if as_json:
        emit_json(summary)
        return
    from tradecrew.cli.config_view import print_config_summary

    print_config_summary(summary, console)


def _llm_endpoint(config: LLMConfig | None) -> str:
    """Where the crew's requests go and whether the API key goes with them (never the key)."""
    if config is None:
        return "none (deterministic mode)"
    where = config.base_url or "the provider's default URL"
    if config.key_withheld:
        return f"{where} (from the crew file: called without the API key)"
    return f"{where} ({'with' if config.api_key else 'without'} the API key from the environment)"


def register(app: typer.Typer) -> None:
    app.command()(analyze)
    app.command()(regime)
    app.command()(sentiment)
    app.command()(demo)
    config_app = typer.Typer(help="settings and crew.yaml", no_args_is_help=True)
    config_app.command("check")(config_check)
    app.add_typer(config_app, name="config")


__all__ = ["register"]
