"""``tradecrew sentiment``: score headlines and, when the file carries labels, say how well
the backend agreed with them (accuracy, recall per class, confusion matrix)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tradecrew.cli.common import console, fail, user_errors

if TYPE_CHECKING:
    from tradecrew.cli.sentiment_input import Headline
    from tradecrew.tools.sentiment import SentimentResult
    from tradecrew.tools.sentiment.evaluation import SentimentEvaluation

# A labelled file is a benchmark: its per-headline table is left to --json past this size.
TABLE_LIMIT = 50
_STYLE = {"positive": "green", "negative": "red", "neutral": "yellow"}


def run_sentiment(texts: list[str], file: Path | None, backend: str | None, as_json: bool) -> None:
    from tradecrew.cli.sentiment_input import Headline, read_headlines
    from tradecrew.config import get_settings
    from tradecrew.tools.sentiment import BACKENDS, analyze_configured
    from tradecrew.tools.sentiment.evaluation import evaluate

    items = [Headline(t, None) for t in texts]
    if file is not None:
        with user_errors():
            items += read_headlines(file)
    if not items:
        fail("give headlines as arguments or with --file PATH")
    chosen = backend or get_settings().components.sentiment.backend
    if chosen not in BACKENDS:
        fail(f"unknown backend {chosen!r}; use one of {', '.join(BACKENDS)}")
    with user_errors(RuntimeError):
        results = analyze_configured([h.text for h in items], get_settings(), backend=chosen)
    labelled = [(h.label, r.label) for h, r in zip(items, results, strict=True) if h.label]
    report = evaluate([e for e, _ in labelled], [p for _, p in labelled]) if labelled else None
    if as_json:
        _emit_lines(items, results, report)
        return
    if report is None or len(results) <= TABLE_LIMIT:
        _print_table(results, chosen)
    if report is not None:
        _print_evaluation(report, chosen, len(results))


def _emit_lines(
    items: list[Headline], results: list[SentimentResult], report: SentimentEvaluation | None
) -> None:
    """One JSON line per headline; with labels each carries ``expected`` and a last line
    ``{"evaluation": {...}}`` holds the scores."""
    out = sys.stdout
    for h, r in zip(items, results, strict=True):
        row = {"text": r.text, "label": r.label, "score": r.score, "confidence": r.confidence}
        if report is not None:
            row["expected"] = h.label
        out.write(json.dumps(row) + "\n")
    if report is not None:
        out.write(json.dumps({"evaluation": report.model_dump()}) + "\n")


def _print_table(results: list[SentimentResult], backend: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"sentiment ({backend})")
    for col in ("label", "score", "confidence", "text"):
        table.add_column(col)
    for r in results:
        table.add_row(
            f"[{_STYLE[r.label]}]{r.label}[/]",
            f"{r.score:+.2f}",
            f"{r.confidence:.2f}",
            escape(r.text),
        )
    console.print(table)


def _print_evaluation(report: SentimentEvaluation, backend: str, total: int) -> None:
    from rich.table import Table

    from tradecrew.tools.sentiment.evaluation import LABELS

    unlabelled = f"; {total - report.n:,} without a label" if total > report.n else ""
    console.print(
        f"[bold]accuracy {report.accuracy:.1%}[/] on {report.n:,} labelled headlines "
        f"(backend {backend}{unlabelled})",
        highlight=False,
    )
    recall = ", ".join(
        f"{c} {'-' if report.recall[c] is None else f'{report.recall[c]:.1%}'} "
        f"of {report.support[c]:,}"
        for c in LABELS
    )
    console.print(f"recall: {recall}", highlight=False)
    table = Table(title="confusion matrix (rows: label, columns: predicted)")
    table.add_column("label \\ predicted")
    for c in LABELS:
        table.add_column(c, justify="right")
    for e in LABELS:
        table.add_row(e, *(f"{report.confusion[e][p]:,}" for p in LABELS))
    console.print(table)
    if total > TABLE_LIMIT:
        console.print("[dim]--json gives the label of every headline[/]")
