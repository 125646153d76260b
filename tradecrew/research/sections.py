"""The report's sections, built from tool outputs; formatting only, no analysis of its own."""

from __future__ import annotations

import math
from datetime import datetime

import pandas as pd

from tradecrew.data.calendar_events import SYNTHETIC_LABEL
from tradecrew.models import Proposal, RiskDecision
from tradecrew.research.render import Block, Image, KeyValues, Para, Section, Table
from tradecrew.tools.analysis import AnalysisReport
from tradecrew.tools.sentiment import SentimentResult


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:,.{digits}f}"


def _price(value: float | None, ref: float | None = None) -> str:
    """Prices at the precision of ``ref`` (default: the value): 2 dp for gold, 5 for EURUSD."""
    if value is None or not math.isfinite(value):
        return "n/a"
    size = abs(ref if ref is not None and math.isfinite(ref) else value)
    return _fmt(value, 2 if size >= 100 else 4 if size >= 10 else 5)


def _plain(value: float) -> str:
    """Counts as integers, other numbers to four significant digits."""
    if not math.isfinite(value):
        return "n/a"
    return str(int(value)) if value.is_integer() else f"{value:.4g}"


def _signed(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:+.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.0%}"


def when(ts: datetime | None) -> str:
    return "n/a" if ts is None else pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M UTC")


def header_rows(a: AnalysisReport) -> list[tuple[str, str]]:
    return [
        ("Symbol", a.symbol),
        ("Timeframe", a.timeframe),
        ("Data source", a.source),
        ("Synthetic data", "yes" if a.synthetic else "no"),
        ("Last bar (open time)", when(a.timestamp)),
        ("Bars analysed", str(a.bars)),
        ("Last price", _price(a.last_price)),
    ]


def signal_section(a: AnalysisReport) -> Section:
    s = a.signal
    tone = {"long": "good", "short": "bad"}.get(s.direction.value, "warn")
    headline = (
        f"Fused signal: {s.direction.value.upper()} (score {_signed(s.score)}, "
        f"confidence {_pct(s.confidence)})"
    )
    if s.vetoes:
        # A vetoed signal must not read as a green light, whatever its direction.
        tone, headline = "bad", f"{headline}, VETOED: {'; '.join(s.vetoes)}"
    blocks: list[Block] = [
        Para(headline, tone),
        KeyValues(
            [
                ("Direction", s.direction.value),
                ("Score (-1 short .. +1 long)", _signed(s.score)),
                ("Strength", _fmt(s.strength, 3)),
                ("Confidence", _fmt(s.confidence, 3)),
                ("Risk reduction factor", _fmt(s.risk_reduction, 2)),
                ("Vetoes", "; ".join(s.vetoes) or "none"),
            ]
        ),
        Table(
            ["Component", "Score", "Confidence", "Weight", "Contribution", "Detail"],
            [
                [
                    c.name,
                    _signed(c.score),
                    _fmt(c.confidence, 2),
                    _fmt(c.weight, 3),
                    _signed(c.contribution),
                    c.detail,
                ]
                for c in s.components
            ],
        ),
    ]
    return Section("signal", "Fused signal", blocks)


def indicator_section(a: AnalysisReport, chart: bytes) -> Section:
    i = a.indicators
    rows = [
        ("RSI (14)", f"{_fmt(i.rsi, 1)} ({i.rsi_state})"),
        (
            "MACD / signal / hist",
            f"{_fmt(i.macd, 3)} / {_fmt(i.macd_signal, 3)} / "
            f"{_signed(i.macd_hist)} ({i.macd_state.replace('_', ' ')})",
        ),
        (
            "Stochastic %K / %D",
            f"{_fmt(i.stoch_k, 1)} / {_fmt(i.stoch_d, 1)} "
            f"({i.stoch_state}, cross: {i.stoch_cross.replace('_', ' ')})",
        ),
        ("MFI (14)", f"{_fmt(i.mfi, 1)} ({i.mfi_state})"),
        (
            "ADX / +DI / -DI",
            f"{_fmt(i.adx, 1)} / {_fmt(i.plus_di, 1)} / {_fmt(i.minus_di, 1)} "
            f"({i.trend_strength.replace('_', ' ')} trend, {i.trend_direction})",
        ),
        ("ATR (14)", _price(i.atr, i.close)),
        (
            "Bollinger lower / middle / upper",
            f"{_price(i.bb_lower)} / {_price(i.bb_middle)} / "
            f"{_price(i.bb_upper)} ({i.bollinger_position.replace('_', ' ')})",
        ),
        ("Awesome oscillator", _fmt(i.ao, 3)),
        ("Volume vs average", f"{_fmt(i.volume_ratio, 2)}x (z {_signed(i.volume_z, 2)})"),
        (
            "Trend / momentum / volume scores",
            f"{_signed(i.trend_score)} / {_signed(i.momentum_score)} / {_signed(i.volume_score)}",
        ),
    ]
    return Section(
        "indicators",
        "Indicators",
        [
            Image("indicators", chart, "RSI and MACD"),
            Para(i.summary),
            KeyValues(rows),
        ],
    )


