"""The backtest report: buy-and-hold, traditional, hybrid (and the strategy asked for) side by
side over the same bars and costs, with equity and drawdown charts and the seed's targets
marked met or not. Rendered by ``tradecrew.research.render`` like the research report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tradecrew.models import utcnow
from tradecrew.research.backtest.result import (
    TARGET_MAX_DRAWDOWN,
    TARGET_SHARPE,
    BacktestResult,
)
from tradecrew.research.render import Document, Image, Para, Section, Table, render_html

_COLOURS = ("#263238", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a")
_MAX_TRADES = 200


def _f(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value * 100:.2f} %"


def _label(r: BacktestResult) -> str:
    params = ", ".join(f"{k}={v}" for k, v in r.params.items())
    return f"{r.strategy}({params})" if params else r.strategy


def equity_chart(results: Sequence[BacktestResult]) -> bytes:
    """Equity curves (top) and drawdowns (bottom) of every run, on one time axis."""
    from tradecrew.research.charts import _figure, _png, _x

    fig, (top, bottom) = _figure(6.0, 2, [2.0, 1.0])
    for r, colour in zip(results, _COLOURS, strict=False):
        x = _x(r.equity.index)
        eq = r.equity.to_numpy()
        top.plot(x, eq, color=colour, linewidth=1.0, label=_label(r))
        peak = np.maximum.accumulate(np.maximum(eq, r.initial_equity))
        bottom.plot(x, (eq / peak - 1.0) * 100.0, color=colour, linewidth=0.9)
    bottom.axhline(-TARGET_MAX_DRAWDOWN * 100.0, color="#c62828", linestyle="--", linewidth=0.8)
    top.set_ylabel("equity", fontsize=8)
    bottom.set_ylabel("drawdown %", fontsize=8)
    top.legend(fontsize=8, loc="upper left")
    return _png(fig)


def _metrics_table(results: Sequence[BacktestResult]) -> Table:
    rows = [
        ("total return", [_pct(r.total_return) for r in results]),
        ("annual return", [_pct(r.annual_return) for r in results]),
        ("Sharpe", [_f(r.sharpe) for r in results]),
        ("Sortino", [_f(r.sortino) for r in results]),
        ("max drawdown", [_pct(r.max_drawdown) for r in results]),
        ("Calmar", [_f(r.calmar) for r in results]),
        ("trades", [str(r.trades) for r in results]),
        ("win rate", [_pct(r.win_rate) for r in results]),
        ("profit factor", [_f(r.profit_factor) for r in results]),
        ("exposure", [_pct(r.exposure) for r in results]),
        ("turnover (per year)", [_f(r.turnover) for r in results]),
        (
            f"Sharpe > {TARGET_SHARPE:g}",
            ["met" if r.targets.sharpe_met else "not met" for r in results],
        ),
        (
            f"max drawdown < {TARGET_MAX_DRAWDOWN:.0%}",
            ["met" if r.targets.max_drawdown_met else "not met" for r in results],
        ),
    ]
    return Table(["metric", *(_label(r) for r in results)], [[k, *v] for k, v in rows])


def _trades_table(r: BacktestResult) -> Table:
    rows = [
        [
            t.entry_time.strftime("%Y-%m-%d %H:%M"),
            t.exit_time.strftime("%Y-%m-%d %H:%M"),
            t.side,
            f"{t.quantity:.6g}",
            f"{t.entry_price:.6g}",
            f"{t.exit_price:.6g}",
            f"{t.pnl:,.2f}",
        ]
        for t in r.trade_list[-_MAX_TRADES:]
    ]
    return Table(["entry", "exit", "side", "quantity", "entry price", "exit price", "pnl"], rows)


def _verdict(results: Sequence[BacktestResult]) -> list[Para]:
    out = []
    for r in results:
        met = r.targets.met
        text = (
            f"{_label(r)}: Sharpe {_f(r.sharpe)} (target > {TARGET_SHARPE:g}) and max drawdown "
            f"{_pct(r.max_drawdown)} (target < {TARGET_MAX_DRAWDOWN:.0%}): "
            + ("both targets met." if met else "targets NOT met.")
        )
        out.append(Para(text, "good" if met else "bad"))
    return out


def write_report(
    results: Sequence[BacktestResult], out: Path | str, *, title: str, synthetic: bool
) -> Path:
    """Write the side-by-side HTML report of ``results`` (the first is the one asked for)."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"the backtest report is HTML: use a file ending in .html, not {out.name}")
    main = results[0]
    notes = [Para(n) for r in results for n in r.notes]
    sections = [
        Section("targets", "The seed's targets", _verdict(results)),
        Section("metrics", "Side by side", [_metrics_table(results)]),
        Section(
            "equity",
            "Equity and drawdown",
            [
                Image("equity", equity_chart(results), "equity curves and drawdowns"),
                Para(f"The dashed line is the {TARGET_MAX_DRAWDOWN:.0%} drawdown target."),
            ],
        ),
        Section(
            "costs",
            "Costs and fills",
            [
                Para(main.costs.describe()),
                Para(
                    "Signals are read at a bar's close and filled at the next bar's open; a "
                    "position still open after the last bar is closed at the last close."
                ),
            ],
        ),
        Section(
            "trades",
            f"Trades of {_label(main)} (last {_MAX_TRADES} at most)",
            [_trades_table(main)],
        ),
    ]
    if notes:
        sections.append(Section("notes", "Notes", notes))
    doc = Document(
        title=title,
        subtitle=f"{main.bars} bars, {main.start:%Y-%m-%d} to {main.end:%Y-%m-%d}; "
        f"engine {main.engine}; initial equity {main.initial_equity:,.0f}.",
        banner="SYNTHETIC DATA: these prices are generated, not market data."
        if synthetic
        else None,
        sections=sections,
        footer=f"Generated {utcnow():%Y-%m-%d %H:%M} UTC by tradecrew. Past results, not advice.",
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(doc), encoding="utf-8")
    return out
