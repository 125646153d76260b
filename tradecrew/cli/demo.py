"""``tradecrew demo``: the desk's eyes on a small watchlist, offline, in a few seconds."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text

from tradecrew.cli.common import console, emit_json
from tradecrew.cli.tables import Col, fit_table
from tradecrew.data.calendars import calendar_loader
from tradecrew.prices import format_price
from tradecrew.tools.analysis import AnalysisReport
from tradecrew.tools.catalog import AnalyzeQuery, analyze_symbol

if TYPE_CHECKING:
    from tradecrew.config import Settings

_STYLE = {"long": "green", "short": "red", "flat": "yellow"}
_COLUMNS = [
    Col("symbol"),
    Col("data", priority=3),
    Col("as of", priority=4),
    Col("last", justify="right"),
    Col("regime", wrap=True, priority=1),
    Col("RSI", wrap=True, priority=2),
    Col("signal"),
    Col("conf.", justify="right"),
    Col("vetoes", wrap=True, priority=5),
]


def _row(report: AnalysisReport) -> list[str | Text]:
    sig = report.signal
    regime = (
        f"{report.regime.regime.value} ({report.regime.confidence:.2f})" if report.regime else "-"
    )
    signal = Text(sig.direction.value, style=_STYLE[sig.direction.value])
    signal.append(f" {sig.score:+.2f}")
    return [
        report.symbol,
        "synthetic" if report.synthetic else "real",
        f"{report.timestamp:%Y-%m-%d}",
        format_price(report.last_price, report.symbol, grouped=True),
        regime,
        f"{report.indicators.rsi:.0f} {report.indicators.rsi_state}",
        signal,
        f"{sig.confidence:.2f}",
        "; ".join(sig.vetoes) or "-",
    ]


def run_demo(
    watchlist: list[str], settings: Settings, as_json: bool = False
) -> list[AnalysisReport]:
    """Analyse each symbol on the embedded daily data, with the analyzers ``settings`` turn
    on, and print one line per symbol."""
    started = time.perf_counter()
    calendar = calendar_loader(settings)

    def analyze(symbol: str, timeframe: str) -> AnalysisReport:
        query = AnalyzeQuery(symbol=symbol, timeframe=timeframe, source="sample")
        return analyze_symbol(query, settings, calendar=calendar)

    reports = [analyze(s, "D1") for s in watchlist]
    intraday = analyze(watchlist[0], "M5")
    elapsed = time.perf_counter() - started
    if as_json:
        emit_json(
            {
                "daily": [r.model_dump(mode="json") for r in reports],
                "intraday": intraday.model_dump(mode="json"),
                "seconds": round(elapsed, 3),
            }
        )
        return reports
    console.print(
        "[bold]tradecrew demo[/] - offline analysis on the embedded sample data "
        "(real S&P 500 / NASDAQ daily bars from the arch package; other symbols are "
        "seeded synthetic series, labelled as such)."
    )
    console.print(
        fit_table(_COLUMNS, [_row(r) for r in reports], console=console, title="Daily watchlist")
    )
    mtf = intraday.multi_timeframe
    if mtf is not None:
        tfs = "  ".join(
            f"{t.timeframe} {t.score:+.2f}" if t.score is not None else f"{t.timeframe} -"
            for t in mtf.timeframes
        )
        fused = "-" if mtf.fused_score is None else f"{mtf.fused_score:+.2f}"
        console.print(
            f"{intraday.symbol} intraday multi-timeframe (M5 base, synthetic): {tfs}  "
            f"fused {fused}  agreement {mtf.agreement:.2f}"
        )
    console.print(
        f"[dim]{len(reports) + 1} analyses in {elapsed:.2f}s. Next: "
        "`tradecrew analyze XAUUSD`, `tradecrew regime SPX --history`, "
        '`tradecrew sentiment "Profit rose to $12m from $10m"`.[/]'
    )
    return reports
