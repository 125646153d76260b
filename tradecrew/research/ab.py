"""Champion/challenger on paper: the live configuration (champion) and a candidate (another
configuration version, or ``traditional``: the indicators alone) analyse the same bars in
shadow. Each side's hypothetical position and its return over the next bar are recorded per
bar; no second order flow exists.

The monitor (``check_and_rollback``, scheduled by ``tradecrew serve``) acts when the live
configuration does worse than the baseline it runs against: its Sharpe below
``components.ab.sharpe_fraction`` of the baseline's, or its drawdown deeper. It then turns
off the components whose contributions lost money (attribution from the fusion's
per-component contributions), or rolls the weights back to the previous version, records
why (a new audited version and the experiment's outcome), and alerts.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from tradecrew.ledger import ABExperiment, ABObservation
from tradecrew.ledger.config_records import MACHINE_CHANNEL
from tradecrew.models import Timeframe, utcnow
from tradecrew.research import ab_stats, configs
from tradecrew.research.ab_shadow import (
    TRADITIONAL,
    _challenger_content,
    observe,
)
from tradecrew.research.ab_stats import CI_METHOD, ArmStats, Comparison

if TYPE_CHECKING:
    from tradecrew.config import Settings
    from tradecrew.desk import Desk

MONITOR = "ab-monitor"
_log = logging.getLogger("tradecrew.research.ab")


class ABStatus(BaseModel):
    running: bool
    experiment: ABExperiment | None = None
    champion: ArmStats | None = Field(None, description="the live configuration")
    challenger: ArmStats | None = Field(None, description="the baseline it runs against")
    comparison: Comparison | None = None
    ci_method: str = CI_METHOD
    rule: str = ""
    breached: bool = False
    rejected_observations: int = Field(0, description="rows whose MAC failed: left out")
    message: str = ""


class ABCheck(BaseModel):
    """What one monitor pass did."""

    action: Literal["none", "observed", "disabled", "rolled_back", "alerted", "stopped"]
    experiment_id: str | None = None
    observed: int = 0
    version: int | None = Field(None, description="the configuration version made, if any")
    disabled: list[str] = Field(default_factory=list)
    message: str
    status: ABStatus | None = None


def _parse_challenger(value: str) -> str:
    text = value.strip().lower().removeprefix("v")
    if text == TRADITIONAL:
        return TRADITIONAL
    if not text.isdigit():
        raise ValueError(
            f"the challenger is a configuration version number or 'traditional', not {value!r}"
        )
    return str(int(text))


def start(
    desk: Desk,
    challenger: str,
    *,
    actor: str,
    symbols: list[str] | None = None,
    timeframe: str | None = None,
    since: datetime | None = None,
) -> ABExperiment:
    """Start shadowing the live configuration against ``challenger`` (a version or
    ``traditional``) from ``since`` (now by default: only bars closing from now on)."""
    challenger = _parse_challenger(challenger)
    active = desk.ledger.active_config()
    champion = 0 if active is None else active.version
    if challenger != TRADITIONAL:
        if int(challenger) == champion:
            raise ValueError(
                f"version {champion} is the live configuration; pick another "
                "version or 'traditional' as the challenger"
            )
        _challenger_content(desk, challenger)  # NotFound for a version that does not exist
    tf = Timeframe.parse(timeframe or desk.settings.timeframe)
    names = [s.strip().upper() for s in (symbols or desk.settings.symbols) if s.strip()]
    if not names:
        raise ValueError("an experiment needs at least one symbol")
    experiment = ABExperiment(
        champion=champion,
        challenger=challenger,
        symbols=names,
        timeframe=tf.value,
        started_by=actor,
        outcome={"since": (since or utcnow()).isoformat()},
    )
    return desk.ledger.start_experiment(experiment)


def stop(desk: Desk, *, actor: str, reason: str = "") -> ABExperiment:
    running = desk.ledger.running_experiment()
    if running is None:
        raise ValueError("no A/B experiment is running")
    final = status(desk)
    return desk.ledger.stop_experiment(
        running.id, actor, {**running.outcome, **_summary(final), "stopped": reason or "stopped"}
    )


def _summary(st: ABStatus) -> dict[str, Any]:
    return {
        "champion": st.champion.model_dump() if st.champion else None,
        "challenger": st.challenger.model_dump() if st.challenger else None,
        "breached": st.breached,
    }


# ------------------------------------------------------------------ status


def _series(observations: list[ABObservation]) -> tuple[np.ndarray, np.ndarray]:
    """Per bar time, the equal-weight mean over the symbols of each arm's return."""
    by_time: dict[datetime, list[ABObservation]] = {}
    for obs in observations:
        by_time.setdefault(obs.bar_time, []).append(obs)
    times = sorted(by_time)
    live = np.array([np.mean([o.champion_return for o in by_time[t]]) for t in times])
    base = np.array([np.mean([o.challenger_return for o in by_time[t]]) for t in times])
    return live, base


