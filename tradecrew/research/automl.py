"""AutoML as the seed plans: after every ``components.automl.every_n_trades`` closed trades
(``run_if_due``, scheduled by ``tradecrew serve``) or on demand (``tradecrew automl run``),
a tuning run proposes new fusion weights; they are adopted only if they pass the overfitting
guards, recorded in the ledger with their evidence (a new configuration version, and the run
itself), and reversible (``rollback``). An adoption starts an A/B experiment of the new
version against the one before, so the monitor rolls it back if it does worse live.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from tradecrew.ledger import RunRecord, RunStatus
from tradecrew.ledger.config_records import MACHINE_CHANNEL
from tradecrew.models import Side, Timeframe
from tradecrew.research import configs

if TYPE_CHECKING:
    from tradecrew.desk import Desk

RUN_KIND = "automl"
ACTOR = "automl"
STRATEGY = "hybrid"
#: Bars each symbol is tuned on (the most recent).
BARS = 2000
Tuner = Callable[..., Any]


class AutoMLCandidate(BaseModel):
    """One symbol's tuning result and its guard verdict."""

    symbol: str
    study_name: str
    trials: int
    oos_sharpe: float | None
    dsr: float | None
    pbo: float | None
    trades: int
    passed: bool
    reasons: list[str] = Field(default_factory=list)
    weights: dict[str, float] = Field(default_factory=dict)
    neutral_band: float | None = None


class AutoMLOutcome(BaseModel):
    run_id: str
    trigger: Literal["trades", "demand"]
    closed_trades: int
    adopted: bool
    version: int | None = Field(None, description="the configuration version adopted")
    previous: int | None = None
    experiment_id: str | None = Field(None, description="the A/B experiment it started")
    candidates: list[AutoMLCandidate] = Field(default_factory=list)
    message: str


def closed_trades(desk: Desk) -> int:
    """Fills that reduced or closed a position on the desk's broker: one closed trade each."""
    held: dict[str, float] = {}
    count = 0
    fills = sorted(desk.ledger.fills(broker=desk.broker.name), key=lambda f: f.timestamp)
    for fill in fills:
        signed = fill.quantity if fill.side is Side.BUY else -fill.quantity
        before = held.get(fill.symbol, 0.0)
        if before and (before > 0) != (signed > 0):
            count += 1
        held[fill.symbol] = before + signed
    return count


def history(desk: Desk, limit: int = 20) -> list[RunRecord]:
    """AutoML runs, newest first, with their evidence in ``summary``."""
    return desk.ledger.runs_of_kind(RUN_KIND, limit)


def run_if_due(desk: Desk) -> AutoMLOutcome | None:
    """A tuning run when AutoML is on and ``every_n_trades`` trades closed since the last
    run; None otherwise."""
    cfg = desk.settings.components.automl
    if not cfg.enabled:
        return None
    closed = closed_trades(desk)
    runs = desk.ledger.runs_of_kind(RUN_KIND, 1)
    last = int(runs[0].detail.get("closed_trades", 0)) if runs else 0
    if closed - last < cfg.every_n_trades:
        return None
    return run(desk, trigger="trades", actor=ACTOR, channel=MACHINE_CHANNEL)


def _default_tuner() -> Tuner:
    from tradecrew.research.tuning import optimize

    return optimize


def adoptable_space() -> dict[str, Any]:
    """What AutoML tunes: only what a configuration version adopts from it (the fusion
    weights and the entry threshold), so the guards judge exactly the configuration adopted;
    the hybrid's component thresholds are tuned by ``tradecrew optimize``, not adopted here."""
    from tradecrew.research.spaces import default_space

    space = default_space(STRATEGY)
    return {k: v for k, v in space.items() if k.startswith("w_") or k == "threshold"}


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _candidate(symbol: str, study: str, result: Any) -> AutoMLCandidate:
    """What a tuning result says, read through its documented fields; no guard report means
    not passed (fail closed)."""
    report = getattr(result, "guard_report", None)
    params = dict(getattr(result, "best_params", {}) or {})
    oos = getattr(result, "oos", None)
    sharpe = _number(getattr(result, "oos_sharpe", None))
    if sharpe is None and oos is not None:
        sharpe = _number(getattr(oos, "sharpe", None))
    weights = {
        k[2:]: float(v) for k, v in params.items() if k.startswith("w_") and _number(v) is not None
    }
    band = _number(params.get("threshold"))
    reasons = list(getattr(report, "reasons", []) or []) if report is not None else []
    passed = bool(getattr(report, "passed", False))
    if report is None:
        reasons.append("the tuning result carries no guard report")
    if passed and not weights:
        passed, reasons = False, [*reasons, "the tuned parameters hold no fusion weights"]
    return AutoMLCandidate(
        symbol=symbol,
        study_name=str(getattr(result, "study_name", None) or study),
        trials=int(getattr(result, "n_trials", 0) or 0),
        oos_sharpe=sharpe,
        dsr=_number(getattr(report, "dsr", None)),
        pbo=_number(getattr(report, "pbo", None)),
        trades=int(getattr(report, "trades", 0) or 0),
        passed=passed,
        reasons=reasons,
        weights=weights,
        neutral_band=band if band is not None and 0 <= band <= 1 else None,
    )


