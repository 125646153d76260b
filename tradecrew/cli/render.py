"""Rich renderings of the desk's models for people; ``--json`` bypasses all of this."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from tradecrew.prices import format_price

if TYPE_CHECKING:
    from tradecrew.tools.analysis import AnalysisReport

_DIRECTION_STYLE = {"long": "bold green", "short": "bold red", "flat": "bold yellow"}


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def signal_text(report: AnalysisReport) -> Text:
    sig = report.signal
    text = Text()
    text.append(f"{report.symbol} ", style="bold")
    text.append(sig.direction.value.upper(), style=_DIRECTION_STYLE[sig.direction.value])
    text.append(
        f"  score {sig.score:+.2f}  strength {sig.strength:.2f}  confidence {sig.confidence:.2f}"
    )
    if report.synthetic:
        text.append("  [synthetic data]", style="magenta")
    return text


def analysis_tables(report: AnalysisReport) -> list[Table | Text]:
    """A header line, the fused signal's components, and one row per analyzer."""
    header = Text(
        f"{report.symbol} {report.timeframe} · {report.bars} bars to "
        f"{report.timestamp:%Y-%m-%d %H:%M} UTC · "
        f"last {format_price(report.last_price, report.symbol, grouped=True)} · "
        f"source {report.source}" + (" (SYNTHETIC)" if report.synthetic else ""),
        style="bold",
    )
    comps = Table(title="Signal fusion", title_justify="left")
    for col in ("component", "score", "confidence", "weight", "contribution", "detail"):
        comps.add_column(col, justify="right" if col not in ("component", "detail") else "left")
    for c in report.signal.components:
        comps.add_row(
            c.name,
            f"{c.score:+.2f}",
            f"{c.confidence:.2f}",
            f"{c.weight:.2f}",
            f"{c.contribution:+.3f}",
            c.detail,
        )
    views = Table(title="Analyzers", title_justify="left", show_header=True)
    views.add_column("analyzer")
    views.add_column("reading")
    ind = report.indicators
    views.add_row(
        "indicators",
        f"RSI {ind.rsi:.1f} ({ind.rsi_state}), MACD {ind.macd_state}, Stoch {ind.stoch_k:.0f} "
        f"({ind.stoch_state}), MFI {ind.mfi:.0f}, ADX {ind.adx:.0f} {ind.trend_strength} "
        f"{ind.trend_direction}, Bollinger {ind.bollinger_position}, "
        f"ATR {format_price(ind.atr, report.symbol, grouped=True)}",
    )
    if report.regime:
        probs = ", ".join(f"{k} {v:.2f}" for k, v in report.regime.probabilities.items())
        views.add_row(
            "regime", f"{report.regime.regime.value} ({report.regime.confidence:.2f}) · {probs}"
        )
    if report.correlation:
        peers = ", ".join(
            f"{p.peer} {_num(p.latest)}" + (" !" if p.flagged else "")
            for p in report.correlation.peers
        )
        views.add_row("correlation", peers or "no peers")
    if report.session:
        s = report.session
        views.add_row(
            "sessions",
            ("open: " + ", ".join(s.open_sessions + s.overlaps))
            if s.market_open and s.open_sessions
            else "no session open"
            if s.market_open
            else "market closed",
        )
    if report.session_activity:
        views.add_row(
            "session activity",
            f"most active {report.session_activity.most_active}, "
            f"now {report.session_activity.current_score:.2f}",
        )
    if report.blackout:
        views.add_row("calendar", report.blackout.reason)
    if report.multi_timeframe:
        tfs = ", ".join(
            f"{t.timeframe} {t.score:+.2f}" if t.score is not None else f"{t.timeframe} -"
            for t in report.multi_timeframe.timeframes
        )
        views.add_row("multi-timeframe", tfs)
    if report.sentiment:
        mood = report.sentiment
        views.add_row(
            "sentiment",
            f"mean {mood.mean_score:+.2f} over {mood.n} headlines "
            f"(+{mood.positive} / -{mood.negative} / ={mood.neutral})",
        )
    out: list[Table | Text] = [header, signal_text(report), comps, views]
    if report.signal.vetoes:
        out.append(Text("vetoes: " + "; ".join(report.signal.vetoes), style="red"))
    if report.notes:
        out.append(Text("notes: " + "; ".join(report.notes), style="dim"))
    return out
