"""The research report of one symbol: charts, every analyzer's view, the signal, the proposal.

Every number comes from a tool's output (``analyze_symbol``, ``indicator_frame``,
``regime_series``, ``analyze_sentiment``) or from the proposal and risk decision given; the
report computes nothing of its own beyond formatting. HTML is one self-contained file;
Markdown writes its charts as PNG files beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from tradecrew.config import get_settings
from tradecrew.data.calendars import calendar_loader
from tradecrew.models import Proposal, RiskDecision, Timeframe, utcnow
from tradecrew.research import charts, sections
from tradecrew.research.render import (
    Document,
    Image,
    KeyValues,
    Para,
    Section,
    render_html,
    render_markdown,
)
from tradecrew.tools.catalog import MAX_BARS, AnalyzeQuery, analyze_symbol, load_bars
from tradecrew.tools.indicators import IndicatorParams, indicator_frame
from tradecrew.tools.regime import regime_series
from tradecrew.tools.sentiment import SentimentResult, analyze_configured

FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown"}
CHART_BARS = 250
REGIME_BARS = 750
SYNTHETIC_BANNER = (
    "SYNTHETIC DATA: these prices are generated for demonstration, not market data. "
    "Do not trade on this report."
)


def _check_inputs(symbol: str, p: Proposal | None, d: RiskDecision | None) -> None:
    if p is not None and p.symbol != symbol.strip().upper():
        raise ValueError(f"proposal {p.id} is for {p.symbol}, not {symbol.upper()}")
    if p is not None and d is not None and d.proposal_id != p.id:
        raise ValueError(f"risk decision {d.id} reviews {d.proposal_id}, not proposal {p.id}")


def build_report(
    symbol: str,
    timeframe: str | Timeframe = "D1",
    source: str | None = None,
    *,
    out: Path | str,
    proposal: Proposal | None = None,
    risk_decision: RiskDecision | None = None,
    headlines: Sequence[str] | None = None,
    asof: datetime | None = None,
    max_bars: int = MAX_BARS,
) -> Path:
    """Write the research report of ``symbol`` to ``out`` (.html or .md) and return its path."""
    out = Path(out)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"report file must end in .html or .md, got {out.name!r}")
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError("symbol is required")
    _check_inputs(symbol, proposal, risk_decision)
    if isinstance(headlines, str | bytes):
        raise TypeError("headlines must be a list of strings, not a single string")
    texts = list(headlines or [])
    tf = Timeframe.parse(timeframe)
    settings = get_settings()
    analysis = analyze_symbol(
        AnalyzeQuery(
            symbol=symbol,
            timeframe=tf.value,
            source=source,
            asof=asof,
            max_bars=max_bars,
            headlines=texts,
        ),
        settings,
        calendar=calendar_loader(settings),
    )
    bars = load_bars(symbol, tf, source or settings.data_source, asof, max_bars)
    synthetic = analysis.synthetic or bool(bars.attrs.get("synthetic", False))
    results: list[SentimentResult] = []
    if texts and analysis.sentiment is not None:
        results = analyze_configured(texts, settings)

    params = IndicatorParams()
    ind = indicator_frame(bars, params).iloc[-CHART_BARS:]
    recent = bars.iloc[-CHART_BARS:]
    title = f"{analysis.symbol} {analysis.timeframe}: close, Bollinger bands, volume"
    price_png = charts.price_chart(recent, ind, title)
    ind_png = charts.indicator_chart(recent, ind, params.rsi_overbought, params.rsi_oversold)
    regime_png = None
    if analysis.regime is not None:
        regimes = regime_series(bars).iloc[-REGIME_BARS:]
        regime_png = charts.regime_chart(bars.iloc[-REGIME_BARS:], regimes)

    parts = [
        Section("summary", "Summary", [KeyValues(sections.header_rows(analysis))]),
        sections.signal_section(analysis),
        Section(
            "price",
            "Price, Bollinger bands and volume",
            [
                Image(
                    "price", price_png, f"{analysis.symbol} close with Bollinger bands and volume"
                ),
                Para(
                    f"Last {len(recent)} bars, {sections.when(recent.index[0])} to "
                    f"{sections.when(recent.index[-1])}."
                ),
            ],
        ),
        sections.indicator_section(analysis, ind_png),
        sections.regime_section(analysis, regime_png),
        sections.sentiment_section(analysis, results, len(texts)),
        sections.correlation_section(analysis),
        sections.context_section(analysis),
        sections.proposal_section(proposal, risk_decision),
        Section(
            "notes",
            "Notes",
            [Para(n) for n in analysis.notes] or [Para("Every analyzer ran; nothing was skipped.")],
        ),
    ]
    doc = Document(
        title=f"{analysis.symbol} research report ({analysis.timeframe})",
        subtitle=f"Source {analysis.source}; last bar {sections.when(analysis.timestamp)}; "
        f"{analysis.bars} bars analysed.",
        banner=SYNTHETIC_BANNER if synthetic else None,
        sections=[s for s in parts if s is not None],
        footer=f"Generated {sections.when(utcnow())} by tradecrew. Analysis, not advice.",
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        out.write_text(render_html(doc), encoding="utf-8")
    else:
        text, _ = render_markdown(doc, out)
        out.write_text(text, encoding="utf-8")
    return out
