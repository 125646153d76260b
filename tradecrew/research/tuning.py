"""Tuning that does not fool itself: optuna over a strategy's parameters (the fused
strategies' ``w_<component>`` weights and entry threshold, ``sma_cross``'s windows, a user
strategy's own space), each trial scored by its walk-forward out-of-sample Sharpe minus a
drawdown penalty, and the winner judged by the overfitting guards.

TPE (seedable) samples, the median pruner stops trials whose running out-of-sample score
trails the others', every trial counts in the deflated Sharpe ratio. Studies live in memory,
a journal file, SQLite or PostgreSQL (``tradecrew.research.studies``); workers in other
processes or on other machines join one study by name. Nothing is adopted here: a result
carries its guard report, and adopting weights is the caller's decision.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradecrew.research.guards import GuardReport, check_guards
from tradecrew.research.spaces import (
    ParamRange,
    ParamValue,
    Space,
    default_space,
    space_from_strategy,
    space_json,
    suggest,
)
from tradecrew.research.studies import (
    StorageSpec,
    check_study_name,
    load_study,
    open_study,
    progress_callback,
    resolve_storage,
    worker_seed,
)
from tradecrew.research.walkforward import (
    OOSMetrics,
    WindowResult,
    default_windows,
    iter_windows,
    oos_metrics,
    window_bounds,
)

if TYPE_CHECKING:
    import optuna

__all__ = ["TuningResult", "default_windows", "optimize"]

Progress = Callable[[str], None]
# Intermediate values a trial reports for pruning.
_REPORTS = 4


class TuningResult(BaseModel):
    """The best parameters of a study, their out-of-sample record and the guards' verdict."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    study_name: str
    storage: str = Field(description="where the study lives (no password)")
    symbol: str | None
    strategy: str
    train: int
    test: int
    anchored: bool
    best_params: dict[str, ParamValue]
    best_value: float = Field(description="out-of-sample score: Sharpe minus drawdown penalty")
    oos: OOSMetrics
    windows: list[WindowResult]
    guard_report: GuardReport
    n_trials: int = Field(description="finished trials of the study, every worker's")
    n_complete: int
    n_pruned: int
    n_failed: int
    trials_this_run: int
    elapsed_seconds: float
    best_returns: pd.Series = Field(exclude=True, repr=False)