def run(
    desk: Desk,
    symbols: list[str] | None = None,
    *,
    actor: str,
    channel: str,
    trigger: Literal["trades", "demand"] = "demand",
    n_trials: int | None = None,
    timeout: float | None = None,
    seed: int | None = None,
    tuner: Tuner | None = None,
) -> AutoMLOutcome:
    """Tune the hybrid strategy's fusion weights on each symbol; adopt the best result that
    passes the guards (highest out-of-sample Sharpe), or nothing."""
    from tradecrew.tools.catalog import load_bars

    cfg = desk.settings.components.automl
    names = [s.strip().upper() for s in (symbols or desk.settings.symbols) if s.strip()]
    if not names:
        raise ValueError("AutoML needs at least one symbol")
    tf = Timeframe.parse(desk.settings.timeframe)
    closed = closed_trades(desk)
    record = desk.ledger.start_run(
        RUN_KIND,
        {"trigger": trigger, "symbols": names, "closed_trades": closed, "actor": actor},
        actor=actor,
    )
    try:
        tune = tuner or _default_tuner()
        candidates = []
        for symbol in names:
            bars = load_bars(symbol, tf, desk.source or desk.settings.data_source, None, BARS)
            study = re.sub(r"[^A-Za-z0-9._-]", "-", f"automl-{record.id}-{symbol}")
            result = tune(
                bars,
                STRATEGY,
                space=adoptable_space(),
                n_trials=n_trials or cfg.n_trials,
                timeout=timeout or cfg.timeout_seconds,
                seed=seed,
                study_name=study,
                guard_settings=desk.settings,
            )
            candidates.append(_candidate(symbol, study, result))
        outcome = _adopt(desk, record.id, trigger, closed, candidates, actor, channel)
    except BaseException as exc:
        desk.ledger.finish_run(record.id, RunStatus.FAILED, {}, error=str(exc)[:500], actor=actor)
        raise
    desk.ledger.finish_run(
        record.id, RunStatus.SUCCEEDED, outcome.model_dump(mode="json"), actor=actor
    )
    return outcome


def _adopt(
    desk: Desk,
    run_id: str,
    trigger: Literal["trades", "demand"],
    closed: int,
    candidates: list[AutoMLCandidate],
    actor: str,
    channel: str,
) -> AutoMLOutcome:
    passing = [c for c in candidates if c.passed]
    if not passing:
        why = "; ".join(f"{c.symbol}: {', '.join(c.reasons) or 'not passed'}" for c in candidates)
        return AutoMLOutcome(
            run_id=run_id,
            trigger=trigger,
            closed_trades=closed,
            adopted=False,
            candidates=candidates,
            message=f"no tuned weights passed the guards; nothing adopted ({why})",
        )
    best = max(passing, key=lambda c: c.oos_sharpe if c.oos_sharpe is not None else -math.inf)
    active = desk.ledger.active_config()
    previous = 0 if active is None else active.version
    evidence = {
        "run_id": run_id,
        "study_name": best.study_name,
        "symbol": best.symbol,
        "trials": best.trials,
        "oos_sharpe": best.oos_sharpe,
        "dsr": best.dsr,
        "pbo": best.pbo,
        "trades": best.trades,
    }
    made = configs.adopt(
        desk.ledger,
        desk.settings,
        weights=best.weights,
        neutral_band=best.neutral_band,
        kind="automl",
        actor=actor,
        channel=channel,
        reason=f"AutoML run {run_id} ({trigger}): tuned on {best.symbol}, passed the guards",
        evidence=evidence,
    )
    experiment = _watch(desk, made.version, previous, actor)
    return AutoMLOutcome(
        run_id=run_id,
        trigger=trigger,
        closed_trades=closed,
        adopted=True,
        version=made.version,
        previous=previous,
        experiment_id=experiment,
        candidates=candidates,
        message=f"adopted version {made.version} (was {previous}); the A/B monitor watches it "
        f"against version {previous}",
    )


def _watch(desk: Desk, version: int, previous: int, actor: str) -> str | None:
    """Start the A/B experiment of the adopted version against the one before (stopping a
    running one: it compared a configuration no longer live)."""
    from tradecrew.research import ab

    running = desk.ledger.running_experiment()
    if running is not None:
        desk.ledger.stop_experiment(
            running.id, actor, {**running.outcome, "stopped": f"AutoML adopted v{version}"}
        )
    return ab.start(desk, str(previous), actor=actor).id
