"""``tradecrew walkforward`` and ``tradecrew optimize``: out-of-sample evidence and tuning
judged by the overfitting guards. Progress of long runs goes to stderr."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from tradecrew.cli.common import SourceOpt, console, emit_json, fail, user_errors

_STRATEGY_HELP = "sma_cross, traditional, hybrid or path/to/file.py:ClassName"


def _progress(message: str) -> None:
    """One line per finished window or trial on stderr (module level: workers pickle it)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.2f} %"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(
        f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


def _show_windows(windows: list[Any]) -> None:
    table = Table(title="windows (performance = test columns only)")
    for col in (
        "#",
        "train",
        "test from",
        "Sharpe",
        "return",
        "max DD",
        "trades",
        "params",
    ):
        table.add_column(col, no_wrap=col != "params")
    for w in windows:
        table.add_row(
            str(w.index),
            str(w.train_bars),
            f"{w.test_start:%Y-%m-%d}",
            _num(w.test_sharpe),
            _pct(w.test_return),
            _pct(w.test_max_drawdown),
            str(w.test_trades),
            escape(_params_text(w.params)),
        )
    console.print(table)


def _show_oos(oos: Any) -> None:
    console.print(
        f"out-of-sample: {oos.bars} bars, {oos.trades} trades, total return "
        f"{_pct(oos.total_return)}, annual {_pct(oos.annual_return)}, Sharpe {_num(oos.sharpe)}, "
        f"max drawdown {_pct(oos.max_drawdown)}, score {oos.score:.3f}",
        highlight=False,
    )


def _check_counts(**values: int | None) -> None:
    for name, value in values.items():
        if value is not None and value < 1:
            fail(f"--{name} must be at least 1, got {value}")


