"""``tradecrew backtest``: run a strategy over history with costs, print or write the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from tradecrew.cli.common import SourceOpt, console, emit_json, err_console, fail, user_errors

_COMPARE = ("buy_hold", "traditional", "hybrid")


def _value(text: str) -> float | int | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def parse_params(items: list[str] | None) -> dict[str, Any]:
    """``k=v`` pairs into a dict; numbers become numbers. A malformed pair is bad input."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            fail(f"--param takes key=value, got {item!r}")
        out[key.strip()] = _value(value.strip())
    return out


def _show(result: Any) -> None:
    table = Table(title=f"{result.strategy} on {result.symbol or 'bars'}", show_header=False)
    pct = lambda v: "n/a" if v is None else f"{v * 100:.2f} %"  # noqa: E731
    num = lambda v: "n/a" if v is None else f"{v:.2f}"  # noqa: E731
    rows = [
        ("bars", f"{result.bars} ({result.start:%Y-%m-%d} .. {result.end:%Y-%m-%d})"),
        ("trades", str(result.trades)),
        ("total return", pct(result.total_return)),
        ("annual return", pct(result.annual_return)),
        ("Sharpe", num(result.sharpe)),
        ("Sortino", num(result.sortino)),
        ("max drawdown", pct(result.max_drawdown)),
        ("Calmar", num(result.calmar)),
        ("win rate", pct(result.win_rate)),
        ("profit factor", num(result.profit_factor)),
        ("exposure", pct(result.exposure)),
        ("turnover / year", num(result.turnover)),
        ("targets (Sharpe > 1.5, max DD < 5 %)", "met" if result.targets.met else "NOT met"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    for note in result.notes:
        console.print(f"note: {escape(note)}", highlight=False)


def backtest(
    symbol: Annotated[str, typer.Argument(help="symbol or alias, e.g. XAUUSD, GOOG")],
    source: SourceOpt = None,
    timeframe: Annotated[str, typer.Option("--timeframe", "-t")] = "D1",
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            help="sma_cross, traditional, hybrid, buy_hold or path/to/file.py:ClassName",
        ),
    ] = "sma_cross",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="strategy parameter key=value (repeat)")
    ] = None,
    commission: Annotated[
        float | None, typer.Option("--commission", help="fraction of notional per side")
    ] = None,
    spread: Annotated[float | None, typer.Option("--spread", help="full spread, fraction")] = None,
    slippage: Annotated[
        float | None, typer.Option("--slippage", help="per fill, fraction of price")
    ] = None,
    spread_ticks: Annotated[
        float | None, typer.Option("--spread-ticks", help="full spread in ticks (adds)")
    ] = None,
    slippage_ticks: Annotated[
        float | None, typer.Option("--slippage-ticks", help="slippage in ticks (adds)")
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="first date (UTC)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last date, inclusive (UTC)")] = None,
    engine: Annotated[
        str, typer.Option("--engine", help="kernel (vectorised) or replay (risk engine + venue)")
    ] = "kernel",
    equity: Annotated[float, typer.Option("--equity", help="initial equity")] = 100_000.0,
    stop_loss: Annotated[
        float | None,
        typer.Option("--stop-loss", help="replay only: stop-loss leg, fraction below entry"),
    ] = None,
    take_profit: Annotated[
        float | None,
        typer.Option("--take-profit", help="replay only: take-profit leg, fraction beyond entry"),
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="write an HTML report with the comparison")
    ] = None,
    remember: Annotated[
        bool, typer.Option("--remember", help="store its round trips as outcomes in memory")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Backtest a strategy: fills at the next bar's open, the instrument's costs by default."""
    from tradecrew.research.backtest import Costs, get_strategy
    from tradecrew.research.backtest import backtest as run
    from tradecrew.research.backtest.data import load

    if engine not in ("kernel", "replay"):
        fail(f"--engine must be kernel or replay, got {engine!r}")
    params = parse_params(param)
    for name, value in (
        ("--commission", commission),
        ("--spread", spread),
        ("--slippage", slippage),
        ("--spread-ticks", spread_ticks),
        ("--slippage-ticks", slippage_ticks),
    ):
        if value is not None and not value >= 0:
            fail(f"{name} must be zero or more, got {value}")
    if not equity > 0:
        fail(f"--equity must be above zero, got {equity}")
    legs = {"stop_loss": stop_loss, "take_profit": take_profit}
    if any(v is not None for v in legs.values()) and engine != "replay":
        fail("--stop-loss and --take-profit need --engine replay (the venue works the legs)")
    # Replay-only options, passed through backtest()'s **replay_options.
    options: dict[str, Any] = {k: v for k, v in legs.items() if v is not None}
    with user_errors():
        strat = get_strategy(strategy)
        bars = load(symbol, timeframe, source, start, end)
        costs = Costs.from_instrument(
            bars.attrs.get("symbol") or symbol,
            commission=commission,
            spread=spread,
            slippage=slippage,
            spread_ticks=spread_ticks,
            slippage_ticks=slippage_ticks,
        )
        if (spread_ticks or slippage_ticks) and not costs.tick_size:
            fail(f"no tick size is known for {symbol}: give --spread/--slippage as fractions")
        result = run(
            bars,
            strat,
            params,
            costs=costs,
            engine=engine,  # type: ignore[arg-type]
            initial_equity=equity,
            **options,
        )
        (err_console if as_json else console).print(
            escape(costs.describe()), highlight=False, soft_wrap=True
        )
        if report is not None:
            from tradecrew.research.backtest.report import write_report

            others = [
                run(
                    bars,
                    name,
                    costs=costs,
                    engine=engine,  # type: ignore[arg-type]
                    initial_equity=equity,
                )
                for name in _COMPARE
                if name != result.strategy
            ]
            write_report(
                [result, *others],
                report,
                title=f"{result.symbol or symbol} {timeframe} backtest: {result.strategy}",
                synthetic=bool(bars.attrs.get("synthetic", False)),
            )
    if remember:
        from tradecrew.config import get_settings
        from tradecrew.desk.trade_memory import remember_backtest_trades

        with user_errors():
            stored = remember_backtest_trades(
                result.trade_list,
                result.symbol or symbol,
                get_settings(),
                strategy=result.strategy,
                bars=bars,
            )
        err_console.print(f"{len(stored)} backtest trade(s) remembered", highlight=False)
    if as_json:
        emit_json(result)
        return
    _show(result)
    if report is not None:
        console.print(f"report written to {escape(str(report))}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(backtest)