def _rule(settings: Settings) -> str:
    ab = settings.components.ab
    return (
        f"the monitor acts when the champion's (live) annualised Sharpe falls below "
        f"{ab.sharpe_fraction:g} of the challenger's (below {2 - ab.sharpe_fraction:g}x when the "
        f"challenger's is negative) or its max drawdown exceeds the challenger's, after "
        f"{ab.min_observations} bars"
    )


def breached(live: ArmStats, base: ArmStats, fraction: float) -> list[str]:
    """Why the live arm does worse than the baseline by the monitor's rule; [] if not."""
    why = []
    if live.sharpe is not None and base.sharpe is not None:
        floor = base.sharpe - (1.0 - fraction) * abs(base.sharpe)
        if live.sharpe < floor:
            why.append(
                f"Sharpe {live.sharpe:.2f} below {floor:.2f} ({fraction:g} of the "
                f"baseline's {base.sharpe:.2f})"
            )
    elif live.sharpe is None and base.sharpe is not None and base.sharpe > 0:
        why.append(f"no Sharpe (no variance) against the baseline's {base.sharpe:.2f}")
    if live.max_drawdown > base.max_drawdown + 1e-12:
        why.append(
            f"max drawdown {live.max_drawdown:.2%} beyond the baseline's {base.max_drawdown:.2%}"
        )
    return why


def status(desk: Desk, experiment: ABExperiment | None = None) -> ABStatus:
    """The running (or latest) experiment with both arms' statistics and CIs."""
    experiment = experiment or desk.ledger.running_experiment() or desk.ledger.latest_experiment()
    rule = _rule(desk.settings)
    if experiment is None:
        return ABStatus(running=False, rule=rule, message="no A/B experiment has been started")
    seen, bad = desk.ledger.observations(experiment.id)
    live, base = _series(seen)
    tf = Timeframe.parse(experiment.timeframe)
    a, b, cmp = ab_stats.compare(
        live, base, ab_stats.periods_per_year(tf.minutes), desk.settings.components.ab.bootstrap
    )
    why = breached(a, b, desk.settings.components.ab.sharpe_fraction)
    return ABStatus(
        running=experiment.status == "running",
        experiment=experiment,
        champion=a,
        challenger=b,
        comparison=cmp,
        rule=rule,
        breached=bool(why) and a.observations >= desk.settings.components.ab.min_observations,
        rejected_observations=bad,
        message="; ".join(why) if why else "the champion holds against the challenger",
    )


# ------------------------------------------------------------------ the monitor


def _hurting(observations: list[ABObservation], settings: Settings) -> list[str]:
    """Components whose contributions lost money in the live arm, worst first; never one
    the risk gate reads (turning it off would loosen a limit)."""
    totals: dict[str, float] = {}
    for obs in observations:
        for name, value in obs.attribution.items():
            totals[name] = totals.get(name, 0.0) + value
    view = {c.name: c for c in configs.component_states(settings)}
    return [
        name
        for name, total in sorted(totals.items(), key=lambda kv: kv[1])
        if total < 0 and name in view and view[name].enabled and not view[name].risk_gate
    ]