def walkforward(
    symbols: Annotated[list[str], typer.Argument(help="one or more symbols", metavar="SYMBOL...")],
    source: SourceOpt = None,
    timeframe: Annotated[str, typer.Option("--timeframe", "-t")] = "D1",
    strategy: Annotated[str, typer.Option("--strategy", help=_STRATEGY_HELP)] = "sma_cross",
    param: Annotated[list[str] | None, typer.Option("--param", help="fixed parameter k=v")] = None,
    train: Annotated[int | None, typer.Option("--train", help="training bars per window")] = None,
    test: Annotated[int | None, typer.Option("--test", help="test bars per window")] = None,
    anchored: Annotated[bool, typer.Option("--anchored", help="training grows from bar 0")] = False,
    grid: Annotated[
        list[str] | None, typer.Option("--grid", help="tune per window over k=a,b,c (sweep)")
    ] = None,
    space: Annotated[
        list[str] | None, typer.Option("--space", help="tune per window over k=low:high (optuna)")
    ] = None,
    window_trials: Annotated[int, typer.Option("--window-trials", help="optuna trials")] = 30,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first date (UTC)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last date, inclusive (UTC)")] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", help="processes (default: every core for many symbols)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Walk-forward: tune (optionally) on each training window, report only the test windows."""
    from tradecrew.cli.backtest import parse_params
    from tradecrew.research.spaces import grid_from_specs, parse_space
    from tradecrew.research.walkforward import default_windows

    _check_counts(train=train, test=test, jobs=jobs, window_trials=window_trials)
    if grid and space:
        fail("give --grid or --space, not both")
    fixed = parse_params(param)
    with user_errors():
        tuning: Any = fixed
        if grid:
            tuning = grid_from_specs(grid, fixed)
        elif space:
            if fixed:
                fail("--param fixes parameters; with --space every tuned one comes from the space")
            tuning = parse_space(space)
        from tradecrew.research.backtest import get_strategy
        from tradecrew.research.backtest.data import load

        get_strategy(strategy)  # an unknown strategy fails before any data is read
        names = list(dict.fromkeys(s.strip() for s in symbols if s.strip()))
        if not names:
            fail("give at least one symbol")
        data = {"timeframe": timeframe, "source": source, "start": start, "end": end}
        if len(names) == 1:
            bars = load(names[0], timeframe, source, start, end)
            tr, te = default_windows(len(bars), train, test)
            results = [
                _walk(
                    bars,
                    strategy,
                    tuning,
                    tr,
                    te,
                    anchored,
                    window_trials,
                    seed,
                    jobs or 1,
                    progress=bool(grid or space),
                )
            ]
        else:
            from tradecrew.research.scale import walk_forward_many

            # The first symbol's bars size default windows; given sizes need no extra read.
            sized = train is not None and test is not None
            n = 0 if sized else len(load(names[0], timeframe, source, start, end))
            tr, te = default_windows(n, train, test)
            results = walk_forward_many(
                names,
                strategy,
                tuning,
                data=data,
                jobs=jobs,
                train=tr,
                test=te,
                anchored=anchored,
                window_trials=window_trials,
                seed=seed,
            )
    if as_json:
        emit_json(results[0] if len(results) == 1 else results)
        return
    for res in results:
        kind = "anchored" if res.anchored else "rolling"
        how = (
            f"tuned per window over {res.configurations} sets" if res.tuned else "fixed parameters"
        )
        console.print(
            f"[bold]{escape(res.symbol or '')}[/] {res.strategy}: {kind} walk-forward, train "
            f"{res.train} / test {res.test} bars, {len(res.windows)} windows, {how}"
        )
        _show_windows(res.windows)
        _show_oos(res.oos)


def _walk(
    bars: Any,
    strategy: str,
    tuning: Any,
    train: int,
    test: int,
    anchored: bool,
    trials: int,
    seed: int | None,
    jobs: int,
    *,
    progress: bool,
) -> Any:
    from tradecrew.research.walkforward import walk_forward

    def show(win: Any) -> None:
        _progress(
            f"window {win.index}: test {win.test_start:%Y-%m-%d}..{win.test_end:%Y-%m-%d} "
            f"Sharpe {_num(win.test_sharpe)}"
        )

    return walk_forward(
        bars,
        strategy,
        tuning,
        train=train,
        test=test,
        anchored=anchored,
        window_trials=trials,
        seed=seed,
        jobs=jobs,
        on_window=show if progress else None,
    )


def optimize(
    symbol: Annotated[str, typer.Argument(help="symbol or alias")],
    source: SourceOpt = None,
    timeframe: Annotated[str | None, typer.Option("--timeframe", "-t")] = None,
    strategy: Annotated[str | None, typer.Option("--strategy", help=_STRATEGY_HELP)] = None,
    trials: Annotated[int | None, typer.Option("--trials", help="trials of this worker")] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="seconds (default 300)")
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="TPE seed (reproducible alone)")
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage", help="memory, journal[:PATH], sqlite:///PATH, postgresql+psycopg://..."
        ),
    ] = None,
    study: Annotated[str | None, typer.Option("--study", help="name: create or resume")] = None,
    join: Annotated[str | None, typer.Option("--join", help="name of a study to work on")] = None,
    jobs: Annotated[int, typer.Option("--jobs", help="worker processes on this machine")] = 1,
    train: Annotated[int | None, typer.Option("--train", help="training bars per window")] = None,
    test: Annotated[int | None, typer.Option("--test", help="test bars per window")] = None,
    anchored: Annotated[bool, typer.Option("--anchored")] = False,
    space: Annotated[list[str] | None, typer.Option("--space", help="k=low:high or k=a,b")] = None,
    start: Annotated[str | None, typer.Option("--from", help="first date (UTC)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="last date, inclusive (UTC)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tune a strategy with optuna on walk-forward out-of-sample Sharpe; judge it by the guards.

    Nothing is adopted: the result and its guard report are printed."""
    from tradecrew.cli.tuning_join import pinned_settings

    _check_counts(trials=trials, jobs=jobs, train=train, test=test)
    if timeout is not None and not timeout > 0:
        fail(f"--timeout must be above 0 seconds, got {timeout}")
    if study and join:
        fail("give --study NAME to start or resume a study, or --join NAME, not both")
    with user_errors():
        from tradecrew.config import get_settings
        from tradecrew.research.backtest.data import load
        from tradecrew.research.spaces import ParamRange, parse_space
        from tradecrew.research.tuning import optimize as run

        settings = get_settings()
        home = settings.ensure_home() if (study or join or storage) else None
        chosen = pinned_settings(
            join,
            storage,
            home,
            strategy=strategy,
            timeframe=timeframe,
            source=source,
            train=train,
            test=test,
            anchored=anchored,
            start=start,
            end=end,
            space=parse_space(space) if space else None,
        )
        bars = load(symbol, chosen["timeframe"], chosen["source"], chosen["start"], chosen["end"])
        result = run(
            bars,
            chosen["strategy"],
            space={k: ParamRange.model_validate(v) for k, v in chosen["space"].items()}
            if chosen["space"]
            else None,
            n_trials=trials or settings.research.optimize_trials,
            timeout=timeout or settings.research.optimize_timeout_seconds,
            seed=seed,
            storage=storage,
            study_name=join or study,
            join=bool(join),
            jobs=jobs,
            train=chosen["train"],
            test=chosen["test"],
            anchored=chosen["anchored"],
            home=home,
            guard_settings=settings.research.guards,
            extra_attrs={"timeframe": chosen["timeframe"], "source": chosen["source"] or "default"},
            progress=_progress,
        )
    if as_json:
        emit_json(result)
        return
    _show_result(result, symbol)


def _show_result(result: Any, symbol: str) -> None:
    console.print(
        f"study [bold]{escape(result.study_name)}[/] ({escape(result.storage)}): "
        f"{result.n_trials} trials ({result.n_complete} complete, {result.n_pruned} pruned, "
        f"{result.n_failed} failed), {result.trials_this_run} scored here in "
        f"{result.elapsed_seconds:.1f} s",
        highlight=False,
    )
    console.print(f"best parameters: {escape(_params_text(result.best_params))}", highlight=False)
    _show_windows(result.windows)
    _show_oos(result.oos)
    g = result.guard_report
    verdict = "[green]PASSED[/]" if g.passed else "[red]NOT passed[/]"
    pbo = "n/a" if g.pbo is None else f"{g.pbo:.3f}"
    console.print(
        f"guards {verdict}: deflated Sharpe {g.dsr:.3f} (min {g.min_dsr}), PBO {pbo} "
        f"(max {g.max_pbo}), trades {g.trades} (min {g.min_trades}), {g.n_trials} trials"
    )
    for reason in g.reasons:
        console.print(f"  - {escape(reason)}", highlight=False)
    console.print("nothing adopted: adopting tuned weights is AutoML's decision, with the guards")
    if result.storage != "memory":
        hidden = " (put the password where *** shows)" if "***" in result.storage else ""
        console.print(
            f"more workers: tradecrew optimize {escape(symbol)} --join {escape(result.study_name)} "
            f"--storage '{escape(result.storage)}'{hidden}",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("walkforward")(walkforward)
    app.command("optimize")(optimize)