class _Run:
    """One worker's view: the bars, what is tuned, and the records of trials it scored."""

    def __init__(
        self,
        bars: pd.DataFrame,
        strategy: Any,
        space: Space,
        train: int,
        test: int,
        anchored: bool,
        kw: dict[str, Any],
    ) -> None:
        self.bars, self.strategy, self.space = bars, strategy, space
        self.train, self.test, self.anchored, self.kw = train, test, anchored, kw
        self.records: dict[int, tuple[np.ndarray, int]] = {}

    def windows(self, params: Mapping[str, ParamValue]) -> Any:
        return iter_windows(
            self.bars,
            self.strategy,
            params,
            train=self.train,
            test=self.test,
            anchored=self.anchored,
            **self.kw,
        )

    def objective(self, trial: optuna.Trial) -> float:
        import optuna

        from tradecrew.research.backtest import StrategyError

        params = suggest(trial, self.space)
        pieces: list[pd.Series] = []
        trades = 0
        n_windows = len(window_bounds(len(self.bars), self.train, self.test, self.anchored))
        # A persistent storage writes (and syncs) every report: about four per trial suffice
        # for the median pruner, at the same steps in every trial.
        stride = max(1, -(-n_windows // _REPORTS))
        try:
            for step, (win, rets) in enumerate(self.windows(params)):
                pieces.append(rets)
                trades += win.test_trades
                if step % stride or step == n_windows - 1:
                    continue
                trial.report(oos_metrics(pd.concat(pieces), trades).score, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        except StrategyError as exc:  # an invalid combination (fast >= slow): not a score
            raise optuna.TrialPruned(str(exc)) from None
        returns = pd.concat(pieces)
        self.records[trial.number] = (returns.to_numpy(), trades)
        return oos_metrics(returns, trades).score

    def record(self, params: Mapping[str, ParamValue]) -> tuple[pd.Series, int, list[WindowResult]]:
        out = list(self.windows(params))
        returns = pd.concat([r for _, r in out])
        return returns, sum(w.test_trades for w, _ in out), [w for w, _ in out]


def _optimize_worker(
    run: _Run,
    spec: StorageSpec,
    name: str,
    seed: int | None,
    join: bool,
    attrs: dict[str, Any],
    n_trials: int,
    timeout: float | None,
    progress: Progress | None,
) -> tuple[optuna.Study, dict[int, tuple[np.ndarray, int]]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(spec, name, seed, join, attrs)
    callbacks = [progress_callback(progress, n_trials)] if progress else None
    study.optimize(run.objective, n_trials=n_trials, timeout=timeout, callbacks=callbacks)
    return study, run.records


def _records_of_worker(*args: Any) -> dict[int, tuple[np.ndarray, int]]:
    from tradecrew.research.scale import portable

    return portable(_optimize_worker, *args)[1]  # a study does not cross processes


def optimize(
    bars: pd.DataFrame,
    strategy: Any = "sma_cross",
    *,
    space: Mapping[str, ParamRange] | None = None,
    n_trials: int = 100,
    timeout: float | None = 300.0,
    seed: int | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    objective: str = "oos_sharpe",
    train: int | None = None,
    test: int | None = None,
    anchored: bool = False,
    join: bool = False,
    jobs: int = 1,
    home: Path | None = None,
    guard_settings: Any = None,
    extra_attrs: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    **backtest_kw: Any,
) -> TuningResult:
    """Tune ``strategy`` on ``bars`` and judge the best result with the guards.

    Each trial is one parameter set scored walk-forward (``train``/``test`` bars per window)
    on its out-of-sample Sharpe minus the drawdown penalty. ``storage``/``study_name``/``join``
    place the study (see ``tradecrew.research.studies``); ``jobs`` runs that many worker
    processes on one study. ``guard_settings`` is the guards section or the desk's Settings.
    """
    from tradecrew.research.backtest import get_strategy, prepare_bars

    if objective != "oos_sharpe":
        raise ValueError(f"unknown objective {objective!r}; the objective is oos_sharpe")
    if n_trials < 1 or jobs < 1:
        raise ValueError("--trials and --jobs must be at least 1")
    if timeout is not None and not timeout > 0:
        raise ValueError(f"--timeout must be above 0 seconds, got {timeout}")
    started = time.perf_counter()
    strat = get_strategy(strategy)
    chosen = dict(space) if space else (space_from_strategy(strat) or default_space(strat.name))
    attrs_in = dict(getattr(bars, "attrs", {}) or {})
    frame = prepare_bars(bars)
    frame.attrs.update(attrs_in)
    symbol = backtest_kw.get("symbol") or attrs_in.get("symbol")
    if symbol:
        backtest_kw["symbol"] = symbol
    tr, te = default_windows(len(frame), train, test)
    # Through the API a study stays in memory unless told otherwise; the CLI passes ``home``
    # so that a named study goes to the default journal file there.
    spec = resolve_storage(storage, home, named=home is not None and (bool(study_name) or join))
    if guard_settings is None:
        from tradecrew.config import get_settings

        guard_settings = get_settings().research.guards
    name = (
        check_study_name(study_name) if study_name else f"tradecrew-{os.getpid()}-{time.time_ns()}"
    )
    if join and not study_name:
        raise ValueError("--join needs the study's name")
    attrs = {
        "symbol": symbol,
        "strategy": strat.name,
        "train": tr,
        "test": te,
        "anchored": anchored,
        "space": space_json(chosen),
        "bars": len(frame),
        "first": str(frame.index[0]),
        "last": str(frame.index[-1]),
        **dict(extra_attrs or {}),
    }
    run = _Run(
        frame,
        strategy if isinstance(strategy, str) else strat,
        chosen,
        tr,
        te,
        anchored,
        backtest_kw,
    )
    window_bounds(len(frame), tr, te, anchored)  # too few bars fail before a study exists
    if jobs == 1:
        study_seed = worker_seed(seed, 0, join)
        study, records = _optimize_worker(
            run, spec, name, study_seed, join, attrs, n_trials, timeout, progress
        )
        return _summarise(run, study, spec, records, guard_settings, started)
    import shutil
    import tempfile

    # Worker processes share an in-memory study through a journal file that lives as long
    # as the run.
    tmp = None if spec.shared else Path(tempfile.mkdtemp(prefix="tradecrew-study-"))
    try:
        if tmp is not None:
            spec = StorageSpec(kind="journal", url=str(tmp / "study.journal"), shown="memory")
        records = _parallel(run, spec, name, seed, join, attrs, n_trials, timeout, jobs, progress)
        return _summarise(
            run, load_study(spec, name, None, None), spec, records, guard_settings, started
        )
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _parallel(
    run: _Run,
    spec: StorageSpec,
    name: str,
    seed: int | None,
    join: bool,
    attrs: dict[str, Any],
    n_trials: int,
    timeout: float | None,
    jobs: int,
    progress: Progress | None,
) -> dict[int, tuple[np.ndarray, int]]:
    from concurrent.futures import ProcessPoolExecutor

    # The study is created once here, so the workers all join the same one.
    open_study(spec, name, seed, join, attrs)
    shares = [n_trials // jobs + (1 if i < n_trials % jobs else 0) for i in range(jobs)]
    try:
        pickle.dumps(progress)
    except Exception:  # a lambda or closure cannot reach a worker process: no progress
        progress = None
    records: dict[int, tuple[np.ndarray, int]] = {}
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(
                _records_of_worker,
                run,
                spec,
                name,
                worker_seed(seed, i, join),
                True,
                attrs,
                share,
                timeout,
                progress,
            )
            for i, share in enumerate(shares)
            if share
        ]
        for fut in futures:
            records.update(fut.result())
    return records


def _summarise(
    run: _Run,
    study: optuna.Study,
    spec: StorageSpec,
    records: dict[int, tuple[np.ndarray, int]],
    guard_settings: Any,
    started: float,
) -> TuningResult:
    from optuna.trial import TrialState

    here = len(records)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    pruned = sum(t.state == TrialState.PRUNED for t in trials)
    failed = sum(t.state == TrialState.FAIL for t in trials)
    if not complete:
        raise ValueError(
            f"no trial completed ({pruned} pruned, {failed} failed): give more --trials or "
            "--timeout, or a space where the strategy's parameters are valid"
        )
    best = max(complete, key=lambda t: float(t.value if t.value is not None else -np.inf))
    columns = []
    for t in complete:
        # Trials another worker scored are scored again here: the guards need every one.
        if t.number not in records:
            rets, trades, _ = run.record(t.params)
            records[t.number] = (rets.to_numpy(), trades)
        columns.append(records[t.number][0])
    best_returns, best_trades, windows = run.record(best.params)
    report = check_guards(
        best_returns.to_numpy(),
        np.column_stack(columns),
        best_trades,
        settings=guard_settings,
        n_trials=len(complete) + pruned + failed,
    )
    return TuningResult(
        study_name=study.study_name,
        storage=spec.shown,
        symbol=run.kw.get("symbol"),
        strategy=str(study.user_attrs.get("strategy", "")),
        train=run.train,
        test=run.test,
        anchored=run.anchored,
        best_params=dict(best.params),
        best_value=float(best.value or 0.0),
        oos=oos_metrics(best_returns, best_trades),
        windows=windows,
        guard_report=report,
        n_trials=len(complete) + pruned + failed,
        n_complete=len(complete),
        n_pruned=pruned,
        n_failed=failed,
        trials_this_run=here,
        elapsed_seconds=time.perf_counter() - started,
        best_returns=best_returns,
    )