def alert(desk: Desk, subject: str, text: str) -> None:
    """The monitor's single alert call site: logged, and sent through the desk's alert
    dispatcher (``tradecrew.alerts``) when there is one; an alert never undoes the action."""
    _log.warning("%s: %s", subject, text)
    try:
        from tradecrew.alerts import AlertEvent, AlertKind, Severity, send
    except ImportError:
        return
    event = AlertEvent(
        kind=AlertKind.LIMIT_BREACH,
        title=subject[:200],
        text=text[:3000],
        severity=Severity.WARNING,
        key=f"ab-monitor:{subject}"[:200],
    )
    dispatcher = getattr(desk, "alerts", None)
    try:
        if dispatcher is not None and callable(getattr(dispatcher, "send", None)):
            dispatcher.send(event)
        else:
            send(event)
    except Exception as exc:  # a channel down must not undo the rollback it reports
        _log.warning("alert not sent: %s", type(exc).__name__)


def check_and_rollback(desk: Desk) -> ABCheck:
    """One monitor pass: record new shadow bars, then act if the live configuration does
    worse than its baseline by the rule (see ``ABStatus.rule``)."""
    experiment = desk.ledger.running_experiment()
    if experiment is None:
        return ABCheck(action="none", message="no A/B experiment is running")
    active = desk.ledger.active_config()
    live_now = 0 if active is None else active.version
    if live_now != experiment.champion:
        desk.ledger.stop_experiment(
            experiment.id,
            MONITOR,
            {
                **experiment.outcome,
                "stopped": f"the live configuration is now version "
                f"{live_now}, not the champion {experiment.champion}",
            },
        )
        return ABCheck(
            action="stopped",
            experiment_id=experiment.id,
            message=f"experiment stopped: the live configuration changed to version {live_now}",
        )
    added = observe(desk, experiment)
    st = status(desk, experiment)
    base = ABCheck(
        action="observed" if added else "none",
        experiment_id=experiment.id,
        observed=added,
        message=st.message,
        status=st,
    )
    if not st.breached or st.champion is None or st.challenger is None:
        return base
    if not desk.settings.components.ab.enabled:
        return base.model_copy(
            update={"message": f"{st.message}; the monitor is off (components.ab.enabled)"}
        )
    seen, _ = desk.ledger.observations(experiment.id)
    return _act(desk, experiment, active, st, seen, added)


def _act(
    desk: Desk,
    experiment: ABExperiment,
    active: Any,
    st: ABStatus,
    seen: list[ABObservation],
    added: int,
) -> ABCheck:
    why = (
        f"A/B {experiment.id}: champion v{experiment.champion} vs {experiment.challenger}: "
        f"{st.message}"
    )
    evidence = {"experiment": experiment.id, **_summary(st), "ci_method": CI_METHOD}
    settings = desk.settings
    hurting = _hurting(seen, configs.active_settings(settings, desk.ledger)[0])
    prefer_rollback = active is not None and active.kind == "automl"
    check: ABCheck | None = None
    if hurting and not prefer_rollback:
        try:
            made = configs.adopt(
                desk.ledger,
                settings,
                disable=tuple(hurting),
                kind="monitor",
                actor=MONITOR,
                channel=MACHINE_CHANNEL,
                reason=f"{why}; disabled {', '.join(hurting)}",
                evidence=evidence,
            )
            check = ABCheck(
                action="disabled",
                version=made.version,
                disabled=hurting,
                message=f"disabled {', '.join(hurting)} (version {made.version}): {st.message}",
            )
        except ValueError:
            check = None  # turning them all off would leave no vote: roll back instead
    if check is None and active is not None:
        change = configs.rollback(
            desk.ledger,
            settings,
            actor=MONITOR,
            channel=MACHINE_CHANNEL,
            reason=f"{why}; rolled back",
        )
        check = ABCheck(
            action="rolled_back", version=change.version, message=f"{change.message}: {st.message}"
        )
    if check is None:
        check = ABCheck(action="alerted", message=f"nothing to roll back or turn off: {st.message}")
    outcome = {
        **experiment.outcome,
        **evidence,
        "action": check.action,
        "version": check.version,
        "disabled": check.disabled,
        "reason": why,
    }
    desk.ledger.stop_experiment(experiment.id, MONITOR, outcome)
    alert(desk, f"A/B monitor {check.action} ({experiment.id})", f"{check.message} ({why})")
    return check.model_copy(
        update={"experiment_id": experiment.id, "observed": added, "status": st}
    )
