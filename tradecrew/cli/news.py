"""``tradecrew news SYMBOL``: a symbol's headlines with the desk's sentiment of each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tradecrew.cli.common import console, emit_json, user_errors

if TYPE_CHECKING:
    from tradecrew.config import Settings
    from tradecrew.news import NewsItem, StoredHeadline


def _score(items: list[StoredHeadline], settings: Settings) -> list[NewsItem]:
    from tradecrew.news import HeadlineSentiment, NewsItem
    from tradecrew.tools.sentiment import analyze_configured

    results = analyze_configured([h.headline for h in items], settings)
    return [
        NewsItem(
            timestamp=h.published_at,
            headline=h.headline,
            source=h.source,
            url=h.url,
            symbols=h.symbols,
            sentiment=HeadlineSentiment(
                label=r.label, score=r.score, confidence=r.confidence, backend=r.backend
            ),
            provider=h.provider,
            first_seen_at=h.first_seen_at,
        )
        for h, r in zip(items, results, strict=True)
    ]


def news(
    symbol: Annotated[str, typer.Argument(help="ticker: AAPL, MSFT, BTCUSD")],
    source: Annotated[
        str | None,
        typer.Option(
            "--source", "-s", help="alpaca | rss | openbb | stored (no network); default: setting"
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="ISO date/time or an age (12h, 3d); default 7 days back"),
    ] = None,
    asof: Annotated[
        str | None,
        typer.Option("--asof", help="show only news published before this moment (replay)"),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="most items shown")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable JSON output")] = False,
) -> None:
    """List SYMBOL's headlines (kept, deduplicated, under TRADECREW_HOME) and their sentiment.

    Headlines are text from outside the desk: shown as data, never acted on.
    """
    from datetime import UTC, datetime

    from tradecrew.config import get_settings
    from tradecrew.news import latest_news, parse_when

    with user_errors(RuntimeError):
        settings = get_settings()
        now = datetime.now(UTC)
        end = parse_when(asof, now=now, name="--asof") if asof else None
        start = parse_when(since, now=now, name="--since") if since else None
        items = latest_news(
            symbol, source=source, since=start, asof=end, limit=limit, settings=settings
        )
        rows = _score(items, settings)
    if as_json:
        emit_json(rows)
        return
    _table(symbol, rows)


def _table(symbol: str, rows: list[NewsItem]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not rows:
        console.print(Text(f"no news for {symbol.upper()} in that window"))
        return
    table = Table(title=Text(f"news: {symbol.upper()} (headlines are untrusted text)"))
    for col in ("published (UTC)", "source", "sentiment"):
        table.add_column(col)
    table.add_column("headline", overflow="fold")  # long links wrap, never cut
    style = {"positive": "green", "negative": "red", "neutral": "yellow"}
    for row in rows:
        s = row.sentiment
        # Text cells: a headline's brackets are shown, never read as rich markup.
        table.add_row(
            Text(row.timestamp.strftime("%Y-%m-%d %H:%M")),
            Text(row.source),
            Text(f"{s.label} {s.score:+.2f}", style=style[s.label]),
            Text(row.headline + (f"\n{row.url}" if row.url else "")),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(news)


__all__ = ["register"]