def regime_section(a: AnalysisReport, chart: bytes | None) -> Section:
    blocks: list[Block] = []
    if chart is not None:
        blocks.append(Image("regime", chart, "Price shaded by market regime"))
    r = a.regime
    if r is None:
        blocks.append(Para("No regime at the last bar (see notes).", "warn"))
        return Section("regime", "Market regime", blocks)
    blocks.append(
        Para(
            f"Current regime: {r.regime.value.replace('_', ' ')} (confidence {_pct(r.confidence)})"
        )
    )
    blocks.append(
        Table(
            ["Regime", "Probability"],
            [[k.replace("_", " "), _pct(v)] for k, v in r.probabilities.items()],
        )
    )
    blocks.append(Para("Classifier evidence at the last bar:"))
    blocks.append(KeyValues([(k.replace("_", " "), _plain(v)) for k, v in r.features.items()]))
    return Section("regime", "Market regime", blocks)


def sentiment_section(a: AnalysisReport, results: list[SentimentResult], supplied: int) -> Section:
    s = a.sentiment
    if s is None:
        msg = "No headlines were supplied." if not supplied else "Sentiment is disabled."
        return Section("sentiment", "News sentiment", [Para(msg)])
    blocks: list[Block] = [
        KeyValues(
            [
                ("Headlines", str(s.n)),
                ("Mean score", _signed(s.mean_score)),
                ("Mean confidence", _fmt(s.mean_confidence, 2)),
                ("Positive / negative / neutral", f"{s.positive} / {s.negative} / {s.neutral}"),
            ]
        ),
        Para("Headlines are untrusted text, shown as data only."),
        Table(
            ["Headline", "Label", "Score", "Confidence", "Backend"],
            [
                [r.text, r.label, _signed(r.score), _fmt(r.confidence, 2), r.backend]
                for r in results
            ],
        ),
    ]
    return Section("sentiment", "News sentiment", blocks)


def correlation_section(a: AnalysisReport) -> Section:
    c = a.correlation
    if c is None:
        return Section(
            "correlation",
            "Correlation with peers",
            [Para("No peer data was available for this source.")],
        )
    rows = [
        [
            p.peer,
            str(p.overlap_bars),
            _signed(p.latest),
            _signed(p.mean),
            "yes" if p.flagged else "no",
            p.note,
        ]
        for p in c.peers
    ]
    blocks: list[Block] = [
        Para(
            f"Rolling {c.window}-bar correlation of returns; the mean is over the last "
            f"{c.lookback} bars; limit {_fmt(c.max_correlation, 2)}."
        ),
        Table(["Peer", "Shared bars", "Latest", "Mean", "Above limit", "Note"], rows),
    ]
    if c.breaches:
        blocks.append(Para("Above the limit: " + ", ".join(c.breaches), "bad"))
    return Section("correlation", "Correlation with peers", blocks)


def context_section(a: AnalysisReport) -> Section | None:
    rows: list[tuple[str, str]] = []
    if a.session is not None:
        rows.append(
            ("Sessions open at the bar close", ", ".join(a.session.open_sessions) or "none")
        )
    if a.blackout is not None:
        b = a.blackout
        rows.append(("Event blackout", "yes" if b.in_blackout else "no"))
        rows.append(("Calendar", b.reason))
        if b.synthetic:
            rows.append(("Calendar source", SYNTHETIC_LABEL + ": generated dates, not real ones"))
        elif b.source:
            rows.append(("Calendar source", b.source))
        if b.next_event is not None:
            rows.append(
                (
                    "Next high-impact event",
                    f"{b.next_event.title} ({b.next_event.currency}) at {when(b.next_event.time)}",
                )
            )
    return Section("context", "Sessions and calendar", [KeyValues(rows)]) if rows else None


def proposal_section(p: Proposal | None, d: RiskDecision | None) -> Section | None:
    if p is None and d is None:
        return None
    blocks: list[Block] = []
    if p is not None:
        rows = [
            ("Proposal", p.id),
            ("Status", p.status.value),
            ("Side", p.side.value),
            ("Quantity", _fmt(p.quantity, 4)),
            ("Order type", p.order_type.value),
        ]
        for name in ("limit_price", "stop_price", "stop_loss", "take_profit"):
            value = getattr(p, name)
            if value is not None:
                rows.append((name.replace("_", " ").capitalize(), _price(value)))
        rows += [
            ("Origin", p.origin.value),
            ("Created", when(p.created_at)),
            ("Rationale", p.rationale or "none given"),
        ]
        blocks.append(KeyValues(rows))
    if d is not None:
        verdict = "APPROVED" if d.approved else "REJECTED"
        blocks.append(
            Para(
                f"Risk review: {verdict}, {_fmt(d.approved_quantity, 4)} of "
                f"{_fmt(d.requested_quantity, 4)} requested",
                "good" if d.approved else "bad",
            )
        )
        blocks.append(
            Table(
                ["Check", "Passed", "Max quantity", "Reason"],
                [
                    [
                        c.name,
                        "yes" if c.passed else "NO",
                        _fmt(c.max_quantity, 4) if c.max_quantity is not None else "",
                        c.reason,
                    ]
                    for c in d.checks
                ],
            )
        )
        blocks.append(
            KeyValues(
                [
                    ("Reasons", "; ".join(d.reasons) or "none"),
                    ("Trading state", d.trading_state.value),
                    ("Decided", when(d.decided_at)),
                    ("Approval expires", when(d.expires_at)),
                ]
            )
        )
    return Section("proposal", "Proposal and risk review", blocks)
